"""Rolls: one combo order (intent "roll") that buys a diagonal's short back and sells the next one.

The position book from journal lines (legs change only when the roll's fills cover every unit; a
partial roll strands units that must be closed), then the template through the real SimBroker:
the roll's ORDER / FILL lines, the broker's positions, a rebuilt book after a restart, a roll the
Risk Guard refuses, a partial roll, and a roll in shadow mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from seeker.agents.risk_guard import Reservation
from seeker.config.loading import validate_config
from seeker.core.execution import OrderPlan, ShadowExecutor, ceil_tick
from seeker.core.journal import read_events
from seeker.core.models import Leg, OptionContract, order_ref
from seeker.core.positions import PositionBook, leg_to_json
from seeker.engine.reconcile import mismatches
from seeker.engine.services import Services
from seeker.engine.signals import ExitSignal, PositionView
from seeker.engine.sizing import max_loss_by_qty
from seeker.engine.wiring import build_sim_services
from seeker.strategies.diagonal import Diagonal, risk, scanner
from tests.support import ROOT, shipped, strategy_config_models


def shipped_table() -> dict[str, Any]:
    """Return the shipped [strategies.diagonal] table of config/seeker.toml."""
    return dict(shipped()["strategies"]["diagonal"])


UNDERLYING = "F"
TS = "2026-03-02T10:30:00-05:00"


# -- the book ------------------------------------------------------------------------------------


def _c(expiry: str, strike: float, right: str = "C") -> OptionContract:
    from datetime import date

    return OptionContract("XLF", date.fromisoformat(expiry), strike, right)  # type: ignore[arg-type]


LONG = Leg(_c("2026-05-15", 51.5), "BUY")
SHORT = Leg(_c("2026-03-27", 51.5), "SELL")
NEW_SHORT = Leg(_c("2026-04-17", 51.5), "SELL")


def _leg_fill(leg: Leg, qty: int, price: float) -> dict[str, Any]:
    return {**leg_to_json(leg), "qty": qty, "price": price}


def _open_lines(qty: int) -> list[dict[str, Any]]:
    return [
        {
            "event": "ORDER",
            "ts": TS,
            "order_id": "dg-1.1",
            "position_id": "dg-1",
            "strategy": "diagonal",
            "intent": "open",
            "underlying": "XLF",
            "legs": [leg_to_json(LONG), leg_to_json(SHORT)],
            "qty": qty,
            "limit_price": 0.55,
            "max_loss": 57.6 * qty,
            "risk": 57.6 * qty,
            "sector": "financials",
            "cluster": "c1",
            "currency": "USD",
            "multiplier": 100,
        },
        {
            "event": "FILL",
            "ts": TS,
            "fill_id": "f1",
            "order_id": "dg-1.1",
            "intent": "open",
            "kind": "combo",
            "fill_price": 0.55,
            "qty": qty,
            "commission": 1.3 * qty,
            "legs": [_leg_fill(LONG, qty, 1.01), _leg_fill(SHORT, qty, 0.46)],
        },
    ]


def _roll_order(qty: int) -> dict[str, Any]:
    return {
        "event": "ORDER",
        "ts": TS,
        "order_id": "dg-1.2",
        "position_id": "dg-1",
        "strategy": "diagonal",
        "intent": "roll",
        "underlying": "XLF",
        "legs": [leg_to_json(SHORT.reversed()), leg_to_json(NEW_SHORT)],
        "new_legs": [leg_to_json(LONG), leg_to_json(NEW_SHORT)],
        "qty": qty,
        "limit_price": -0.30,
        "max_loss": 31.0 * qty,
        "risk": 31.0 * qty,
    }


def _roll_fill(fill_id: str, qty: int) -> dict[str, Any]:
    return {
        "event": "FILL",
        "ts": TS,
        "fill_id": fill_id,
        "order_id": "dg-1.2",
        "intent": "roll",
        "kind": "combo",
        "fill_price": -0.30,
        "qty": qty,
        "commission": 1.3,
        "exit_rule": "short_exit_dte",
        "legs": [_leg_fill(SHORT.reversed(), qty, 0.10), _leg_fill(NEW_SHORT, qty, 0.40)],
    }


def test_book_changes_legs_when_the_roll_fills() -> None:
    book = PositionBook()
    book.apply_all([*_open_lines(1), _roll_order(1)])
    pos = book.positions["dg-1"]
    assert pos.legs == (LONG, SHORT) and pos.leg_price(SHORT) == pytest.approx(0.46)
    assert pos.orders["dg-1.2"] == "roll"
    book.apply(_roll_fill("f2", 1))
    assert pos.legs == (LONG, NEW_SHORT) and pos.rolls == 1 and pos.open_qty == 1
    assert pos.entry_price == pytest.approx(0.55 - 0.30)  # the roll's credit lowers the cost
    assert (pos.max_loss_unit, pos.risk_unit) == (31.0, 31.0)
    assert pos.leg_price(NEW_SHORT) == pytest.approx(0.40)
    assert pos.commissions == pytest.approx(2.6)
    # a replay of the same lines (restart) gives the same book; a repeated fill is ignored
    again = PositionBook()
    again.apply_all([*_open_lines(1), _roll_order(1), _roll_fill("f2", 1), _roll_fill("f2", 1)])
    assert again.positions["dg-1"].legs == (LONG, NEW_SHORT)
    assert again.positions["dg-1"].entry_price == pytest.approx(0.25)


def test_book_keeps_the_legs_of_an_unfilled_roll() -> None:
    book = PositionBook()
    cancelled = {"event": "ORDER_STATUS", "ts": TS, "order_id": "dg-1.2", "status": "cancelled"}
    book.apply_all([*_open_lines(1), _roll_order(1), cancelled])
    pos = book.positions["dg-1"]
    assert pos.legs == (LONG, SHORT) and pos.rolls == 0 and pos.pending_legs is None
    assert "dg-1.2" not in book.working_orders()


def test_partial_roll_strands_units_until_they_are_closed() -> None:
    book = PositionBook()
    book.apply_all([*_open_lines(3), _roll_order(3), _roll_fill("f2", 1)])
    pos = book.positions["dg-1"]
    assert pos.legs == (LONG, SHORT) and pos.pending_legs == (LONG, NEW_SHORT)
    assert (pos.pending_qty, pos.stranded_qty) == (1, 2)
    # what the broker holds meanwhile: the long on every unit, each short on its own units
    assert pos.held_contracts() == {LONG.contract: 3, SHORT.contract: -2, NEW_SHORT.contract: -1}
    book.apply({"event": "ORDER_STATUS", "ts": TS, "order_id": "dg-1.2", "status": "cancelled"})
    assert pos.stranded_qty == 2
    close = {
        "event": "ORDER",
        "ts": TS,
        "order_id": "dg-1.3",
        "position_id": "dg-1",
        "intent": "close",
        "legs": [leg_to_json(LONG.reversed()), leg_to_json(SHORT.reversed())],
        "qty": 2,
        "limit_price": -0.4,
    }
    fill = {
        "event": "FILL",
        "ts": TS,
        "fill_id": "f3",
        "order_id": "dg-1.3",
        "intent": "close",
        "kind": "combo",
        "fill_price": -0.4,
        "qty": 2,
        "exit_rule": "roll_remainder",
    }
    book.apply_all([close, fill])
    assert pos.open_qty == 1 and pos.legs == (LONG, NEW_SHORT) and pos.rolls == 1
    assert pos.pending_legs is None and pos.stranded_qty == 0 and pos.status == "open"
    assert pos.held_contracts() == {LONG.contract: 1, NEW_SHORT.contract: -1}


# -- the template on the simulated market --------------------------------------------------------


def _services(tmp_path: Path, quantity: int = 1, shadow: bool = False) -> Services:
    data = shipped()
    table = shipped_table()
    table.update(underlyings=[UNDERLYING], quantity=quantity)
    data["strategies"]["diagonal"] = table
    data["strategies"]["enabled"] = ["diagonal"]
    cfg = validate_config(data, strategy_config_models(), ROOT / "config")
    return build_sim_services(cfg, tmp_path / "logs", days=60, emit=lambda _m: None, shadow=shadow)


class ForcedRoll(Diagonal):
    """A diagonal told (by the test) which roll to make at its next poll."""

    roll_to: tuple[Leg, ...] | None = None

    def exit_signal(self, view: PositionView) -> ExitSignal | None:
        if self.roll_to is None:
            return None
        legs, self.roll_to = self.roll_to, None
        return ExitSignal("short_exit_dte", view.position.open_qty, "test roll", roll_to=legs)


def _at(services: Services, day_offset: int) -> datetime:
    """Advance the simulated clock to 10:30 New York `day_offset` sessions later."""
    clock = services.clock
    for _ in range(day_offset):
        nxt = services.calendars.next_union_open(clock.now() + timedelta(hours=18))
        assert clock.sleep_until(nxt + timedelta(hours=1))
    return clock.now()


def _open_calendar(strategy: Diagonal, services: Services, qty: int) -> str:
    """Open a call calendar on the real market (marketable limit), reserving its risk."""
    now = _at(services, 1)
    listing = services.listings[UNDERLYING]
    chain = strategy.pipeline.chain(listing, now.date())
    rate = services.config.rates[listing.currency]
    setups, note = scanner.find_setups(
        strategy.config, strategy.name, listing, chain, now.date(), ["C", "P"], rate
    )
    assert setups, note
    setup = setups[0]
    strategy.guard.set_clusters({lid: lid for lid in services.listings})
    ladder = (ceil_tick(setup.natural),)
    max_loss = max_loss_by_qty(strategy.ctx, setup, listing, ladder[-1])[qty - 1]
    risk_ = services.to_capital(max_loss, listing.currency)
    pid = strategy.ids.position_id(now, commit=True)
    if qty == 1:
        verdict, _ = strategy.guard.reserve(
            pid, strategy.name, listing.listing_id, listing.symbol, listing.sector, [risk_]
        )
        assert verdict.allowed, verdict.reason
    else:  # several units exceed the caps of a 1 000 $ account: hold them without checks
        strategy.guard.restore(
            Reservation(
                pid, strategy.name, listing.listing_id, listing.symbol, listing.sector, risk_
            )
        )
    plan = OrderPlan(
        position_id=pid,
        order_id=f"{pid}.1",
        intent="open",
        listing_id=listing.listing_id,
        legs=setup.legs,
        qty=qty,
        ladder=ladder,
        cancel_when_done=True,
        fields={
            "max_loss": round(max_loss, 2),
            "risk": round(risk_, 4),
            "risk_currency": "USD",
            "sector": listing.sector,
            "cluster": listing.listing_id,
            "currency": listing.currency,
            "symbol": listing.symbol,
            "multiplier": listing.multiplier,
            "reason": setup.label,
            "mid": round(setup.mid, 4),
            "natural": round(setup.natural, 4),
            "meta": {"kind": setup.kind, "label": setup.label, **dict(setup.features)},
        },
    )
    strategy.executor.work(plan)
    assert strategy.book.positions[pid].open_qty == qty
    return pid


def _next_short(services: Services, long: Leg, short: Leg, strike: float) -> Leg:
    """Return a SELL of `strike` on the first listed expiry after the short (before the long)."""
    expiry = min(
        e
        for e in services.broker.expiries(UNDERLYING)
        if short.contract.expiry < e < long.contract.expiry
    )
    contract = OptionContract(UNDERLYING, expiry, strike, short.contract.right)
    assert services.broker.option_quotes([contract]), "the next short must be listed"
    return Leg(contract, "SELL")


@pytest.fixture
def rolled(tmp_path: Path) -> Iterator[tuple[Path, str, tuple[Leg, ...], float]]:
    """Open a calendar, roll its short to the next expiry at the same strike, stop."""
    services = _services(tmp_path)
    strategy = ForcedRoll(services, services.config.strategies.diagonal)
    strategy.setup()
    pid = _open_calendar(strategy, services, 1)
    pos = strategy.book.positions[pid]
    long, short = risk.long_leg(pos.legs), risk.short_leg(pos.legs)
    _at(services, 6)  # a roll at the same strike that fits the held risk on this market
    new_short = _next_short(services, long, short, long.contract.strike)
    strategy.roll_to = (long, new_short)
    strategy.poll_once()
    assert pos.legs == (long, new_short), read_events(tmp_path / "logs" / "diagonal", ["RISK"])
    held = strategy.guard.held(pid)
    assert held is not None
    assert mismatches(tmp_path / "logs", ["diagonal"], services.broker) == []
    services.broker.close()
    services.close_journals()
    yield tmp_path / "logs", pid, (long, new_short), held.risk


def test_roll_is_one_combo_order_journaled_with_the_new_legs(
    rolled: tuple[Path, str, tuple[Leg, ...], float],
) -> None:
    logs, pid, new_legs, _ = rolled
    folder = logs / "diagonal"
    long, new_short = new_legs
    orders = [o for o in read_events(folder, ["ORDER"]) if o["position_id"] == pid]
    assert [o["intent"] for o in orders] == ["open", "roll"]
    roll = orders[1]
    assert roll["order_ref"] == order_ref("diagonal", pid, "roll")
    old_short = next(leg for leg in orders[0]["legs"] if leg["action"] == "SELL")
    assert roll["legs"] == [{**old_short, "action": "BUY"}, leg_to_json(new_short)]
    assert roll["new_legs"] == [leg_to_json(long), leg_to_json(new_short)]
    assert roll["exit_rule"] == "short_exit_dte" and roll["risk"] <= roll["held_risk"] + 1e-4
    fills = [f for f in read_events(folder, ["FILL"]) if f["order_id"] == roll["order_id"]]
    assert sum(f["qty"] for f in fills) == 1 and all(f["intent"] == "roll" for f in fills)
    assert {(leg["action"], leg["expiry"]) for leg in fills[0]["legs"]} == {
        ("BUY", old_short["expiry"]),
        ("SELL", new_short.contract.expiry.isoformat()),
    }
    statuses = [
        s["status"]
        for s in read_events(folder, ["ORDER_STATUS"])
        if s["order_id"] == roll["order_id"]
    ]
    assert statuses[-1] == "filled"


def test_restart_rebuilds_the_rolled_legs_and_their_risk(
    tmp_path: Path, rolled: tuple[Path, str, tuple[Leg, ...], float]
) -> None:
    logs, pid, new_legs, held_risk = rolled
    data = shipped()
    table = shipped_table()
    table.update(underlyings=[UNDERLYING])
    data["strategies"]["diagonal"] = table
    cfg = validate_config(data, strategy_config_models(), ROOT / "config")
    services = build_sim_services(cfg, logs, days=5, emit=lambda _m: None)
    try:
        strategy = Diagonal(services, cfg.strategies.diagonal)
        strategy.setup()
        pos = strategy.book.positions[pid]
        assert pos.legs == new_legs and pos.rolls == 1 and pos.open_qty == 1
        held = strategy.guard.held(pid)
        assert held is not None and held.risk == pytest.approx(held_risk, abs=1e-3)
        assert mismatches(logs, ["diagonal"], services.broker) == []
    finally:
        services.broker.close()
        services.close_journals()


def test_roll_that_would_need_more_risk_is_refused_and_the_position_closed(
    tmp_path: Path,
) -> None:
    services = _services(tmp_path)
    strategy = ForcedRoll(services, services.config.strategies.diagonal)
    strategy.setup()
    pid = _open_calendar(strategy, services, 1)
    pos = strategy.book.positions[pid]
    long, short = risk.long_leg(pos.legs), risk.short_leg(pos.legs)
    _at(services, 3)
    # a short 1 $ inside the long (a call below it, a put above it): the long would sit 1 $
    # further out of the money, adding 100 $ to the worst loss
    inside = long.contract.strike + (-1.0 if long.contract.right == "C" else 1.0)
    strategy.roll_to = (long, _next_short(services, long, short, inside))
    strategy.poll_once()
    folder = tmp_path / "logs" / "diagonal"
    refused = [r for r in read_events(folder, ["RISK"]) if r["rule"] == "roll_refused"]
    assert len(refused) == 1 and "more than the risk it holds" in refused[0]["detail"]
    intents = [o["intent"] for o in read_events(folder, ["ORDER"]) if o["position_id"] == pid]
    assert intents == ["open", "close"]
    assert pos.status == "closed" and strategy.guard.held(pid) is None
    assert mismatches(tmp_path / "logs", ["diagonal"], services.broker) == []
    services.broker.close()
    services.close_journals()


class PartialRolls(ShadowExecutor):
    """A shadow executor whose rolls fill one unit, then are cancelled (a partial fill)."""

    def work(self, plan: OrderPlan) -> Any:
        if plan.intent != "roll":
            return super().work(plan)
        ref = order_ref(self.strategy, plan.position_id, plan.intent)
        self.on_line(
            self.journal.write(
                "ORDER",
                order_id=plan.order_id,
                order_ref=ref,
                strategy=self.strategy,
                position_id=plan.position_id,
                intent=plan.intent,
                underlying=plan.listing_id,
                legs=[leg_to_json(leg) for leg in plan.legs],
                qty=plan.qty,
                limit_price=plan.ladder[0],
                ladder=list(plan.ladder),
                **plan.fields,
            )
        )
        self.on_line(
            self.journal.write(
                "FILL",
                fill_id=f"{plan.order_id}.partial",
                order_id=plan.order_id,
                position_id=plan.position_id,
                intent="roll",
                kind="combo",
                fill_price=plan.ladder[-1],
                qty=1,
                commission=1.3,
                exit_rule=plan.fields.get("exit_rule"),
            )
        )
        self._status(plan, "cancelled", filled=1, remaining=plan.qty - 1, reason="test")
        return None


def test_partial_roll_closes_the_units_it_could_not_roll(tmp_path: Path) -> None:
    services = _services(tmp_path, quantity=3, shadow=True)
    strategy = ForcedRoll(services, services.config.strategies.diagonal)
    strategy.ctx.executor = PartialRolls(
        strategy.name,
        services.broker,
        services.clock,
        strategy.journal,
        1.0,
        strategy.book.apply,
        strategy._plan_commission,
    )
    strategy.setup()
    pid = _open_calendar(strategy, services, 3)
    pos = strategy.book.positions[pid]
    long, short = risk.long_leg(pos.legs), risk.short_leg(pos.legs)
    _at(services, 5)
    new_short = _next_short(services, long, short, long.contract.strike)
    strategy.roll_to = (long, new_short)
    strategy.poll_once()
    folder = tmp_path / "logs" / "diagonal.shadow"
    orders = [o for o in read_events(folder, ["ORDER"]) if o["position_id"] == pid]
    assert [(o["intent"], o["qty"]) for o in orders] == [("open", 3), ("roll", 3), ("close", 2)]
    assert orders[2]["exit_rule"] == "roll_remainder"
    assert [leg["action"] for leg in orders[2]["legs"]] == ["SELL", "BUY"]  # the old legs
    assert pos.open_qty == 1 and pos.legs == (long, new_short) and pos.pending_legs is None
    held = strategy.guard.held(pid)
    assert held is not None and held.risk == pytest.approx(pos.risk_unit, abs=1e-3)
    services.broker.close()
    services.close_journals()


def test_shadow_roll_fills_whole_with_leg_prices(tmp_path: Path) -> None:
    services = _services(tmp_path, shadow=True)
    strategy = ForcedRoll(services, services.config.strategies.diagonal)
    strategy.setup()
    pid = _open_calendar(strategy, services, 1)
    pos = strategy.book.positions[pid]
    long, short = risk.long_leg(pos.legs), risk.short_leg(pos.legs)
    assert pos.leg_price(short) > 0  # shadow fills carry each leg's assumed price
    _at(services, 5)
    new_short = _next_short(services, long, short, long.contract.strike)
    strategy.roll_to = (long, new_short)
    strategy.poll_once()
    assert pos.legs == (long, new_short) and pos.rolls == 1
    fills = read_events(tmp_path / "logs" / "diagonal.shadow", ["FILL"])
    roll = [f for f in fills if f["intent"] == "roll"]
    assert len(roll) == 1 and roll[0]["shadow"] and len(roll[0]["legs"]) == 2
    net = sum((1 if leg["action"] == "BUY" else -1) * leg["price"] for leg in roll[0]["legs"])
    assert net == pytest.approx(roll[0]["fill_price"], abs=1e-3)
    assert pos.leg_price(new_short) > 0
    services.broker.close()
    services.close_journals()
