"""Shared scan helpers: several delta targets picked over one pass are the single picks; the DTE
window compared as dates is the window of day counts."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from seeker.core.models import OptionContract, OptionQuote
from seeker.strategies.common.scan import in_dte_window, pick_by_delta, pick_by_deltas

TS = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)


def quote(strike: float, delta: float, bid: float) -> OptionQuote:
    c = OptionContract("XLF", date(2027, 1, 15), strike, "P")
    return OptionQuote(c, bid, bid + 0.02, 0.2, delta, 0.01, 0.05, -0.01, 100, 10, 47.0, TS)


deltas = st.one_of(st.floats(-0.6, 0.0), st.just(math.nan), st.sampled_from([-0.2, -0.25, -0.3]))
bids = st.sampled_from([0.0, 0.05, 0.5, math.nan])


@settings(max_examples=300)
@given(
    st.lists(st.tuples(deltas, bids), max_size=12),
    st.lists(st.floats(0.05, 0.45), min_size=1, max_size=3),
)
def test_pick_by_deltas_is_pick_by_delta_for_each_target(
    raw: list[tuple[float, float]], targets: list[float]
) -> None:
    quotes = [quote(40.0 + i, d, b) for i, (d, b) in enumerate(raw)]
    picks = pick_by_deltas(quotes, 0.15, 0.35, targets)
    assert picks == [pick_by_delta(quotes, 0.15, 0.35, t) for t in targets]
    for target, pick in zip(targets, picks, strict=True):
        assert pick is _reference_pick(quotes, 0.15, 0.35, target)


def _reference_pick(
    quotes: list[OptionQuote], lo: float, hi: float, target: float
) -> OptionQuote | None:
    """Return the pick as first written: one pass, finite |Δ| in band, a bid, nearest target."""
    best: OptionQuote | None = None
    best_gap = math.inf
    for q in quotes:
        d = abs(q.delta)
        if not math.isfinite(d) or not (lo <= d <= hi) or not (q.bid > 0):
            continue
        gap = abs(d - target)
        if gap < best_gap - 1e-12 or (
            abs(gap - best_gap) <= 1e-12
            and best is not None
            and q.contract.strike < best.contract.strike
        ):
            best, best_gap = q, gap
    return best


@settings(max_examples=300)
@given(
    st.lists(st.integers(-30, 800), max_size=40),
    st.integers(1, 730),
    st.integers(0, 400),
    st.dates(date(2020, 1, 1), date(2040, 12, 31)),
)
def test_in_dte_window_is_the_window_of_day_counts(
    offsets: list[int], lo: int, span: int, today: date
) -> None:
    expiries = [today + timedelta(days=d) for d in offsets]
    hi = lo + span
    assert in_dte_window(expiries, today, lo, hi) == [
        e for e in expiries if lo <= (e - today).days <= hi
    ]
