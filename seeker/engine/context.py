"""One strategy's desk: what the engine's components share while they run that strategy.

The strategy package supplies its hooks (`StrategyHooks`: scan, exits, entry bound, expiries,
strike window, worst loss, critic limits, regime fit); the engine keeps its journal, its Risk
Guard (the shadow one in shadow mode), its book of positions and its executor here, so that each
lifecycle component (entries, management, closes, rolls, settlement, adoption) is a small class
that reads and writes the same state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from seeker.agents.critic import CriticConfig
from seeker.agents.regime import Regime
from seeker.agents.risk_guard import RiskGuard
from seeker.agents.verdict import Verdict
from seeker.config.strategy import StrategyConfig
from seeker.core.execution import Executor
from seeker.core.journal import Journal
from seeker.core.models import Chain, Leg, Listing, OptionContract, OptionQuote
from seeker.core.positions import PositionBook
from seeker.core.structures import Setup
from seeker.engine.signals import ExitSignal, PositionView

if TYPE_CHECKING:
    from seeker.config.root import SeekerConfig
    from seeker.engine.services import Services


class StrategyHooks(Protocol):
    """What a strategy package supplies to the engine's cycle."""

    @property
    def name(self) -> str:
        """Return the strategy's registered name."""
        ...

    @property
    def sells_premium(self) -> bool:
        """Return True for premium sellers (they like a high IV rank)."""
        ...

    @property
    def manage_dte(self) -> int:
        """Return the days to expiry at which positions are managed (the confidence's horizon)."""
        ...

    def regime_fit(self, regime: Regime) -> Verdict:
        """Return whether today's regime allows an entry (the selection verdict)."""
        ...

    def wanted_expiries(self, listed: Sequence[date], today: date) -> list[date]:
        """Return the expiries the scanner needs from the listed ones."""
        ...

    def strike_window(
        self, spot: float, iv: float, expiries: Sequence[date], today: date
    ) -> tuple[float, float]:
        """Return the strike range to request ($)."""
        ...

    def scan(
        self, listing: Listing, chain: Chain, today: date, regime: Regime, fit: Verdict
    ) -> tuple[list[Setup], str]:
        """Return up to three setups for one underlying, best first, and why none if empty."""
        ...

    def entry_bound(self, setup: Setup) -> float:
        """Return the worst net debit per unit accepted when opening ($ per share)."""
        ...

    def critic_config(self) -> CriticConfig:
        """Return the stress limits this strategy's setups are held to."""
        ...

    def exit_signal(self, view: PositionView) -> ExitSignal | None:
        """Return the exit rule that fires for a position now, or None."""
        ...

    def structure_worst_loss(
        self,
        legs: Sequence[Leg],
        quotes: Mapping[OptionContract, OptionQuote],
        net_debit: float,
        now: datetime,
    ) -> float:
        """Return the worst loss per unit of `legs` held at `net_debit` ($ per share)."""
        ...


@dataclass
class StrategyContext:
    """The state one strategy's components share (one per strategy thread)."""

    name: str
    id_prefix: str
    config: StrategyConfig
    services: Services
    shadow: bool
    journal: Journal
    guard: RiskGuard
    book: PositionBook
    executor: Executor
    hooks: StrategyHooks
    stop_requested: Callable[[], bool]
    desk: threading.RLock = field(default_factory=threading.RLock)
    """Held while the strategy's thread works (a poll, its setup): another thread that must
    touch this strategy's book or journal (catching up after a reconnect) takes it too."""

    @property
    def settings(self) -> SeekerConfig:
        """Return the whole config (the shared tables: execution, liquidity, events…)."""
        return self.services.config

    def emit(self, message: str) -> None:
        """Print one line of the plain log (or to the dashboard)."""
        self.services.emit(message)

    def in_rth(self, listing_id: str) -> bool:
        """Return True when the listing's exchange is in regular trading hours now."""
        listing = self.services.listings[listing_id]
        return self.services.calendars.is_open(listing.calendar, self.services.clock.now())

    def risk_line(self, position_id: str | None, rule: str, detail: str) -> None:
        """Write one RISK line of this strategy."""
        self.journal.write(
            "RISK", strategy=self.name, position_id=position_id, rule=rule, detail=detail
        )
