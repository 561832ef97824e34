"""Iron fly: sell the at-the-money straddle, buy wings 0.50–1.00 $ away on each side."""

from seeker.strategies.iron_fly.strategy import IronFly

__all__ = ["IronFly"]
