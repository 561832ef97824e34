"""The credit spread strategy: sold on the trend's side, with its own scanner and exits."""

from __future__ import annotations

from datetime import date

from seeker.agents.critic import CriticConfig
from seeker.agents.regime import Regime
from seeker.agents.verdict import Verdict
from seeker.core.models import Chain, Listing
from seeker.core.structures import Setup
from seeker.engine.registry import register
from seeker.strategies.common.strategy import PremiumSeller
from seeker.strategies.credit_spread import risk, scanner
from seeker.strategies.credit_spread.config import CreditSpreadConfig, CreditSpreadSide


def trend_side(regime: Regime) -> CreditSpreadSide | None:
    """Return the spread on the trend's side: bull_put when up, bear_call when down, else None."""
    if regime.trend == "up":
        return "bull_put"
    if regime.trend == "down":
        return "bear_call"
    return None


@register
class CreditSpread(PremiumSeller[CreditSpreadConfig]):
    """Sell a 0.10–0.15 Δ vertical on the trend's side, wing 0.50–1.00 $, ~45 DTE; out at 21."""

    name = "credit_spread"
    description = (
        "bull put (uptrend) or bear call (downtrend) at Δ0.10–0.15, wing 0.50–1.00 $, ~45 DTE"
    )
    config_model = CreditSpreadConfig
    id_prefix = "cs"
    takes_side = True
    EXITS = risk.EXITS

    def entry_side(self, regime: Regime) -> CreditSpreadSide | None:
        """Return the spread on the trend's side (see ``trend_side``)."""
        return trend_side(regime)

    def scan(
        self, listing: Listing, chain: Chain, today: date, regime: Regime, fit: Verdict
    ) -> tuple[list[Setup], str]:
        """Return credit spread setups for one underlying, on the side the selection chose."""
        side = fit.details.get("side")
        return scanner.find_setups(self.config, self.name, listing, chain, today, side)

    def critic_config(self) -> CriticConfig:
        """Return the shared stress limits with the credit spread's own credit/risk floor.

        A single vertical collects one credit for its risk where an iron condor collects two, so
        the shared floor is replaced by ``critic_min_credit_to_risk``; the stress sizes, the
        stress limit and the score weights stay the shared ``[critic]`` table's.
        """
        shared = self.services.config.critic
        return CriticConfig.model_validate(
            {**shared.model_dump(), "min_credit_to_risk": self.config.critic_min_credit_to_risk}
        )
