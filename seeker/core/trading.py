"""OptionStrategy: the cycle every risk-defined option strategy shares.

A strategy package supplies its scanner (``scan``: setups for one underlying) and its exit rules
(``exit_signal``); this template does the rest, identically for all of them:

1. manage open positions: price them from fresh quotes, ask the exit rules, close (or roll) through
   Execution;
2. entries: for each underlying in the entry window, the scanner proposes setups; each setup goes
   through the vetoes (Liquidity, then the Risk Guard which reserves its risk) and the first that
   passes is sent. One DECISION line per setup considered, with features, verdicts and reason.

Missing data anywhere ends in ``no_trade`` with ``blocked_by: "data"`` and the reason; nothing is
ever guessed.

Rolls: an exit signal with ``roll_to`` (the position's legs after the roll) is executed as ONE
combo order with intent ``roll`` that closes the legs it drops and opens the legs it adds, priced
from fresh quotes along the usual ladder (mid → natural). Before it is sent, the worst loss of the
structure after the roll (``structure_worst_loss`` at the cumulative net debit, with every
commission) must fit the risk the position holds in the Risk Guard: a reservation never grows
through a roll, so a roll that would need more is refused (RISK ``roll_refused``) and the position
is closed instead. A roll of several units that fills for only some is all-or-nothing per unit: the
remainder is cancelled and the units left on the old legs are closed at once (rule
``roll_remainder``), so the position is again one structure.
"""

from __future__ import annotations

import math
import traceback
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from seeker.agents.confidence import Confidence, ConfidenceInputs, confidence
from seeker.agents.critic import CriticConfig, critique, rank
from seeker.agents.fx_router import VenueCandidate
from seeker.agents.liquidity import check_liquidity
from seeker.agents.regime import Regime
from seeker.agents.risk_guard import Reservation
from seeker.agents.selection import select
from seeker.agents.verdict import BlockedBy, Verdict
from seeker.core.base import Strategy
from seeker.core.broker import ConnectionState
from seeker.core.execution import (
    Executor,
    OrderPlan,
    ShadowExecutor,
    combo_mid,
    combo_natural,
    price_ladder,
)
from seeker.core.journal import SHADOW_SUFFIX, read_events
from seeker.core.models import (
    Chain,
    DataUnavailable,
    Leg,
    Listing,
    OptionContract,
    OptionQuote,
    order_ref,
)
from seeker.core.payoff import worst_loss_at_expiry
from seeker.core.positions import Position, PositionBook, leg_from_json, leg_to_json
from seeker.core.structures import Setup, is_monthly, pick_expiry

CHAIN_SIGMAS = 2.0
"""Half-width of a chain request in standard deviations of the underlying at the last expiry."""


@dataclass(frozen=True)
class PositionView:
    """A position priced now: what the exit rules look at."""

    position: Position
    now: datetime
    spot: float
    dte: int
    quotes: Mapping[OptionContract, OptionQuote]
    close_mid: float
    close_natural: float

    @property
    def pnl_unit(self) -> float:
        """Return the open P&L per unit if closed at mid ($ per share)."""
        return -(self.position.entry_price + self.close_mid)

    @property
    def credit(self) -> float:
        """Return the opening credit per unit ($ per share)."""
        return self.position.credit

    def quote(self, contract: OptionContract) -> OptionQuote:
        """Return the quote of one leg."""
        return self.quotes[contract]


@dataclass(frozen=True)
class PublishedPosition:
    """What a supervisor may read of one open position (immutable, made by its strategy)."""

    position_id: str
    listing_id: str
    kind: str
    label: str
    qty: int
    currency: str
    sector: str
    cluster: str
    entry_price: float
    opened_at: datetime | None
    expiry: date
    dte: int | None
    spot: float | None
    pnl_unit: float | None
    pnl: float | None
    max_loss: float
    regime: str | None
    iv_rank: float | None
    width: float | None
    manage_dte: int
    confidence: Confidence | None


@dataclass(frozen=True)
class StrategyView:
    """A strategy's state as published after each poll (read by the dashboard and status)."""

    name: str
    state: str
    shadow: bool
    last_poll: datetime | None
    positions: tuple[PublishedPosition, ...]
    entries_today: int
    max_open_positions: int
    error: str | None


@dataclass(frozen=True)
class ExitSignal:
    """An exit rule that fired: which rule, how many units, how urgently, and why.

    `limit` is the worst net debit per unit the close (or roll) may pay (a take-profit never pays
    more than its target); None means up to the natural price. `roll_to`, when given, asks for a
    roll instead of a close: the position's legs after the roll (every unit is rolled).
    """

    rule: str
    qty: int
    reason: str
    urgent: bool = False
    limit: float | None = None
    roll_to: tuple[Leg, ...] | None = None


def manage_or_take_profit(
    view: PositionView,
    qty: int,
    credit: float,
    debit: float,
    manage_dte: int,
    take_profit_pct: float,
) -> ExitSignal | None:
    """Return the premium seller's last two rules: manage at `manage_dte` days left, else take
    profit once the debit to close ($ per share) is at most (1 − `take_profit_pct` %) of the
    credit, as a limit at that target."""
    if view.dte <= manage_dte:
        return ExitSignal("manage_dte", qty, f"{view.dte} DTE ≤ {manage_dte}")
    target = credit * (1.0 - take_profit_pct / 100.0)
    if debit <= target:
        return ExitSignal(
            "take_profit",
            qty,
            f"debit {debit:.2f} ≤ {target:.2f} ({take_profit_pct:g} % of credit)",
            limit=target,
        )
    return None


@dataclass(frozen=True)
class _Venue:
    """One listing of an underlying that passed regime, generator and critic."""

    listing: Listing
    regime: Regime
    fit: Verdict
    survivors: list[tuple[Setup, Verdict]]
    chain: Chain


