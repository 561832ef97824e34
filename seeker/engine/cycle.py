"""OptionStrategy: the cycle every risk-defined option strategy shares, composed by lifecycle.

A strategy package supplies its hooks (see ``StrategyHooks``: scanner, exit rules, entry bound,
expiries and strikes to request, worst loss, regime fit); the engine does the rest, identically for
all of them, each step in a component of its own:

1. ``adoption``: at start, positions are rebuilt from the journal, their risk held again, orders an
   earlier run left working adopted (never re-sent);
2. ``manage``: each poll, open positions are priced from fresh quotes, scored (CONFIDENCE), and the
   exit that fires is acted on — ``closing``, ``roll``, or ``settlement`` of expired legs;
3. ``entries`` / ``pipeline``: inside the entry window, each underlying goes regime → generator →
   critic → FX router → hard vetoes → checklist → execution, one DECISION line per setup.

Missing data anywhere ends in ``no_trade`` with ``blocked_by: "data"`` and the reason; nothing is
ever guessed.
"""

from __future__ import annotations

import contextlib
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from seeker.agents.critic import CriticConfig
from seeker.agents.regime import Regime
from seeker.agents.risk_guard import RiskGuard
from seeker.agents.selection import RegimeRule, select
from seeker.agents.verdict import Verdict
from seeker.config.strategy import StrategyConfig
from seeker.core.execution import Executor, OrderPlan, ShadowExecutor
from seeker.core.journal import SHADOW_SUFFIX, Journal, JournalWriteError
from seeker.core.models import Chain, Leg, Listing, OptionContract, OptionQuote
from seeker.core.payoff import worst_loss_at_expiry
from seeker.core.positions import PositionBook
from seeker.core.structures import Setup
from seeker.engine.adoption import Adoption
from seeker.engine.closing import Closer
from seeker.engine.context import StrategyContext
from seeker.engine.decisions import DecisionLog
from seeker.engine.entries import EntryScanner, entries_today
from seeker.engine.ids import IdSequence
from seeker.engine.interventions import Interventions
from seeker.engine.lifecycle import Strategy
from seeker.engine.manage import PositionManager
from seeker.engine.marks import Marks
from seeker.engine.pipeline import EntryPipeline
from seeker.engine.published import PublishedPosition, StrategyView
from seeker.engine.recovery import CatchUp
from seeker.engine.roll import Roller
from seeker.engine.settlement import Settlement
from seeker.engine.signals import ExitSignal, PositionView

if TYPE_CHECKING:
    from seeker.engine.services import Services

ConfigT = TypeVar("ConfigT", bound=StrategyConfig)


