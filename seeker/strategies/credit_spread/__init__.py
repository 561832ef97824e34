"""Credit spread: sell a 0.10–0.15 Δ put (uptrend) or call (downtrend), wing 0.50–1.00 $ further."""

from seeker.strategies.credit_spread.strategy import CreditSpread

__all__ = ["CreditSpread"]
