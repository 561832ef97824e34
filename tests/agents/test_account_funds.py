"""Equity measured from the real simulated broker, and the account's cash checked with the caps
in the Risk Guard's one locked step (real threads)."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seeker.agents.account import measure
from seeker.agents.risk_guard import Caps, RiskGuard
from seeker.config.loading import validate_config
from seeker.core.calendar import MARKET_TZ
from seeker.core.execution import combo_mid, combo_natural
from seeker.core.journal import read_jsonl
from seeker.core.models import ComboOrder, DataUnavailable, Leg, OrderStatus
from seeker.engine.wiring import build_sim_services
from seeker.strategies.iron_condor import IronCondor
from tests.support import ROOT, shipped, strategy_config_models

WIDE = Caps(1e9, 1e9, 1e9, 1e9, 1e9)


def _services(tmp_path: Path) -> Any:
    cfg = validate_config(shipped(), strategy_config_models(), ROOT / "config")
    services = build_sim_services(cfg, tmp_path, days=5, emit=lambda _m: None)
    services.broker.on_time(datetime(2026, 1, 5, 10, 30, tzinfo=MARKET_TZ))
    return services


def _condor(services: Any, listing: str = "XLF") -> tuple[tuple[Leg, ...], list[Any]]:
    b = services.broker
    expiry = next(e for e in b.expiries(listing) if (e - services.clock.now().date()).days > 35)
    spot = b.underlying_quote(listing).mid
    chain = b.option_chain(listing, [expiry], (spot * 0.8, spot * 1.2))
    puts = [q for q in chain.side(expiry, "P") if q.contract.strike < spot * 0.95]
    calls = [q for q in chain.side(expiry, "C") if q.contract.strike > spot * 1.05]
    quotes = [puts[-1], puts[-2], calls[0], calls[1]]
    actions = ("SELL", "BUY", "SELL", "BUY")
    return tuple(Leg(q.contract, a) for q, a in zip(quotes, actions, strict=True)), quotes


def test_equity_is_cash_plus_positions_at_mid_and_the_natural(tmp_path: Path) -> None:
    services = _services(tmp_path)
    b = services.broker
    now = services.clock.now()
    before = services.account.figures(now)
    assert before.equity == before.cash == before.cash_for_risk == 1000.0
    assert before.contracts == 0
    legs, quotes = _condor(services)
    natural = combo_natural(legs, quotes)
    state = b.place_order(ComboOrder("seeker:t:p1:open", "XLF", legs, 2, natural))
    assert state.status == OrderStatus.FILLED
    commission = state.fills[0].commission
    figures = measure(b, services.listings, services.to_capital, "USD", now, 120.0)
    assert figures.contracts == 4
    assert figures.cash == pytest.approx(1000.0 - state.avg_fill_price * 200 - commission)
    # the cash with no position open: what was paid in commissions is gone, the credit is not ours
    assert figures.cash_for_risk == pytest.approx(1000.0 - commission)
    # positions at mid: minus what buying the condor back at mid would cost
    close = tuple(leg.reversed() for leg in legs)
    assert figures.positions_mid == pytest.approx(-combo_mid(close, quotes) * 200)
    assert figures.positions_natural == pytest.approx(-combo_natural(close, quotes) * 200)
    assert figures.equity_natural < figures.equity < figures.cash
    # the broker's own net liquidation (at mid, in the base currency CAD, at the market's USD.CAD
    # rather than the quote's mid) says the same
    usd_cad = b.fx_quote("USD.CAD").mid
    assert b.account().net_liquidation == pytest.approx(figures.equity * usd_cad, rel=1e-5)
    # the watch reuses one measurement while time, cash and positions are the same
    assert services.account.figures(now) is services.account.figures(now)


def test_the_watch_measures_again_when_a_fill_changes_the_account_within_a_time(
    tmp_path: Path,
) -> None:
    services = _services(tmp_path)
    b, watch = services.broker, services.account
    now = services.clock.now()
    legs, quotes = _condor(services)
    natural = combo_natural(legs, quotes)
    assert watch.figures(now).contracts == 0
    b.place_order(ComboOrder("seeker:t:p1:open", "XLF", legs, 1, natural))
    one = watch.figures(now)  # the same time: a fill changed cash and positions
    assert one.contracts == 4 and one.positions_mid != 0.0
    b.place_order(ComboOrder("seeker:t:p2:open", "XLF", legs, 1, natural))
    two = watch.figures(now)  # the same contracts, twice the quantity
    assert two.contracts == 4 and two.positions_mid == pytest.approx(2 * one.positions_mid)
    assert two == measure(b, services.listings, services.to_capital, "USD", now, 120.0)


def test_a_held_contract_without_a_quote_leaves_the_equity_unknown(tmp_path: Path) -> None:
    services = _services(tmp_path)
    b = services.broker
    legs, quotes = _condor(services)
    b.place_order(ComboOrder("seeker:t:p1:open", "XLF", legs, 1, combo_natural(legs, quotes)))
    late = services.clock.now().replace(hour=15)  # quotes of 10:30 are hours old by then
    with pytest.raises(DataUnavailable, match=r"cannot mark XLF.*old"):
        measure(b, services.listings, services.to_capital, "USD", late, 120.0)


def test_an_unknown_equity_is_journaled_when_its_problem_changes_not_its_figures(
    tmp_path: Path,
) -> None:
    """A stale quote's age grows every poll: one EQUITY line says the equity is unknown, and the
    next one comes when it is known again (or unknown for another reason)."""
    services = _services(tmp_path)
    b = services.broker
    legs, quotes = _condor(services)
    b.place_order(ComboOrder("seeker:t:p1:open", "XLF", legs, 1, combo_natural(legs, quotes)))
    watch = services.account
    for minute in (0, 5, 10):  # quotes of 10:30 are older at each poll
        assert watch.check(services.clock.now().replace(hour=15, minute=minute)) is None
    watch.flush()
    lines = [x for x in read_jsonl(tmp_path / "_seeker" / "account.jsonl") if x["equity"] is None]
    assert len(lines) == 1, lines
    assert "old" in lines[0]["problem"]
    assert "old" in (watch.entry_block("t", shadow=False) or "")  # the latest words, figures too


def test_entries_stopped_is_journaled_again_when_its_reason_changes(tmp_path: Path) -> None:
    """Paused by a person, then the equity unknown: two entries_stopped lines, one per reason; the
    figures of a reason changing (a quote's age) write none."""
    services = _services(tmp_path)
    cfg = validate_config(shipped(), strategy_config_models(), ROOT / "config")
    strategy = IronCondor(services, cfg.strategies.iron_condor)
    strategy.setup()
    allowed = strategy.interventions.entries_allowed
    services.account.pause(["iron_condor"], by="test", reason="lunch")
    assert not allowed() and not allowed()
    legs, quotes = _condor(services)
    services.broker.place_order(
        ComboOrder("seeker:t:p1:open", "XLF", legs, 1, combo_natural(legs, quotes))
    )
    for minute in (0, 5):  # the quotes of 10:30 are older at each poll
        services.account.check(services.clock.now().replace(hour=15, minute=minute))
        assert not allowed()
    risk = [x for x in read_jsonl(tmp_path / "iron_condor" / "risk_events.jsonl")]
    stopped = [x["detail"] for x in risk if x["rule"] == "entries_stopped"]
    assert len(stopped) == 2, stopped
    assert "lunch" in stopped[0] and "equity unknown" in stopped[1]


def test_a_refusal_for_cash_is_the_accounts_with_the_figures() -> None:
    guard = RiskGuard(WIDE)
    guard.set_clusters({"A": "c1", "B": "c2"})
    ok, qty = guard.reserve("p1", "s", "A", "A", "tech", [60.0], cash_for_risk=100.0)
    assert ok.allowed and qty == 1 and ok.agent == "risk_guard"
    no, qty = guard.reserve("p2", "s", "B", "B", "energy", [50.0], cash_for_risk=100.0)
    assert not no.allowed and qty == 0 and no.agent == "account"
    assert no.details["binding"] == "cash" and no.details["free"] == 40.0
    assert "cash: one unit risks 50.00 $" in no.reason and "40.00 $ free" in no.reason
    # the caps bind first when both would: the Risk Guard signs those
    guard.set_caps(Caps(30.0, 1e9, 1e9, 1e9, 1e9))
    capped, _ = guard.reserve("p3", "s", "B", "B", "energy", [50.0], cash_for_risk=100.0)
    assert capped.agent == "risk_guard" and capped.details["binding"] == "per_trade"
    # without the cash figure (shadow trading), only the caps count
    guard.set_caps(WIDE)
    free, _ = guard.reserve("p4", "s", "B", "B", "energy", [50.0])
    assert free.allowed


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=1.0, max_value=80.0), min_size=1, max_size=30),
    st.floats(min_value=50.0, max_value=500.0),
)
def test_racing_threads_never_hold_more_risk_than_the_cash(risks: list[float], cash: float) -> None:
    guard = RiskGuard(WIDE)
    guard.set_clusters({f"L{i}": f"c{i}" for i in range(len(risks))})
    barrier = threading.Barrier(len(risks))

    def reserve(i: int, risk: float) -> None:
        barrier.wait()
        guard.reserve(f"p{i}", "s", f"L{i}", f"L{i}", f"s{i}", [risk], cash_for_risk=cash)

    threads = [threading.Thread(target=reserve, args=(i, r)) for i, r in enumerate(risks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    held = sum(r.risk for r in guard.reservations())
    assert held <= cash + 1e-9
    # whatever was refused did not fit in what was left when it was tried: the smallest refused
    # risk is larger than the room that is left now
    refused = [r for i, r in enumerate(risks) if guard.held(f"p{i}") is None]
    if refused:
        assert min(refused) > cash - held - 1e-9
