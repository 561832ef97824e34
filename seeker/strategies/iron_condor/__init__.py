"""Iron condor: sell a put spread and a call spread around the price, wings 0.50–1.00 $."""

from seeker.strategies.iron_condor.strategy import IronCondor

__all__ = ["IronCondor"]
