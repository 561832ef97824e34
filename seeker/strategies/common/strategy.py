"""The single-expiry premium seller: the engine's hooks for every strategy whose legs share one
expiry and that opens for a credit (iron condor, credit spread, iron fly, broken-wing butterfly).

Entry: the expiries nearest ``dte_target`` and the nearest monthly inside ``dte_min``–``dte_max``;
strikes within ±``CHAIN_SIGMAS`` deviations plus the widest wing; never for less than
``min_credit``. Exits: the strategy's ``EXITS`` tuple, first rule that fires.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import ClassVar, TypeVar

from seeker.core.structures import Setup
from seeker.engine.cycle import OptionStrategy
from seeker.engine.signals import ExitSignal, PositionView
from seeker.strategies.common.config import PremiumSellerConfig
from seeker.strategies.common.exits import ExitInputs, ExitRule, first_exit
from seeker.strategies.common.scan import in_dte_window, is_monthly, pick_expiry

CHAIN_SIGMAS = 2.0
"""Half-width of a chain request in standard deviations of the underlying at the last expiry."""

SellerConfigT = TypeVar("SellerConfigT", bound=PremiumSellerConfig)


class PremiumSeller(OptionStrategy[SellerConfigT]):
    """A single-expiry structure sold for a credit, managed by its ordered exit rules."""

    EXITS: ClassVar[Sequence[ExitRule[SellerConfigT]]]
    """The management rules, in order: the first that fires is acted on."""

    @property
    def manage_dte(self) -> int:
        """Return ``manage_dte`` of the strategy's table."""
        return self.config.manage_dte

    def wanted_expiries(self, listed: Sequence[date], today: date) -> list[date]:
        """Return the expiries the scanner needs: nearest dte_target, and the nearest monthly.

        Both lie in the strategy's DTE window; monthlies usually carry more open interest.
        """
        cfg = self.config
        window = in_dte_window(listed, today, cfg.dte_min, cfg.dte_max)
        chosen = pick_expiry(window, today, cfg.dte_min, cfg.dte_max, cfg.dte_target)
        monthly = pick_expiry(
            [e for e in window if is_monthly(e)], today, cfg.dte_min, cfg.dte_max, cfg.dte_target
        )
        return sorted({e for e in (chosen, monthly) if e is not None})

    def strike_window(
        self, spot: float, iv: float, expiries: Sequence[date], today: date
    ) -> tuple[float, float]:
        """Return the strike range to request: ±CHAIN_SIGMAS deviations plus the widest wing."""
        years = max((e - today).days for e in expiries) / 365.0
        span = CHAIN_SIGMAS * iv * math.sqrt(max(years, 1.0 / 365.0))
        pad = self.config.widest_wing() + 1.0
        return spot * math.exp(-span) - pad, spot * math.exp(span) + pad

    def entry_bound(self, setup: Setup) -> float:
        """Return the worst net debit per unit accepted when opening: −min_credit."""
        return -float(self.config.min_credit)

    def exit_inputs(self, view: PositionView) -> ExitInputs:
        """Return what the exit rules read for a position now (measures a strategy adds)."""
        return ExitInputs(view)

    def exit_signal(self, view: PositionView) -> ExitSignal | None:
        """Return the first of this strategy's exit rules that fires, or None."""
        return first_exit(self.EXITS, self.config, self.exit_inputs(view))
