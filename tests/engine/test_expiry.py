"""Positions whose options expired while nobody managed them (Seeker stopped, or in shadow mode)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from seeker.config.loading import validate_config
from seeker.core.execution import OrderPlan, ceil_tick
from seeker.core.journal import read_events
from seeker.engine.reconcile import mismatches
from seeker.engine.services import Services
from seeker.engine.wiring import build_sim_services
from seeker.strategies.diagonal import Diagonal
from seeker.strategies.iron_condor import IronCondor
from tests.engine.test_roll import _at, _open_calendar
from tests.engine.test_roll import _services as diagonal_services
from tests.support import ROOT, condor_legs, shipped, strategy_config_models

LISTING = "XLF"


def _services(logs: Path, shadow: bool = False) -> Services:
    cfg = validate_config(shipped(), strategy_config_models(), ROOT / "config")
    return build_sim_services(cfg, logs, days=40, emit=lambda _m: None, shadow=shadow)


def _open_condor(strategy: IronCondor, services: Services) -> tuple[str, date]:
    """Open a one-lot iron condor on the first expiry 10+ days out, at a marketable limit."""
    now = _at(services, 1)
    broker = services.broker
    listing = services.listings[LISTING]
    expiry = next(e for e in broker.expiries(LISTING) if (e - now.date()).days >= 10)
    spot = broker.underlying_quote(LISTING).mid
    chain = broker.option_chain(LISTING, [expiry], (spot * 0.8, spot * 1.2))
    legs = condor_legs(chain, expiry, spot, 0.03)
    quotes = {q.contract: q for q in chain.quotes}
    natural = sum(
        quotes[leg.contract].ask if leg.action == "BUY" else -quotes[leg.contract].bid
        for leg in legs
    )
    pid = strategy.ids.position_id(now, commit=True)
    strategy.guard.set_clusters({lid: lid for lid in services.listings})
    verdict, _ = strategy.guard.reserve(
        pid, strategy.name, LISTING, listing.symbol, listing.sector, [45.2]
    )
    assert verdict.allowed, verdict.reason
    plan = OrderPlan(
        position_id=pid,
        order_id=f"{pid}.1",
        intent="open",
        listing_id=LISTING,
        legs=legs,
        qty=1,
        ladder=(ceil_tick(natural),),
        cancel_when_done=True,
        fields={
            "max_loss": 45.2,
            "risk": 45.2,
            "risk_currency": "USD",
            "sector": listing.sector,
            "cluster": LISTING,
            "currency": listing.currency,
            "symbol": listing.symbol,
            "multiplier": listing.multiplier,
            "natural": round(natural, 4),
        },
    )
    strategy.executor.work(plan)
    assert strategy.book.positions[pid].open_qty == 1
    return pid, expiry


def _past(services: Services, day: date) -> None:
    """Advance the simulated clock to the first session of the listing's exchange after `day`."""
    calendar = services.listings[LISTING].calendar
    now = services.clock.now()
    while now.date() <= day or not services.calendars.is_open(calendar, now):
        now = _at(services, 1)


def test_an_expired_condor_is_closed_at_the_brokers_settlement(tmp_path: Path) -> None:
    """The broker settled it at the expiry close: one FILL at intrinsic, risk released."""
    logs = tmp_path / "logs"
    services = _services(logs)
    try:
        strategy = IronCondor(services, services.config.strategies.iron_condor)
        strategy.setup()
        pid, expiry = _open_condor(strategy, services)
        _past(services, expiry)  # nobody manages the position through its expiry
        services.reconcile("test")  # the journal holds the legs, the broker no longer does
        assert services.blocked_underlyings
        strategy.manager.manage(services.clock.now())
        pos = strategy.book.positions[pid]
        assert pos.status == "closed" and pos.exit_rule == "expiry"
        close = services.broker.market.close_price(LISTING, expiry)
        intrinsic = {
            leg.contract: max(close - leg.contract.strike, 0.0)
            if leg.contract.right == "C"
            else max(leg.contract.strike - close, 0.0)
            for leg in pos.legs
        }
        folder = logs / "iron_condor"
        (fill,) = [f for f in read_events(folder, ["FILL"]) if f["intent"] == "close"]
        assert fill["exit_rule"] == "expiry" and fill["commission"] == 0.0
        want = sum(-leg.sign * intrinsic[leg.contract] for leg in pos.legs)
        assert fill["fill_price"] == pytest.approx(want, abs=1e-4)
        assert strategy.guard.held(pid) is None
        (post,) = read_events(folder, ["POST_TRADE"])
        assert post["exit_rule"] == "expiry" and post["pnl"] == pytest.approx(pos.realized_pnl())
        assert mismatches(logs, ["iron_condor"], services.broker) == []
        assert not services.blocked_underlyings  # the settlement re-reconciled
        cash_before = services.broker.account().cash  # a restart replays the settlement
    finally:
        services.broker.close()
        services.close_journals()
    again = _services(logs)
    try:
        restarted = IronCondor(again, again.config.strategies.iron_condor)
        restarted.setup()
        assert restarted.book.positions[pid].status == "closed"
        assert restarted.guard.held(pid) is None
        assert again.broker.account().cash == cash_before
        assert again.reconcile("restart") == []
    finally:
        again.broker.close()
        again.close_journals()


def test_a_half_expired_diagonal_stays_open_and_says_why(tmp_path: Path) -> None:
    """The short leg expired while the long lives: nothing is closed, a RISK line once a day."""
    services = diagonal_services(tmp_path)
    try:
        strategy = Diagonal(services, services.config.strategies.diagonal)
        strategy.setup()
        pid = _open_calendar(strategy, services, 1)
        pos = strategy.book.positions[pid]
        short_expiry = min(leg.contract.expiry for leg in pos.legs)
        _past(services, short_expiry)
        now = services.clock.now()
        strategy.manager.manage(now)
        strategy.manager.manage(now)  # a second poll the same day says nothing new
        risks = [
            r
            for r in read_events(tmp_path / "logs" / "diagonal", ["RISK"])
            if r["rule"] == "expired_unsettled"
        ]
        assert len(risks) == 1 and "1 of 2 legs expired" in risks[0]["detail"]
        assert pos.status == "open" and pos.open_qty == 1
        assert strategy.guard.held(pid) is not None  # its risk stays reserved
    finally:
        services.broker.close()
        services.close_journals()


def test_shadow_mode_says_which_real_positions_nobody_manages(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    services = _services(logs)
    try:
        real = IronCondor(services, services.config.strategies.iron_condor)
        real.setup()
        pid, _ = _open_condor(real, services)
    finally:
        services.broker.close()
        services.close_journals()
    shadow = _services(logs, shadow=True)
    try:
        strategy = IronCondor(shadow, shadow.config.strategies.iron_condor)
        strategy.setup()
        (line,) = read_events(logs / "iron_condor.shadow", ["RISK"])
        assert line["rule"] == "unmanaged_in_shadow" and pid in line["detail"]
    finally:
        shadow.broker.close()
        shadow.close_journals()
