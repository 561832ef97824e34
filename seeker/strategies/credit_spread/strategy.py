"""The credit spread strategy: the shared cycle with the credit spread's scanner and exit rules."""

from __future__ import annotations

from datetime import date

from seeker.agents.critic import CriticConfig
from seeker.agents.regime import Regime
from seeker.agents.verdict import Verdict
from seeker.core.manager import register
from seeker.core.models import Chain, Listing
from seeker.core.structures import Setup
from seeker.core.trading import ExitSignal, OptionStrategy, PositionView
from seeker.strategies.credit_spread import risk, scanner
from seeker.strategies.credit_spread.config import CreditSpreadConfig


@register
class CreditSpread(OptionStrategy):
    """Sell a 0.10–0.15 Δ vertical on the trend's side, wing 0.50–1.00 $, ~45 DTE; out at 21."""

    name = "credit_spread"
    description = (
        "bull put (uptrend) or bear call (downtrend) at Δ0.10–0.15, wing 0.50–1.00 $, ~45 DTE"
    )
    config_model = CreditSpreadConfig
    id_prefix = "cs"

    def scan(
        self, listing: Listing, chain: Chain, today: date, regime: Regime, fit: Verdict
    ) -> tuple[list[Setup], str]:
        """Return credit spread setups for one underlying, on the side the selection chose."""
        side = fit.details.get("side")
        return scanner.find_setups(self.config, self.name, listing, chain, today, side)

    def exit_signal(self, view: PositionView) -> ExitSignal | None:
        """Return the credit spread exit that fires now, if any."""
        return risk.exit_signal(self.config, view)

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
