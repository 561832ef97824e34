"""The iron fly strategy: the premium seller's cycle with the fly's scanner, event buffer, exits."""

from __future__ import annotations

import math
from datetime import date

from seeker.agents.regime import Regime
from seeker.agents.verdict import Verdict
from seeker.core.models import Chain, DataUnavailable, Listing
from seeker.core.structures import Setup
from seeker.engine.registry import register
from seeker.engine.signals import PositionView
from seeker.strategies.common.exits import ExitInputs
from seeker.strategies.common.strategy import PremiumSeller
from seeker.strategies.iron_fly import risk, scanner
from seeker.strategies.iron_fly.config import IronFlyConfig


@register
class IronFly(PremiumSeller[IronFlyConfig]):
    """Sell the at-the-money straddle hedged by 0.50–1.00 $ wings, ~45 DTE; manage at 21 DTE."""

    name = "iron_fly"
    description = "short ATM straddle, wings 0.50–1.00 $, ~45 DTE, away from events, out at 21"
    config_model = IronFlyConfig
    id_prefix = "if"
    EXITS = risk.EXITS

    def scan(
        self, listing: Listing, chain: Chain, today: date, regime: Regime, fit: Verdict
    ) -> tuple[list[Setup], str]:
        """Return iron fly setups for one underlying, none inside the fly's event buffer.

        DataUnavailable (journaled ``blocked_by: "data"``) when the distance to the next watched
        event cannot be told.
        """
        now = self.services.clock.now()
        try:
            nearest = self.services.event_risk.next_event(listing, now)
        except DataUnavailable as exc:
            raise DataUnavailable(f"iron fly event buffer: next event unknown: {exc}") from None
        refusal = scanner.event_refusal(self.config, nearest)
        if refusal is not None:
            return [], refusal
        return scanner.find_setups(self.config, self.name, listing, chain, today, regime.trend)

    def exit_inputs(self, view: PositionView) -> ExitInputs:
        """Return the position with today's ATR of its underlying (NaN when unknown)."""
        try:
            atr = float(self.services.regime(view.position.listing_id).atr)
        except DataUnavailable:
            atr = math.nan
        return ExitInputs(view, atr=atr)