class OptionStrategy(Strategy):
    """A risk-defined option strategy run by the shared cycle."""

    id_prefix: ClassVar[str]
    sells_premium: ClassVar[bool] = True
    """True for premium sellers (they like a high IV rank); False for net vega buyers."""
    regime_rule: ClassVar[str | None] = None
    """The [selection] rule this strategy follows (None: the one named like the strategy)."""

    def __init__(self, services: Any, config: Any) -> None:
        super().__init__(services, config)
        self.shadow = bool(services.shadow or getattr(config, "mode", "trade") == "shadow")
        self.journal = services.journal(f"{self.name}{SHADOW_SUFFIX}" if self.shadow else self.name)
        self.guard = services.shadow_guard if self.shadow else services.risk_guard
        self.book = PositionBook()
        step = services.config.execution.step_interval_seconds
        if self.shadow:
            self.executor: Executor = ShadowExecutor(
                self.name,
                services.broker,
                services.clock,
                self.journal,
                step,
                self._on_line,
                self._plan_commission,
            )
        else:
            self.executor = Executor(
                self.name, services.broker, services.clock, self.journal, step, self._on_line
            )
        self._seq: dict[str, int] = {}
        self._decision_seq: dict[str, int] = {}
        self._last_scan: dict[str, datetime] = {}
        self._clusters_day: date | None = None
        self._clusters_problem: str | None = None
        self._pending: list[dict[str, Any]] = []
        self.last_confidence: dict[str, Confidence] = {}
        self._noted: dict[str, str] = {}
        self._regime_refused: dict[str, date] = {}
        self._last_views: dict[str, PositionView] = {}
        self._expiry_reported: dict[str, date] = {}
        self._last_ivr: dict[str, float | None] = {}
        self.published: StrategyView | None = None
        self._connected = True
        self._adopted: dict[str, tuple[OrderPlan, str]] = {}

    # -- hooks for strategy packages -----------------------------------------------------------
    @abstractmethod
    def scan(
        self, listing: Listing, chain: Chain, today: date, regime: Regime, fit: Verdict
    ) -> tuple[list[Setup], str]:
        """Return up to three setups for one underlying, best first, and why none if empty.

        `regime` is today's regime of the listing and `fit` the selection verdict that let this
        strategy consider it (a credit spread reads its side there).
        """

    @abstractmethod
    def exit_signal(self, view: PositionView) -> ExitSignal | None:
        """Return the exit rule that fires for a position now, or None."""

    def entry_bound(self, setup: Setup) -> float:
        """Return the worst net debit per unit we accept when opening (credit: −min credit)."""
        return -float(self.config.min_credit)

    def wanted_expiries(self, listed: Sequence[date], today: date) -> list[date]:
        """Return the expiries the scanner needs: nearest dte_target, and the nearest monthly.

        Both lie in the strategy's DTE window; monthlies usually carry more open interest.
        """
        cfg = self.config
        chosen = pick_expiry(listed, today, cfg.dte_min, cfg.dte_max, cfg.dte_target)
        monthly = pick_expiry(
            [e for e in listed if is_monthly(e)], today, cfg.dte_min, cfg.dte_max, cfg.dte_target
        )
        return sorted({e for e in (chosen, monthly) if e is not None})

    def structure_worst_loss(
        self,
        legs: Sequence[Leg],
        quotes: Mapping[OptionContract, OptionQuote],
        net_debit: float,
        now: datetime,
    ) -> float:
        """Return the worst loss per unit ($ per share) of `legs` held at `net_debit` per unit.

        Used to check a roll against the risk the position holds. The default is the exact worst
        loss at expiry of a single-expiry structure (ValueError otherwise); a strategy whose legs
        have several expiries overrides it (a diagonal reprices its long leg at the short expiry).
        """
        return worst_loss_at_expiry(legs, net_debit)

    def strike_window(
        self, spot: float, iv: float, expiries: Sequence[date], today: date
    ) -> tuple[float, float]:
        """Return the strike range to request: ±CHAIN_SIGMAS deviations plus the widest wing."""
        years = max((e - today).days for e in expiries) / 365.0
        span = CHAIN_SIGMAS * iv * math.sqrt(max(years, 1.0 / 365.0))
        pad = max(getattr(self.config, "wing_widths", [0.0]) or [0.0]) + 1.0
        return spot * math.exp(-span) - pad, spot * math.exp(span) + pad

    # -- lifecycle -----------------------------------------------------------------------------
    def setup(self) -> None:
        """Rebuild positions from the journal and hold their risk in the Risk Guard."""
        lines = read_events(self.journal.folder, ["ORDER", "FILL", "ORDER_STATUS", "CONFIDENCE"])
        lines.sort(key=lambda line: str(line.get("ts")))
        self.book.apply_all(lines)
        for pos in self.book.positions.values():
            day, _, num = pos.position_id.rpartition("-")
            key = day.rpartition("-")[2]
            if num.isdigit():
                self._seq[key] = max(self._seq.get(key, 0), int(num))
        for pos in self.book.open_positions():
            self.guard.restore(
                Reservation(
                    pos.position_id,
                    self.name,
                    pos.listing_id,
                    pos.underlying,
                    pos.sector,
                    self._risk_of(pos, pos.open_qty),
                )
            )
        self.executor.remember_fills(self.book.fill_ids())
        for oid in self.book.working_orders():
            self._adopt(oid)
        opened = len(self.book.open_positions())
        self.publish()
        self.services.emit(f"{self.name}: started, {opened} open position(s) from the journal")
        if self.shadow:
            self._warn_unmanaged_real_positions()

    def _warn_unmanaged_real_positions(self) -> None:
        """Say (RISK line) which real positions of this strategy nobody manages in shadow mode."""
        real = PositionBook()
        real.apply_all(
            sorted(
                read_events(self.journal.folder.parent / self.name, ["ORDER", "FILL"]),
                key=lambda line: str(line.get("ts")),
            )
        )
        ids = [p.position_id for p in real.open_positions()]
        if not ids:
            return
        detail = (
            f"{len(ids)} real position(s) of {self.name} are open and are NOT managed while it "
            f"runs in shadow mode (no exit, no roll, no expiry handling): {', '.join(ids)}; "
            f"run `seeker run {self.name}` without --shadow to manage them"
        )
        self.journal.write(
            "RISK", strategy=self.name, position_id=None, rule="unmanaged_in_shadow", detail=detail
        )
        self.services.emit(f"{self.name}: WARNING {detail}")

    def _adopt(self, oid: str) -> None:
        """Re-attach to an order an earlier run left working: journal what it did, never re-send.

        Fills made while Seeker was away are journaled (deduplicated by fill id); an order the
        broker still works is adopted and cancelled at the first poll, after which the strategy's
        rules decide afresh; an order the broker does not know is journaled as cancelled.
        """
        pos = self.book.position_of_order(oid)
        line = self.book.order_line(oid)
        if pos is None or line is None:
            return
        plan = OrderPlan(
            position_id=pos.position_id,
            order_id=oid,
            intent=line["intent"],
            listing_id=pos.listing_id,
            legs=tuple(leg_from_json(pos.listing_id, raw) for raw in line["legs"]),
            qty=int(line["qty"]),
            ladder=(float(line["limit_price"]),),
            cancel_when_done=True,
            fields={"exit_rule": line.get("exit_rule")},
        )
        broker_id = self.book.broker_order_id(oid)
        state = self.executor.follow(plan, broker_id) if broker_id else None
        if state is None:
            ref = order_ref(self.name, pos.position_id, line["intent"])
            try:
                known = [o for o in self.services.broker.open_orders() if o.order_ref == ref]
            except DataUnavailable:
                known = []
            if known:
                state = self.executor.follow(plan, known[0].order_id)
                broker_id = known[0].order_id
        if state is None:
            self.journal.write(
                "ORDER_STATUS",
                order_id=oid,
                position_id=pos.position_id,
                intent=line["intent"],
                status="cancelled",
                reason="order left working by an earlier run; the broker no longer holds it",
            )
            self.book.apply({"event": "ORDER_STATUS", "order_id": oid, "status": "cancelled"})
            return
        if not state.status.is_done:
            self.journal.write(
                "ORDER_STATUS",
                order_id=oid,
                position_id=pos.position_id,
                intent=line["intent"],
                status="adopted",
                broker_order_id=broker_id,
                filled=state.filled,
                reason="still working at the broker after a restart: adopted, not re-sent",
            )
            if line["intent"] == "open" and self.guard.held(pos.position_id) is None:
                self.guard.restore(
                    Reservation(
                        pos.position_id,
                        self.name,
                        pos.listing_id,
                        pos.underlying,
                        pos.sector,
                        pos.risk_unit * plan.qty,
                    )
                )
            self._adopted[oid] = (plan, str(broker_id))
        self._settle_risk(pos)

    def _follow_adopted(self) -> None:
        """Cancel orders adopted at start (journaling any fill) and settle their positions' risk."""
        for oid, (plan, broker_id) in list(self._adopted.items()):
            state = self.executor.follow(plan, broker_id)
            if state is not None and not state.status.is_done:
                try:
                    state = self.services.broker.cancel_order(broker_id)
                except DataUnavailable:
                    continue
                self.executor.follow(plan, broker_id)
            if state is None or state.status.is_done:
                del self._adopted[oid]
                pos = self.book.position_of_order(oid)
                if pos is not None:
                    self._settle_risk(pos)

    def _settle_risk(self, pos: Position) -> None:
        """Hold exactly the risk of a position's open quantity (release it once flat)."""
        if pos.open_qty == 0 and not any(
            self.book.position_of_order(o) is pos for o in self._adopted
        ):
            self.guard.release(pos.position_id)
        elif pos.open_qty > 0:
            held = self.guard.held(pos.position_id)
            want = self._risk_of(pos, pos.open_qty)
            if held is None:
                self.guard.restore(
                    Reservation(
                        pos.position_id, self.name, pos.listing_id, pos.underlying, pos.sector, want
                    )
                )
            elif held.risk > want:
                self.guard.resize(pos.position_id, want)

    def teardown(self) -> None:
        """Flush the journal (working orders were cancelled by Execution when the clock stopped)."""
        self.services.emit(f"{self.name}: stopped")

    def on_error(self, detail: str) -> None:
        """Journal a fatal error with its traceback."""
        self.journal.write(
            "RISK", strategy=self.name, position_id=None, rule="strategy_error", detail=detail
        )
        self.services.emit(f"{self.name}: ERROR {detail.strip().splitlines()[-1]}")

    def poll_once(self) -> None:
        """Manage open positions, then consider entries; publish the result."""
        now = self.services.clock.now()
        try:
            if self._adopted:
                self._follow_adopted()
            self._manage(now)
            if not self.stop_requested:
                try:
                    self._entries(now)
                finally:
                    self._flush_decisions()
        finally:
            self.publish()

    def publish(self) -> StrategyView:
        """Build and publish an immutable view of this strategy (atomic attribute swap)."""
        rows = []
        for pos in self.book.open_positions():
            view = self._last_views.get(pos.position_id)
            pnl_unit = view.pnl_unit if view is not None else None
            meta = pos.meta
            rows.append(
                PublishedPosition(
                    position_id=pos.position_id,
                    listing_id=pos.listing_id,
                    kind=str(meta.get("kind", self.name)),
                    label=str(meta.get("label", pos.position_id)),
                    qty=pos.open_qty,
                    currency=pos.currency,
                    sector=pos.sector,
                    cluster=pos.cluster,
                    entry_price=pos.entry_price,
                    opened_at=pos.opened_at,
                    expiry=pos.expiry,
                    dte=view.dte if view is not None else None,
                    spot=view.spot if view is not None else None,
                    pnl_unit=pnl_unit,
                    pnl=(pnl_unit * pos.multiplier * pos.open_qty)
                    if pnl_unit is not None
                    else None,
                    max_loss=pos.max_loss_unit * pos.open_qty,
                    regime=meta.get("regime"),
                    iv_rank=self._last_ivr.get(pos.listing_id),
                    width=meta.get("width"),
                    manage_dte=int(self.config.manage_dte),
                    confidence=self.last_confidence.get(pos.position_id),
                )
            )
        published = StrategyView(
            name=self.name,
            state=self.state.value,
            shadow=self.shadow,
            last_poll=self.last_poll,
            positions=tuple(rows),
            entries_today=self._entries_today(self.services.clock.now().date()),
            max_open_positions=int(self.config.max_open_positions),
            error=self.error,
        )
        self.published = published
        return published

    # -- ids -----------------------------------------------------------------------------------
    def _next_position_id(self, now: datetime, commit: bool) -> str:
        key = now.strftime("%Y%m%d")
        n = self._seq.get(key, 0) + 1
        if commit:
            self._seq[key] = n
        return f"{self.id_prefix}-{key}-{n:03d}"

    def _decision_id(self, now: datetime) -> str:
        key = now.strftime("%Y%m%d")
        n = self._decision_seq.get(key, 0) + 1
        self._decision_seq[key] = n
        return f"{self.id_prefix}-{key}-d{n:03d}"

    def _on_line(self, line: dict[str, Any]) -> None:
        self.book.apply(line)

    def _plan_commission(self, plan: OrderPlan) -> float:
        """Return the commission one order of `plan` would pay (shadow fills)."""
        currency = self.services.listings[plan.listing_id].currency
        return self.services.commissions[currency].combo(plan.legs, plan.qty)

    def _checked(
        self, plan: OrderPlan, natural: float, in_rth: bool, risk_reserved: bool, what: str
    ) -> bool:
        """Run the pre-send checklist; journal why the order is not sent when it fails."""
        problems = self.executor.checklist(
            plan, natural=natural, in_rth=in_rth, risk_reserved=risk_reserved
        )
        if problems:
            self.journal.write(
                "RISK",
                strategy=self.name,
                position_id=plan.position_id,
                rule="checklist",
                detail=f"{what} not sent: " + "; ".join(problems),
            )
        return not problems

    def _in_rth(self, listing_id: str) -> bool:
        listing = self.services.listings[listing_id]
        return self.services.calendars.is_open(listing.calendar, self.services.clock.now())

    # -- risk ----------------------------------------------------------------------------------
    def _risk_of(self, pos: Position, qty: int) -> float:
        """Return the risk held for `qty` open units: the reserved risk per unit × qty ($)."""
        return pos.risk_unit * qty

    def _max_loss_by_qty(self, setup: Setup, listing: Listing, bound: float) -> list[float]:
        """Return the worst loss of 1..quantity units at the worst accepted price, with round-trip
        commissions, in the listing's currency ($)."""
        sched = self.services.commissions[listing.currency]
        worst = setup.worst_loss(bound)
        return [
            worst * listing.multiplier * q + sched.round_trip(setup.legs, q)
            for q in range(1, int(self.config.quantity) + 1)
        ]

    # -- management ----------------------------------------------------------------------------
    def _manage(self, now: datetime) -> None:
        """Price every open position, journal its confidence, then act on the exit that fires."""
        actions: list[tuple[Position, PositionView, ExitSignal]] = []
        lines: list[dict[str, Any]] = []
        for pos in self.book.open_positions():
            listing = self.services.listings[pos.listing_id]
            if not self.services.calendars.is_open(listing.calendar, now):
                continue
            if any(leg.contract.expiry < now.date() for leg in pos.legs):
                lines.extend(self._settle_expired(pos, now))
                continue
            try:
                view = self._view(pos, now)
            except DataUnavailable as exc:
                lines.append(
                    self.journal.record(
                        "RISK",
                        strategy=self.name,
                        position_id=pos.position_id,
                        rule="data",
                        detail=f"cannot price the position: {exc}",
                    )
                )
                continue
            pos.mark(view.pnl_unit)
            self._last_views[pos.position_id] = view
            score = self._confidence(pos, view, listing, now)
            self.last_confidence[pos.position_id] = score
            lines.append(
                self.journal.record(
                    "CONFIDENCE",
                    strategy=self.name,
                    position_id=pos.position_id,
                    underlying=pos.listing_id,
                    pnl_unit=round(view.pnl_unit, 4),
                    dte=view.dte,
                    spot=round(view.spot, 4),
                    **score.as_dict(),
                )
            )
            if pos.pending_legs is not None:
                signal: ExitSignal | None = ExitSignal(
                    "roll_remainder",
                    pos.stranded_qty,
                    f"{pos.stranded_qty} unit(s) left on the old legs by a partly filled roll",
                    urgent=True,
                )
            else:
                signal = self._exit(pos, view, listing, now)
            if signal is not None:
                actions.append((pos, view, signal))
        self.journal.write_many(lines)
        for pos, view, signal in actions:
            if self.stop_requested:
                return
            if signal.roll_to is not None and pos.pending_legs is None:
                self._roll(pos, view, signal, now)
            else:
                self._close(pos, view, signal, now)

    def _exit(
        self, pos: Position, view: PositionView, listing: Listing, now: datetime
    ) -> ExitSignal | None:
        """Return the exit to take: the strategy's urgent ones, then event risk, then the rest."""
        signal = self.exit_signal(view)
        if signal is not None and signal.urgent:
            return signal
        try:
            action = self.services.event_risk.position_action(listing, now, pos.expiry)
        except DataUnavailable:
            action = None
        if action is not None:
            kind, reason = action
            if kind == "close":
                return ExitSignal("event_close", pos.open_qty, reason)
            if kind == "reduce" and not pos.reduced:
                share = float(self.services.config.events.reduce_fraction)
                units = math.floor(pos.open_qty * share)
                if units >= 1:
                    return ExitSignal("event_reduce", units, reason)
                if self._noted.get(pos.position_id) != reason:
                    self._noted[pos.position_id] = reason
                    self.journal.write(
                        "RISK",
                        strategy=self.name,
                        position_id=pos.position_id,
                        rule="event_hold",
                        detail=f"{reason}; {pos.open_qty} unit(s) × {share:g} rounds to 0: held",
                    )
        return signal

    def _confidence(
        self, pos: Position, view: PositionView, listing: Listing, now: datetime
    ) -> Confidence:
        """Return the position's confidence score; unknown inputs lower it and say so."""
        shorts = [leg for leg in pos.legs if leg.action == "SELL"]
        try:
            regime = self.services.regime(pos.listing_id)
            atr, ivr = regime.atr, regime.iv_rank
        except DataUnavailable:
            atr, ivr = math.nan, math.nan
        self._last_ivr[pos.listing_id] = ivr if math.isfinite(ivr) else None
        try:
            nearest = self.services.event_risk.next_event(listing, now)
        except DataUnavailable:
            nearest = None
        gamma = sum(leg.sign * leg.ratio * view.quote(leg.contract).gamma for leg in pos.legs)
        inputs = ConfidenceInputs(
            dte=view.dte,
            short_deltas=tuple(abs(view.quote(leg.contract).delta) for leg in shorts),
            spot=view.spot,
            short_strikes=tuple(leg.contract.strike for leg in shorts),
            atr=atr if math.isfinite(atr) and atr >= 0 else math.nan,
            iv_rank=ivr if math.isfinite(ivr) else math.nan,
            aligned_with_high_ivr=self.sells_premium,
            pnl_unit=view.pnl_unit,
            credit=pos.credit,
            position_gamma=gamma,
            multiplier=pos.multiplier,
            max_loss=pos.max_loss_unit,
            next_event=(nearest[0].kind, nearest[1]) if nearest else None,
            manage_dte=int(self.config.manage_dte),
        )
        return confidence(inputs, self.services.config.confidence)

    def _view(self, pos: Position, now: datetime) -> PositionView:
        broker = self.services.broker
        contracts = [leg.contract for leg in pos.legs]
        quotes = broker.option_quotes(contracts)
        max_age = self.services.config.liquidity.max_quote_age_seconds
        for c in contracts:
            q = quotes.get(c)
            if q is None:
                raise DataUnavailable(f"no quote for {c.key}")
            problem = q.problem(now, max_age)
            if problem:
                raise DataUnavailable(problem)
        und = broker.underlying_quote(pos.listing_id)
        if not (math.isfinite(und.mid) and und.bid <= und.ask):
            raise DataUnavailable(f"{pos.listing_id}: underlying quote unusable")
        closing = pos.closing_legs()
        ordered = [quotes[leg.contract] for leg in closing]
        return PositionView(
            position=pos,
            now=now,
            spot=und.mid,
            dte=(pos.expiry - now.date()).days,
            quotes=quotes,
            close_mid=combo_mid(closing, ordered),
            close_natural=combo_natural(closing, ordered),
        )

    def _close(self, pos: Position, view: PositionView, signal: ExitSignal, now: datetime) -> None:
        qty = max(1, min(signal.qty, pos.open_qty))
        closing = pos.closing_legs()
        bound = (
            view.close_natural if signal.limit is None else min(view.close_natural, signal.limit)
        )
        ladder = price_ladder(
            view.close_mid,
            view.close_natural,
            bound,
            self.services.config.execution.step_fraction,
            self.services.config.execution.max_steps,
            urgent=signal.urgent,
        )
        n_orders = len(pos.orders) + 1
        plan = OrderPlan(
            position_id=pos.position_id,
            order_id=f"{pos.position_id}.{n_orders}",
            intent="close",
            listing_id=pos.listing_id,
            legs=closing,
            qty=qty,
            ladder=tuple(ladder),
            cancel_when_done=True,
            fields=self._exit_fields(
                pos,
                view,
                signal,
                max_loss=pos.max_loss_unit * qty,
                risk=pos.risk_unit * qty,
                mid=view.close_mid,
                natural=view.close_natural,
            ),
        )
        if not self._checked(
            plan,
            natural=view.close_natural,
            in_rth=self._in_rth(pos.listing_id),
            risk_reserved=True,
            what="close",
        ):
            return
        self.services.emit(
            f"{self.name}: closing {pos.position_id} ({signal.rule}: {signal.reason})"
        )
        self.executor.work(plan)
        if pos.open_qty == 0:
            self.guard.release(pos.position_id)
            self._post_trade(pos, view.pnl_unit, view.dte)
            self.services.emit(
                f"{self.name}: closed {pos.position_id}, "
                f"P&L {pos.realized_pnl():+.2f} {pos.currency}"
            )
        else:
            self.guard.resize(pos.position_id, self._risk_of(pos, pos.open_qty))

    def _exit_fields(
        self,
        pos: Position,
        view: PositionView,
        signal: ExitSignal,
        *,
        max_loss: float,
        risk: float,
        mid: float,
        natural: float,
    ) -> dict[str, Any]:
        """Return the ORDER fields of a close or roll: its risk, the position's labels, why."""
        return {
            "max_loss": round(max_loss, 2),
            "risk": round(risk, 4),
            "risk_currency": self.services.config.account.capital_currency,
            "sector": pos.sector,
            "cluster": pos.cluster,
            "currency": pos.currency,
            "symbol": pos.underlying,
            "multiplier": pos.multiplier,
            "exit_rule": signal.rule,
            "reason": signal.reason,
            "mid": round(mid, 4),
            "natural": round(natural, 4),
            "spot": round(view.spot, 4),
            "dte": view.dte,
        }

    def _roll(self, pos: Position, view: PositionView, signal: ExitSignal, now: datetime) -> None:
        """Roll every open unit in one combo order, or close the position when it cannot be."""
        assert signal.roll_to is not None
        cfg = self.services.config
        new_legs = tuple(signal.roll_to)
        closing = tuple(leg.reversed() for leg in pos.legs if leg not in new_legs)
        opening = tuple(leg for leg in new_legs if leg not in pos.legs)
        legs = closing + opening
        qty = pos.open_qty

        def refuse(detail: str) -> None:
            self.journal.write(
                "RISK",
                strategy=self.name,
                position_id=pos.position_id,
                rule="roll_refused",
                detail=f"{detail}; closing the position instead",
            )
            reason = f"{signal.reason}; roll refused: {detail}"
            self._close(pos, view, replace(signal, qty=qty, reason=reason, roll_to=None), now)

        if not closing or not opening:
            return refuse("the roll neither closes nor opens a leg")
        quotes = dict(view.quotes)
        try:
            fresh = self.services.broker.option_quotes([leg.contract for leg in opening])
            for leg in opening:
                q = fresh.get(leg.contract)
                if q is None:
                    raise DataUnavailable(f"no quote for {leg.contract.key}")
                problem = q.problem(now, cfg.liquidity.max_quote_age_seconds)
                if problem:
                    raise DataUnavailable(problem)
                quotes[leg.contract] = q
        except DataUnavailable as exc:
            return refuse(f"cannot price the new legs: {exc}")
        thin = []
        for leg in opening:
            q = quotes[leg.contract]
            if q.spread > cfg.liquidity.max_leg_spread + 1e-9:
                thin.append(f"{q.contract.key}: spread {q.spread:.2f}")
            if q.open_interest is None or q.open_interest < cfg.liquidity.min_open_interest:
                thin.append(f"{q.contract.key}: open interest {q.open_interest}")
        if thin:
            return refuse("liquidity: " + "; ".join(thin))
        ordered = [quotes[leg.contract] for leg in legs]
        mid, natural = combo_mid(legs, ordered), combo_natural(legs, ordered)
        bound = natural if signal.limit is None else min(natural, signal.limit)
        ladder = price_ladder(
            mid,
            natural,
            bound,
            cfg.execution.step_fraction,
            cfg.execution.max_steps,
            urgent=signal.urgent,
        )
        sched = self.services.commissions[pos.currency]
        held = self.guard.held(pos.position_id)
        try:
            worst = self.structure_worst_loss(new_legs, quotes, pos.entry_price + ladder[-1], now)
            paid = pos.commissions * qty / max(pos.opened_qty, 1)
            fees = paid + sched.combo(legs, qty) + sched.combo(new_legs, qty)
            max_loss = worst * pos.multiplier * qty + fees
            risk = self.services.to_capital(max_loss, pos.currency)
        except (DataUnavailable, ValueError) as exc:
            return refuse(f"cannot compute the worst loss after the roll: {exc}")
        if held is None or not math.isfinite(risk) or risk > held.risk + 1e-9:
            have = f"{held.risk:.2f} $" if held is not None else "no reservation"
            return refuse(
                f"the rolled position could lose {risk:.2f} $, more than the risk it holds ({have})"
            )
        plan = OrderPlan(
            position_id=pos.position_id,
            order_id=f"{pos.position_id}.{len(pos.orders) + 1}",
            intent="roll",
            listing_id=pos.listing_id,
            legs=legs,
            qty=qty,
            ladder=tuple(ladder),
            cancel_when_done=True,
            fields={
                **self._exit_fields(
                    pos, view, signal, max_loss=max_loss, risk=risk, mid=mid, natural=natural
                ),
                "new_legs": [leg_to_json(leg) for leg in new_legs],
                "worst_loss_unit": round(worst, 4),
                "held_risk": round(held.risk, 4),
            },
        )
        if not self._checked(
            plan,
            natural=natural,
            in_rth=self._in_rth(pos.listing_id),
            risk_reserved=True,
            what="roll",
        ):
            return
        self.services.emit(
            f"{self.name}: rolling {pos.position_id} ({signal.rule}: {signal.reason})"
        )
        rolls = pos.rolls
        self.executor.work(plan)
        if pos.pending_legs is not None:
            self._close_stranded(pos)
        elif pos.rolls > rolls:
            self.services.emit(
                f"{self.name}: rolled {pos.position_id}; legs now "
                + ", ".join(f"{leg.action} {leg.contract.key}" for leg in pos.legs)
            )
        if pos.open_qty > 0:
            self.guard.resize(pos.position_id, min(held.risk, self._risk_of(pos, pos.open_qty)))

    def _close_stranded(self, pos: Position) -> None:
        """Close the units a partly filled roll left on the old legs (at once, urgently)."""
        now = self.services.clock.now()
        try:
            view = self._view(pos, now)
        except DataUnavailable as exc:
            self.journal.write(
                "RISK",
                strategy=self.name,
                position_id=pos.position_id,
                rule="data",
                detail=f"cannot price the units a partial roll left: {exc}; next poll",
            )
            return
        reason = f"{pos.stranded_qty} unit(s) left on the old legs by a partly filled roll"
        self._close(pos, view, ExitSignal("roll_remainder", pos.stranded_qty, reason, True), now)

    def _settle_expired(self, pos: Position, now: datetime) -> list[dict[str, Any]]:
        """Close a position whose legs expired at the settlement the broker confirms.

        Every leg must have expired and the broker must report each leg's settlement price;
        otherwise nothing is closed: the risk stays reserved, the underlying stays blocked by
        reconciliation, and a RISK line (once a day) says what a human must check.
        """
        today = now.date()
        expired = [leg for leg in pos.legs if leg.contract.expiry < today]
        prices = (
            [self.services.broker.expiry_settlement(leg.contract) for leg in pos.legs]
            if len(expired) == len(pos.legs)
            else []
        )
        if not prices or any(p is None or not math.isfinite(p) for p in prices):
            if self._expiry_reported.get(pos.position_id) == today:
                return []
            self._expiry_reported[pos.position_id] = today
            if len(expired) < len(pos.legs):
                why = (
                    f"{len(expired)} of {len(pos.legs)} legs expired on "
                    f"{min(leg.contract.expiry for leg in expired)} while the others live"
                )
            else:
                why = f"its legs expired on {pos.expiry} and the broker reports no settlement"
            detail = (
                f"{why}: the position is left open, its risk reserved and {pos.listing_id} "
                "blocked; check the account (an in-the-money leg may have been exercised or "
                "assigned) and settle it by hand"
            )
            self.services.emit(f"{self.name}: {pos.position_id} {detail}")
            return [
                self.journal.record(
                    "RISK",
                    strategy=self.name,
                    position_id=pos.position_id,
                    rule="expired_unsettled",
                    detail=detail,
                )
            ]
        qty = pos.open_qty
        closing = [leg.reversed() for leg in pos.legs]
        per_unit = sum(
            leg.sign * leg.ratio * float(price) for leg, price in zip(closing, prices, strict=True)
        )
        legs = [
            {**leg_to_json(leg), "qty": qty * leg.ratio, "price": round(float(price), 4)}
            for leg, price in zip(closing, prices, strict=True)
        ]
        fill = self.journal.write(
            "FILL",
            fill_id=f"{pos.position_id}.expiry",
            order_id=f"{pos.position_id}.expiry",
            position_id=pos.position_id,
            strategy=self.name,
            intent="close",
            kind="combo",
            fill_price=round(per_unit, 4),
            qty=qty,
            commission=0.0,
            currency=pos.currency,
            exit_rule="expiry",
            legs=legs,
            reason=(
                f"expired on {pos.expiry}; settled by the broker at intrinsic value of the "
                "expiry close"
            ),
        )
        self.book.apply(fill)
        self.guard.release(pos.position_id)
        self._last_views.pop(pos.position_id, None)
        self._post_trade(pos, -(pos.entry_price + per_unit), 0)
        self.services.emit(
            f"{self.name}: {pos.position_id} expired and was settled, "
            f"P&L {pos.realized_pnl():+.2f} {pos.currency}"
        )
        self.services.reconcile("expiry settlement")  # lifts the block the expiry caused
        return []

    def _post_trade(self, pos: Position, pnl_unit: float, dte: int) -> None:
        """Journal the Post-Trade Analyst's line for a position that just closed."""
        pos.mark(pnl_unit)
        scale = pos.multiplier * pos.opened_qty
        held = (pos.closed_at - pos.opened_at) if pos.closed_at and pos.opened_at else None
        pnl = pos.realized_pnl()
        self.journal.write(
            "POST_TRADE",
            strategy=self.name,
            position_id=pos.position_id,
            underlying=pos.listing_id,
            currency=pos.currency,
            qty=pos.opened_qty,
            entry_price=round(pos.entry_price, 4),
            pnl=round(pnl, 2),
            gross_pnl=round(pnl + pos.commissions, 2),
            commissions=round(pos.commissions, 2),
            slippage=round(pos.slippage, 2),
            mfe=round(pos.best_pnl_unit * scale, 2) if math.isfinite(pos.best_pnl_unit) else None,
            mae=round(pos.worst_pnl_unit * scale, 2) if math.isfinite(pos.worst_pnl_unit) else None,
            hours_in_position=round(held.total_seconds() / 3600, 2) if held else None,
            days_in_position=held.days if held else None,
            exit_rule=pos.exit_rule,
            dte_at_exit=dte,
            dte_at_entry=pos.meta.get("dte"),
            regime_at_entry=pos.meta.get("regime"),
            shadow=self.shadow,
        )

    # -- entries -------------------------------------------------------------------------------
    def _entries_today(self, today: date) -> int:
        return sum(p.status != "cancelled" for p in self.book.opened_on(today.strftime("%Y%m%d")))

    def _entry_window_open(self, now: datetime) -> bool:
        t = now.timetz().replace(tzinfo=None)
        return self.config.entry_window_start <= t < self.config.entry_window_end

    def _entries(self, now: datetime) -> None:
        cfg = self.config
        if not self._broker_connected() or not self._entry_window_open(now):
            return
        scan_every = timedelta(minutes=float(cfg.scan_interval_minutes))
        for venues in self._venue_groups():
            if self.stop_requested or not self._room_for_entry(now):
                return
            key = venues[0].symbol
            last = self._last_scan.get(key)
            if last is not None and now - last < scan_every:
                continue
            if self._regime_refused.get(key) == now.date():
                continue  # the regime is daily: a refusal holds until the next session
            open_venues = [v for v in venues if self._in_rth(v.listing_id)]
            if not open_venues:
                continue
            self._last_scan[key] = now
            try:
                self._consider(open_venues, now)
            except DataUnavailable as exc:
                self._decide(now, open_venues[0], None, [], "no_trade", "data", str(exc))
            except Exception:  # a bug in one underlying's scan must not hide the others
                self._decide(
                    now,
                    open_venues[0],
                    None,
                    [],
                    "no_trade",
                    "data",
                    "scan failed: " + traceback.format_exc().strip().splitlines()[-1],
                )
                raise

    def _broker_connected(self) -> bool:
        """Return True when the broker is connected; journal once when entries stop and resume."""
        state = self.services.broker.connection_state()
        up = state == ConnectionState.CONNECTED
        if up != self._connected:
            self._connected = up
            rule = "broker_connected" if up else "broker_disconnected"
            detail = (
                "broker connected again: entries resume"
                if up
                else f"broker {state.value}: no new entry until the connection is back"
            )
            self.journal.write(
                "RISK", strategy=self.name, position_id=None, rule=rule, detail=detail
            )
            self.services.emit(f"{self.name}: {detail}")
        return up

    def _room_for_entry(self, now: datetime) -> bool:
        cfg = self.config
        if len(self.book.open_positions()) >= cfg.max_open_positions:
            return False
        return self._entries_today(now.date()) < cfg.max_entries_per_day

    def _venue_groups(self) -> list[list[Listing]]:
        """Return this strategy's underlyings grouped by company (cross-listed venues together)."""
        fx = self.services.config.fx
        mine = list(dict.fromkeys(self.config.underlyings))
        groups: list[list[Listing]] = []
        seen: set[str] = set()
        for lid in mine:
            if lid in seen:
                continue
            venues = [v for v in fx.venues_of(lid) if v in mine] or [lid]
            seen.update(venues)
            groups.append([self.services.listings[v] for v in venues])
        return groups

    def _clusters(self, now: datetime) -> None:
        day = now.date()
        if self._clusters_day == day:
            if self._clusters_problem:
                raise DataUnavailable(self._clusters_problem)
            return
        self._clusters_day = day
        try:
            clusters = self.services.clusters.clusters(day)
        except DataUnavailable as exc:
            self._clusters_problem = f"correlation clusters unavailable: {exc}"
            raise DataUnavailable(self._clusters_problem) from None
        self._clusters_problem = None
        self.guard.set_clusters(clusters)

    def _chain(self, listing: Listing, today: date) -> Chain:
        broker = self.services.broker
        und = broker.underlying_quote(listing.listing_id)
        if not (math.isfinite(und.mid) and 0 < und.bid <= und.ask):
            raise DataUnavailable(f"{listing.listing_id}: underlying quote unusable")
        expiries = self.wanted_expiries(broker.expiries(listing.listing_id), today)
        if not expiries:
            raise DataUnavailable("no listed expiry in the strategy's DTE window")
        iv = float(self.services.history(listing.listing_id, 1).iv[-1])
        if not (math.isfinite(iv) and iv > 0):
            raise DataUnavailable(f"{listing.listing_id}: no implied volatility to size the chain")
        strikes = self.strike_window(und.mid, iv, expiries, today)
        return broker.option_chain(listing.listing_id, expiries, strikes)

    def _consider(self, venues: list[Listing], now: datetime) -> None:
        """Regime → Generator → Critic for each venue, then the FX router picks the venue."""
        self._clusters(now)
        blocked = self.services.blocked_underlyings.get(venues[0].symbol)
        if blocked:
            self._decide(now, venues[0], None, [], "no_trade", "risk_guard", blocked)
            return
        today = now.date()
        ready: list[_Venue] = []
        for listing in venues:
            try:
                regime = self.services.regime(listing.listing_id)
            except DataUnavailable as exc:
                self._decide(now, listing, None, [], "no_trade", "regime", f"no regime: {exc}")
                self._regime_refused[listing.listing_id] = today
                continue
            fit = select(self.regime_rule or self.name, regime, self.services.config.selection)
            if not fit.allowed:
                self._decide(
                    now, listing, None, [fit], "no_trade", "regime", fit.reason, regime=regime
                )
                self._regime_refused[listing.listing_id] = today
                continue
            try:
                chain = self._chain(listing, today)
            except DataUnavailable as exc:
                self._decide(now, listing, None, [fit], "no_trade", "data", str(exc), regime=regime)
                continue
            setups, note = self.scan(listing, chain, today, regime, fit)
            if not setups:
                reason = f"no setup meets the entry rules: {note}"
                self._decide(
                    now,
                    listing,
                    None,
                    [fit],
                    "no_trade",
                    "generator",
                    reason,
                    chain=chain,
                    regime=regime,
                )
                continue
            scored = [(setup, self._critique(setup, listing, now)) for setup in setups]
            survivors = rank(scored)
            if not survivors:
                setup, worst = max(scored, key=lambda sv: sv[1].score or 0.0)
                by = "data" if worst.details.get("missing_data") else "critic"
                reason = f"{len(scored)} setup(s), none survives the stress tests: {worst.reason}"
                self._decide(
                    now, listing, setup, [fit, worst], "no_trade", by, reason, regime=regime
                )
                continue
            ready.append(_Venue(listing, regime, fit, survivors, chain))
        if not ready:
            if all(self._regime_refused.get(v.listing_id) == today for v in venues):
                self._regime_refused[venues[0].symbol] = today
            return
        for venue, fx_verdict in self._route(ready, now):
            for setup, critic in venue.survivors:
                if self.stop_requested:
                    return
                if self._evaluate(setup, venue, critic, fx_verdict, now):
                    return

    def _critique(self, setup: Setup, listing: Listing, now: datetime) -> Verdict:
        sched = self.services.commissions[listing.currency]
        return critique(
            setup,
            rate=self.services.config.rates[listing.currency],
            dividend_yield=listing.dividend_yield,
            now=now,
            manage_dte=int(self.config.manage_dte),
            round_trip_commission_per_unit=sched.round_trip(setup.legs, 1) / listing.multiplier,
            multiplier=listing.multiplier,
            cfg=self.critic_config(),
        )

    def critic_config(self) -> CriticConfig:
        """Return the stress limits this strategy's setups are held to (the shared [critic])."""
        return self.services.config.critic

    def _candidate(self, venue: _Venue) -> VenueCandidate:
        setup = venue.survivors[0][0]
        listing = venue.listing
        qty = int(self.config.quantity)
        sched = self.services.commissions[listing.currency]
        max_loss = self._max_loss_by_qty(setup, listing, setup.mid)[qty - 1]
        return VenueCandidate(
            listing_id=listing.listing_id,
            currency=listing.currency,
            expected_credit=-setup.mid * listing.multiplier * qty,
            commissions=sched.round_trip(setup.legs, qty),
            risk=self.services.to_capital(max_loss, listing.currency),
            cash_needed=max_loss,
        )

    def _route(self, ready: list[_Venue], now: datetime) -> list[tuple[_Venue, Verdict]]:
        """Return the venues in the FX router's order (best net EV first), each with its verdict."""
        router = self.services.fx_router
        router.refresh_cash()
        verdict = router.choose_venue([self._candidate(v) for v in ready], now)
        if not verdict.allowed:
            first = ready[0]
            self._decide(
                now,
                first.listing,
                first.survivors[0][0],
                [first.fit, first.survivors[0][1], verdict],
                "no_trade",
                "fx_router",
                verdict.reason,
                regime=first.regime,
            )
            return []
        chosen = verdict.details.get("chosen")
        ordered = sorted(ready, key=lambda v: v.listing.listing_id != chosen)
        out = [(ordered[0], verdict)]
        for other in ordered[1:]:
            alone = router.choose_venue([self._candidate(other)], now)
            if alone.allowed:
                out.append((other, alone))
        return out

    def _evaluate(
        self,
        setup: Setup,
        venue: _Venue,
        critic_verdict: Verdict,
        fx_verdict: Verdict,
        now: datetime,
    ) -> bool:
        """Run one setup through the hard vetoes; send it if all pass. Return True if sent."""
        listing = venue.listing
        cfg = self.services.config
        verdicts: list[Verdict] = [venue.fit, critic_verdict, fx_verdict]

        def refuse(by: str, reason: str) -> bool:
            self._decide(now, listing, setup, verdicts, "no_trade", by, reason, regime=venue.regime)
            return False

        problems = [
            p for q in setup.quotes if (p := q.problem(now, cfg.liquidity.max_quote_age_seconds))
        ]
        if problems:
            return refuse("data", "; ".join(problems))
        event = self.services.event_risk.entry_verdict(
            listing, now, max(leg.contract.expiry for leg in setup.legs)
        )
        verdicts.append(event)
        if not event.allowed:
            return refuse(
                "data" if event.details.get("missing_data") else "event_risk", event.reason
            )
        max_qty = int(self.config.quantity)
        factor = event.details.get("qty_factor")
        if factor is not None:
            max_qty = math.floor(max_qty * float(factor))
            if max_qty < 1:
                return refuse("event_risk", f"{event.reason}; the reduced size rounds to 0 units")
        bound = self.entry_bound(setup)
        ladder = price_ladder(
            setup.mid,
            setup.natural,
            bound,
            cfg.execution.step_fraction,
            cfg.execution.max_steps,
            urgent=False,
        )
        slippage_pct = 100.0 * (ladder[-1] - setup.mid) / max(abs(setup.mid), 0.01)
        liq = check_liquidity(
            setup.quotes,
            venue.chain.chain_volume,
            cfg.liquidity.max_leg_spread,
            cfg.liquidity.min_open_interest,
            cfg.liquidity.min_chain_volume,
            slippage_pct=slippage_pct,
            max_slippage_pct=cfg.liquidity.max_slippage_pct,
        )
        verdicts.append(liq)
        if not liq.allowed:
            return refuse("liquidity", liq.reason)
        if ladder[0] > bound + 1e-9:
            return refuse(
                "generator", f"mid {setup.mid:+.2f} is worse than the limit bound {bound:+.2f}"
            )
        max_loss_by_qty = self._max_loss_by_qty(setup, listing, ladder[-1])[:max_qty]
        risk_by_qty = [self.services.to_capital(m, listing.currency) for m in max_loss_by_qty]
        pid = self._next_position_id(now, commit=False)
        verdict, qty = self.guard.reserve(
            pid, self.name, listing.listing_id, listing.symbol, listing.sector, risk_by_qty
        )
        verdicts.append(verdict)
        if not verdict.allowed:
            return refuse("risk_guard", verdict.reason)
        pid = self._next_position_id(now, commit=True)
        max_loss, risk = max_loss_by_qty[qty - 1], risk_by_qty[qty - 1]
        conversion = self._convert(listing, pid, max_loss, now)
        if conversion is not None:
            verdicts.append(conversion)
            if not conversion.allowed:
                self.guard.release(pid)
                return refuse("fx_router", conversion.reason)
        self._decide(
            now,
            listing,
            setup,
            verdicts,
            "order",
            None,
            f"all vetoes passed; sending {qty} unit(s)",
            position_id=pid,
            regime=venue.regime,
        )
        plan = OrderPlan(
            position_id=pid,
            order_id=f"{pid}.1",
            intent="open",
            listing_id=listing.listing_id,
            legs=setup.legs,
            qty=qty,
            ladder=tuple(ladder),
            cancel_when_done=True,
            fields={
                "max_loss": round(max_loss, 2),
                "risk": round(risk, 4),
                "risk_currency": cfg.account.capital_currency,
                "sector": listing.sector,
                "cluster": str(verdict.details.get("cluster")),
                "currency": listing.currency,
                "symbol": listing.symbol,
                "multiplier": listing.multiplier,
                "reason": setup.label,
                "mid": round(setup.mid, 4),
                "natural": round(setup.natural, 4),
                "meta": {
                    "kind": setup.kind,
                    "label": setup.label,
                    "dte": setup.dte,
                    "regime": venue.regime.summary(),
                    "regime_labels": venue.regime.labels(),
                    "critic_score": critic_verdict.score,
                    **dict(setup.features),
                },
            },
        )
        if not self._checked(
            plan,
            natural=setup.natural,
            in_rth=self._in_rth(listing.listing_id),
            risk_reserved=self.guard.held(pid) is not None,
            what="entry",
        ):
            self.guard.release(pid)
            return False
        self._flush_decisions()
        self.services.emit(f"{self.name}: opening {pid} {setup.label} x{qty}")
        self.executor.work(plan)
        pos = self.book.positions.get(pid)
        if pos is None or pos.opened_qty == 0:
            self.guard.release(pid)
            return True
        if pos.open_qty < qty:
            self.guard.resize(pid, self._risk_of(pos, pos.open_qty))
        self.services.emit(f"{self.name}: opened {pid} x{pos.opened_qty} at {pos.entry_price:+.2f}")
        return True

    def _convert(self, listing: Listing, pid: str, amount: float, now: datetime) -> Verdict | None:
        """Convert currency through the FX router when the account lacks `amount` of it."""
        router = self.services.fx_router
        if listing.currency == self.services.config.account.capital_currency and not self.shadow:
            cash = router.cash().get(listing.currency, 0.0)
            if cash >= amount:
                return None
        quote = self.services.broker.fx_quote("USD.CAD")
        _cost, plan = router.fx_cost(listing.currency, amount, router.cash(), quote)
        if plan is None:
            return None
        if self.shadow:
            return Verdict(
                "fx_router", True, "shadow: the conversion would be sent", details=plan.as_dict()
            )
        verdict = router.convert(plan, order_ref(self.name, pid, "fx"))
        self.journal.write(
            "RISK",
            strategy=self.name,
            position_id=pid,
            rule="fx_conversion",
            detail=verdict.reason,
            conversion=dict(verdict.details),
        )
        router.refresh_cash()
        return verdict

    def _decide(
        self,
        now: datetime,
        listing: Listing,
        setup: Setup | None,
        verdicts: Sequence[Verdict],
        outcome: str,
        blocked_by: BlockedBy | str | None,
        reason: str,
        chain: Chain | None = None,
        position_id: str | None = None,
        regime: Regime | None = None,
    ) -> None:
        """Queue one DECISION line (written with the scan's other lines, before any order)."""
        features: dict[str, Any] = {}
        if setup is not None:
            features.update(setup.features)
            features.update(spot=round(setup.spot, 4), dte=setup.dte)
        elif chain is not None:
            features.update(spot=round(chain.underlying.mid, 4), chain_volume=chain.chain_volume)
        if regime is not None:  # the regime is journaled once, not again in its verdict
            verdicts = [_without_regime(v) for v in verdicts]
        refusing = next((v for v in verdicts if not v.allowed), None)
        binding = None
        if refusing is not None:
            binding = refusing.details.get("binding") or refusing.agent
        self._pending.append(
            self.journal.record(
                "DECISION",
                decision_id=self._decision_id(now),
                strategy=self.name,
                underlying=listing.listing_id,
                outcome=outcome,
                reason=reason,
                blocked_by=blocked_by,
                binding=binding,
                position_id=position_id,
                regime=regime.as_dict() if regime is not None else None,
                setup=setup.describe() if setup is not None else None,
                features=features,
                verdicts=[v.as_dict() for v in verdicts],
                market_data=self.services.broker.market_data_type(),
                shadow=self.shadow,
            )
        )

    def _flush_decisions(self) -> None:
        """Write the DECISION lines of this scan (one fsync for all of them)."""
        if self._pending:
            lines, self._pending = self._pending, []
            self.journal.write_many(lines)


def legs_json(setup: Setup) -> list[dict[str, Any]]:
    """Return a setup's legs as journal mappings."""
    return [leg_to_json(leg) for leg in setup.legs]


def _without_regime(v: Verdict) -> Verdict:
    """Return the selection verdict without the regime measures the DECISION line carries."""
    if v.agent != "regime":
        return v
    keep = {k: v.details[k] for k in ("strategy", "rule", "failed", "side") if k in v.details}
    return Verdict(v.agent, v.allowed, v.reason, v.score, keep)
