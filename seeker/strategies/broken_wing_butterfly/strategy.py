"""The broken-wing butterfly strategy: a put fly with a wider lower wing, for a credit, on skew."""

from __future__ import annotations

import math
from datetime import date

from seeker.agents.regime import Regime
from seeker.agents.verdict import Verdict
from seeker.core.models import Chain, DataUnavailable, Listing
from seeker.core.structures import Setup
from seeker.engine.registry import register
from seeker.engine.signals import PositionView
from seeker.strategies.broken_wing_butterfly import risk, scanner
from seeker.strategies.broken_wing_butterfly.config import BrokenWingButterflyConfig
from seeker.strategies.common.exits import ExitInputs
from seeker.strategies.common.strategy import PremiumSeller


@register
class BrokenWingButterfly(PremiumSeller[BrokenWingButterflyConfig]):
    """Sell two puts at the body, buy a put a narrow wing above and one a wider wing below, ~45 DTE.

    Entered for a net credit when the put skew is marked; take 40–50 % of the credit, stop on a
    fast move toward the short puts and the broken wing, manage at 21 DTE.
    """

    name = "broken_wing_butterfly"
    description = "put BWB for a credit on marked skew: 1×K1 / −2×K2 / 1×K3, K2−K3 > K1−K2"
    config_model = BrokenWingButterflyConfig
    id_prefix = "bw"
    EXITS = risk.EXITS

    def scan(
        self, listing: Listing, chain: Chain, today: date, regime: Regime, fit: Verdict
    ) -> tuple[list[Setup], str]:
        """Return broken-wing butterfly setups for one underlying."""
        return scanner.find_setups(self.config, self.name, listing, chain, today)

    def exit_inputs(self, view: PositionView) -> ExitInputs:
        """Return the position with the recent fall measured from history and ATR."""
        return ExitInputs(view, fall_atr=self.fall_atr(view))

    def fall_atr(self, view: PositionView) -> float | None:
        """Return the fall since the recent high in ATRs, or None when it cannot be measured.

        The high is the highest close of the last ``move_sessions`` completed sessions, counting
        only those since the position opened, and the spot at entry when the entry lies inside
        that window: a fall that happened before the entry never stops the position.
        """
        pos = view.position
        lid = pos.listing_id
        try:
            history = self.services.history(lid, int(self.config.move_sessions))
            atr = float(self.services.regime(lid).atr)
        except DataUnavailable:
            return None
        opened = pos.opened_at.date() if pos.opened_at is not None else None
        highs = [
            float(close)
            for day, close in zip(history.dates, history.close, strict=True)
            if opened is None or day >= opened
        ]
        entry_spot = pos.meta.get("spot")
        if entry_spot is not None and opened is not None and opened >= history.dates[0]:
            highs.append(float(entry_spot))
        finite = [h for h in highs if math.isfinite(h)]
        if not finite or not (math.isfinite(atr) and atr > 0):
            return None
        return (max(finite) - view.spot) / atr