class OptionStrategy(Strategy, Generic[ConfigT]):
    """A risk-defined option strategy run by the engine's cycle."""

    id_prefix: ClassVar[str]
    """The first part of this strategy's position ids (``ic`` → ``ic-20260105-001``)."""
    sells_premium: ClassVar[bool] = True
    """True for premium sellers (they like a high IV rank); False for net vega buyers."""

    config: ConfigT

    def __init__(self, services: Services, config: ConfigT) -> None:
        super().__init__(services, config)
        self.config = config
        self.shadow = bool(services.shadow or config.mode == "shadow")
        journal = services.journal(f"{self.name}{SHADOW_SUFFIX}" if self.shadow else self.name)
        book = PositionBook()
        step = services.config.execution.step_interval_seconds
        executor: Executor
        if self.shadow:
            executor = ShadowExecutor(
                self.name,
                services.broker,
                services.clock,
                journal,
                step,
                book.apply,
                self._plan_commission,
            )
        else:
            executor = Executor(
                self.name, services.broker, services.clock, journal, step, book.apply
            )
        self.ctx = StrategyContext(
            name=self.name,
            id_prefix=self.id_prefix,
            config=config,
            services=services,
            shadow=self.shadow,
            journal=journal,
            guard=services.shadow_guard if self.shadow else services.risk_guard,
            book=book,
            executor=executor,
            hooks=self,
            stop_requested=lambda: self.stop_requested,
        )
        self.ids = IdSequence(self.id_prefix)
        self.marks = Marks()
        self.decisions = DecisionLog(self.ctx, self.ids)
        self.adoption = Adoption(self.ctx, self.ids)
        self.closer = Closer(self.ctx)
        self.roller = Roller(self.ctx, self.closer)
        self.settlement = Settlement(self.ctx, self.marks)
        self.manager = PositionManager(
            self.ctx, self.marks, self.closer, self.roller, self.settlement
        )
        self.pipeline = EntryPipeline(self.ctx, self.decisions, self.ids)
        self.scanner = EntryScanner(self.ctx, self.pipeline, self.decisions)
        self.interventions = Interventions(self.ctx, self.marks, self.closer)
        self.catch_up = CatchUp(self.ctx, self.adoption.settle_risk, services.cycle.interval)
        self.published: StrategyView | None = None
        self._fits: dict[str, tuple[Regime, RegimeRule, Verdict]] = {}
        """The last regime fit of each listing, with the regime and the rule it was made from."""

    @property
    def journal(self) -> Journal:
        """Return this strategy's journal (``<name>.shadow`` in shadow mode)."""
        return self.ctx.journal

    @property
    def guard(self) -> RiskGuard:
        """Return the Risk Guard this strategy reserves with (a separate one in shadow mode)."""
        return self.ctx.guard

    @property
    def book(self) -> PositionBook:
        """Return this strategy's positions as its journal tells them."""
        return self.ctx.book

    @property
    def executor(self) -> Executor:
        """Return the executor that works this strategy's orders."""
        return self.ctx.executor

    # -- hooks for strategy packages -----------------------------------------------------------
    @property
    @abstractmethod
    def manage_dte(self) -> int:
        """Return the days to expiry at which positions are managed (the confidence's horizon)."""

    @abstractmethod
    def wanted_expiries(self, listed: Sequence[date], today: date) -> list[date]:
        """Return the expiries the scanner needs among the listed ones."""

    @abstractmethod
    def strike_window(
        self, spot: float, iv: float, expiries: Sequence[date], today: date
    ) -> tuple[float, float]:
        """Return the strike range to request around `spot` ($), given an IV per 1.00."""

    @abstractmethod
    def scan(
        self, listing: Listing, chain: Chain, today: date, regime: Regime, fit: Verdict
    ) -> tuple[list[Setup], str]:
        """Return up to three setups for one underlying, best first, and why none if empty.

        `regime` is today's regime of the listing and `fit` the selection verdict that let this
        strategy consider it (a strategy sold on the trend reads its side there).
        """

    @abstractmethod
    def entry_bound(self, setup: Setup) -> float:
        """Return the worst net debit per unit we accept when opening (credit: −min credit)."""

    @abstractmethod
    def exit_signal(self, view: PositionView) -> ExitSignal | None:
        """Return the exit rule that fires for a position now, or None."""

    def entry_side(self, regime: Regime) -> str | None:
        """Return the side a strategy sold on the trend takes in `regime` (None: no side)."""
        return None

    takes_side: ClassVar[bool] = False
    """True when the strategy is sold on the trend's side (its regime verdict names the side)."""

    def regime_fit(self, regime: Regime) -> Verdict:
        """Return whether today's regime allows an entry, by this strategy's own regime rule.

        The verdict is made once per regime (a listing's regime is one object for the day) and
        rule: the same regime and rule give the same verdict (a regime is immutable).
        """
        rule = self.config.regime
        kept = self._fits.get(regime.listing_id)
        if kept is not None and kept[0] is regime and kept[1] is rule:
            return kept[2]
        side_of = self.entry_side if self.takes_side else None
        fit = select(self.name, rule, regime, side_of)
        self._fits[regime.listing_id] = (regime, rule, fit)
        return fit

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
        have several expiries overrides it.
        """
        return worst_loss_at_expiry(legs, net_debit)

    def critic_config(self) -> CriticConfig:
        """Return the stress limits this strategy's setups are held to (the shared [critic])."""
        return self.services.config.critic

    # -- lifecycle -----------------------------------------------------------------------------
    def setup(self) -> None:
        """Rebuild positions from the journal and hold their risk in the Risk Guard."""
        self.decisions.announce()
        if not self.shadow:
            # owned from the start: another thread's reconciliation must not write this journal
            # while it is rebuilt (it calls catch_up_now, which waits for the desk)
            self.services.cycle.register(self.name, self.catch_up_now)
        with self.ctx.desk:
            opened = self.adoption.rebuild()
            self.catch_up.run(self.services.clock.now())
            self.publish()
        self.services.emit(f"{self.name}: started, {opened} open position(s) from the journal")
        if self.shadow:
            self.adoption.warn_unmanaged_real_positions()

    def teardown(self) -> None:
        """Flush the journal (working orders were cancelled by Execution when the clock stopped)."""
        self.services.cycle.unregister(self.name)
        self.services.emit(f"{self.name}: stopped")

    def on_error(self, detail: str) -> None:
        """Journal a fatal error with its traceback (only say it when the journal cannot)."""
        with contextlib.suppress(JournalWriteError):
            self.ctx.risk_line(None, "strategy_error", detail)
        self.services.emit(f"{self.name}: ERROR {detail.strip().splitlines()[-1]}")

    def catch_up_now(self) -> int:
        """Journal the executions this strategy lacks now (from another thread: takes the desk)."""
        with self.ctx.desk:
            return self.catch_up.run(self.services.clock.now())

    def poll_once(self) -> None:
        """Catch up with the broker, measure the account, manage open positions, act on what the
        account or a person asks (close, flatten), then consider entries unless they are stopped;
        publish the result."""
        with self.ctx.desk:
            self._poll(self.services.clock.now())

    def _poll(self, now: datetime) -> None:
        if self.catch_up.due(now):
            self.catch_up.run(now)
            self.services.cycle.maybe(self.services, now)
        try:
            self.services.account.check(now)
            self.adoption.follow_orders()
            self.manager.manage(now)
            if not self.stop_requested:
                self.interventions.act(now)
            if not self.stop_requested and self.interventions.entries_allowed():
                try:
                    self.scanner.entries(now)
                finally:
                    self.decisions.flush()
        finally:
            self.publish()

    def publish(self) -> StrategyView:
        """Build and publish an immutable view of this strategy (atomic attribute swap)."""
        rows = []
        for pos in self.book.open_positions():
            view = self.marks.views.get(pos.position_id)
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
                    iv_rank=self.marks.iv_rank.get(pos.listing_id),
                    width=meta.get("width"),
                    manage_dte=int(self.manage_dte),
                    confidence=self.marks.confidence.get(pos.position_id),
                )
            )
        published = StrategyView(
            name=self.name,
            state=self.state_value,
            shadow=self.shadow,
            last_poll=self.last_poll,
            positions=tuple(rows),
            entries_today=entries_today(self.book, self.services.clock.now().date()),
            max_open_positions=int(self.config.max_open_positions),
            error=self.error,
        )
        self.published = published
        return published

    def open_positions(self) -> int:
        """Return how many positions this strategy holds open."""
        return len(self.book.open_positions())

    def _plan_commission(self, plan: OrderPlan) -> float:
        """Return the commission one order of `plan` would pay (shadow fills, $)."""
        currency = self.services.listings[plan.listing_id].currency
        return self.services.commissions[currency].combo(plan.legs, plan.qty)
