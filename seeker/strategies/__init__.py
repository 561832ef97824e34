"""Bundled strategies; importing this package registers each of them."""

from seeker.strategies import iron_condor  # noqa: F401
