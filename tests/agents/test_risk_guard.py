"""Risk Guard: the five caps, check-and-reserve under racing threads (hypothesis + real threads).

The race tests force thread switches inside the check-and-reserve step: the interpreter switches
threads every microsecond (``sys.setswitchinterval``) and the guard's test hook yields the GIL
between the check and the reservation (``time.sleep(0)``). With the guard's lock removed they
fail (see the README's figures); with it they cannot.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seeker.agents.risk_guard import EPS, Caps, RiskGuard

SPEC_CAPS = Caps.from_pcts(1000.0, 10.0, 25.0, 40.0, 50.0, 15.0)
LISTINGS = {
    # listing: (underlying, sector, cluster)
    "XLF": ("XLF", "financials", "fin"),
    "BAC": ("BAC", "financials", "fin"),
    "TD": ("TD", "financials", "fin"),
    "TD.TO": ("TD", "financials", "fin"),
    "XLE": ("XLE", "energy", "nrg"),
    "ENB": ("ENB", "energy", "nrg"),
    "ENB.TO": ("ENB", "energy", "nrg"),
    "GDX": ("GDX", "materials", "mat"),
    "IWM": ("IWM", "broad_market", "mkt"),
    "EEM": ("EEM", "emerging_markets", "mkt"),
}


def guard(caps: Caps = SPEC_CAPS, racing: bool = False) -> RiskGuard:
    g = RiskGuard(caps, between_check_and_reserve=yield_gil if racing else None)
    g.set_clusters({lid: c for lid, (_, _, c) in LISTINGS.items()})
    return g


def yield_gil() -> None:
    """Let another thread run right between the check and the reservation."""
    time.sleep(0)


@pytest.fixture
def fast_switches() -> Iterator[None]:
    """Make the interpreter switch threads every microsecond (instead of every 5 ms)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def reserve(g: RiskGuard, pid: str, lid: str, risks: list[float]) -> int:
    und, sector, _ = LISTINGS[lid]
    verdict, qty = g.reserve(pid, "s", lid, und, sector, risks)
    assert verdict.allowed == (qty > 0)
    return qty


def test_spec_caps_in_dollars() -> None:
    assert SPEC_CAPS.as_dict() == {
        "per_trade": 100.0,
        "portfolio": 250.0,
        "sector": 100.0,
        "cluster": 125.0,
        "underlying": 37.5,
    }


def test_each_cap_binds_and_is_named() -> None:
    g = guard(Caps(per_trade=100, portfolio=250, sector=100, cluster=125, underlying=50))
    v, q = g.reserve("p0", "s", "XLF", "XLF", "financials", [120.0])
    assert q == 0 and "per_trade" in v.reason
    assert reserve(g, "p1", "XLF", [45.0]) == 1
    v, q = g.reserve("p2", "s", "XLF", "XLF", "financials", [10.0])
    assert q == 0 and v.reason.startswith("underlying cap")
    assert reserve(g, "p3", "BAC", [45.0]) == 1
    v, q = g.reserve("p4", "s", "TD", "TD", "financials", [45.0])
    assert q == 0 and v.reason.startswith("sector cap")
    # TD and TD.TO are one underlying: their risk adds up under the underlying cap
    g2 = guard(Caps(per_trade=100, portfolio=250, sector=100, cluster=125, underlying=50))
    assert reserve(g2, "a", "TD", [30.0]) == 1
    v, q = g2.reserve("b", "s", "TD.TO", "TD", "financials", [30.0])
    assert q == 0 and v.reason.startswith("underlying cap")


def test_largest_quantity_that_fits_is_reserved() -> None:
    g = guard(Caps(per_trade=100, portfolio=250, sector=100, cluster=125, underlying=50))
    assert reserve(g, "p", "XLF", [20.0, 40.0, 60.0]) == 2
    assert g.held("p").risk == 40.0  # type: ignore[union-attr]


def test_unknown_cluster_refuses() -> None:
    g = RiskGuard(SPEC_CAPS)
    v, q = g.reserve("p", "s", "XLF", "XLF", "financials", [10.0])
    assert q == 0 and "cluster" in v.reason


def test_resize_only_shrinks_and_release_frees() -> None:
    g = guard()
    reserve(g, "p", "IWM", [30.0])
    g.resize("p", 10.0)
    assert g.exposure().total == 10.0
    try:
        g.resize("p", 20.0)
    except ValueError:
        pass
    else:
        raise AssertionError("a reservation grew")
    g.release("p")
    assert g.exposure().total == 0.0


def _check_caps(g: RiskGuard) -> None:
    assert g.violations() == []
    snap = g.exposure()
    assert snap.total <= g.caps.portfolio + EPS


ops = st.lists(
    st.tuples(
        st.sampled_from(sorted(LISTINGS)),
        st.floats(1.0, 120.0, allow_nan=False),
        st.sampled_from(["hold", "release", "shrink"]),
    ),
    min_size=1,
    max_size=60,
)


@pytest.mark.usefixtures("fast_switches")
@settings(max_examples=60, deadline=None)
@given(ops, st.integers(2, 6))
def test_racing_threads_never_pass_a_cap(
    plan: list[tuple[str, float, str]], n_threads: int
) -> None:
    """Real threads reserve, shrink and release concurrently; no cap is ever exceeded."""
    g = guard(racing=True)
    barrier = threading.Barrier(n_threads)
    errors: list[BaseException] = []
    observed: list[float] = []

    def worker(k: int) -> None:
        rnd = random.Random(k)
        try:
            barrier.wait()
            for i, (lid, risk, then) in enumerate(plan):
                pid = f"t{k}-{i}"
                if reserve(g, pid, lid, [risk]) and then != "hold":
                    if then == "release":
                        g.release(pid)
                    else:
                        g.resize(pid, risk * rnd.random())
                snap = g.exposure()
                observed.append(snap.total)
                _check_caps(g)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    _check_caps(g)
    assert max(observed) <= g.caps.portfolio + EPS


@pytest.mark.usefixtures("fast_switches")
def test_many_threads_racing_for_the_last_dollars() -> None:
    """Sixteen threads try to take the same last 50 $; exactly the caps' worth is granted."""
    caps = Caps(per_trade=100, portfolio=250, sector=250, cluster=250, underlying=250)
    g = guard(caps, racing=True)
    granted: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def worker(k: int) -> None:
        barrier.wait()
        for i in range(20):
            q = reserve(g, f"{k}-{i}", "IWM", [25.0])
            with lock:
                granted.append(q)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(granted) == 10  # 250 $ / 25 $
    assert abs(g.exposure().total - 250.0) < 1e-9
