"""Bundled strategies; importing this package registers each of them."""

from seeker.strategies import (  # noqa: F401
    broken_wing_butterfly,
    credit_spread,
    diagonal,
    iron_condor,
    iron_fly,
)
