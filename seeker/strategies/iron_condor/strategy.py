"""The iron condor strategy: the premium seller's cycle with the condor's scanner and exits."""

from __future__ import annotations

from datetime import date

from seeker.agents.regime import Regime
from seeker.agents.verdict import Verdict
from seeker.core.models import Chain, Listing
from seeker.core.structures import Setup
from seeker.engine.registry import register
from seeker.strategies.common.strategy import PremiumSeller
from seeker.strategies.iron_condor import risk, scanner
from seeker.strategies.iron_condor.config import IronCondorConfig


@register
class IronCondor(PremiumSeller[IronCondorConfig]):
    """Sell 0.10–0.15 Δ strangles hedged by 0.50–1.00 $ wings, ~45 DTE; manage at 21 DTE."""

    name = "iron_condor"
    description = "short put + call spreads at Δ0.10–0.15, wings 0.50–1.00 $, ~45 DTE, out at 21"
    config_model = IronCondorConfig
    id_prefix = "ic"
    EXITS = risk.EXITS

    def scan(
        self, listing: Listing, chain: Chain, today: date, regime: Regime, fit: Verdict
    ) -> tuple[list[Setup], str]:
        """Return iron condor setups for one underlying."""
        return scanner.find_setups(self.config, self.name, listing, chain, today)
