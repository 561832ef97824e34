"""The toy strategy: the shared premium seller with the toy's scanner and exit rules."""

from __future__ import annotations

from datetime import date

from seeker.agents.regime import Regime
from seeker.agents.verdict import Verdict
from seeker.core.models import Chain, Listing
from seeker.core.structures import Setup
from seeker.strategies.common.strategy import PremiumSeller
from tests.toy_strategy import risk, scanner
from tests.toy_strategy.config import ToyPutSpreadConfig


class ToyPutSpread(PremiumSeller[ToyPutSpreadConfig]):
    """Sell a put vertical at one delta whatever the regime (a test's strategy)."""

    name = "toy_put_spread"
    description = "test only: a put vertical at one delta, any regime"
    config_model = ToyPutSpreadConfig
    id_prefix = "toy"
    EXITS = risk.EXITS

    def scan(
        self, listing: Listing, chain: Chain, today: date, regime: Regime, fit: Verdict
    ) -> tuple[list[Setup], str]:
        """Return the toy's setups for one underlying."""
        return scanner.find_setups(self.config, self.name, listing, chain, today)
