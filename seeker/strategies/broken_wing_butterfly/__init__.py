"""Broken-wing butterfly (credit): a put fly whose lower wing is wider, to sell the put skew."""

from seeker.strategies.broken_wing_butterfly.strategy import BrokenWingButterfly

__all__ = ["BrokenWingButterfly"]
