"""The strategies: the bundled packages, and any a user installs under the entry point group
``seeker.strategies``. Each package registers its strategy class when it is imported."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the engine is imported by load() only: `seeker list` reads the catalog
    from seeker.engine.lifecycle import Strategy

BUNDLED = (
    "seeker.strategies.iron_condor",
    "seeker.strategies.credit_spread",
    "seeker.strategies.diagonal",
    "seeker.strategies.iron_fly",
    "seeker.strategies.broken_wing_butterfly",
)
"""The strategy packages shipped with Seeker."""

ENTRY_POINT_GROUP = "seeker.strategies"
"""Where a separately installed package names its strategy module."""


def load() -> Mapping[str, type[Strategy]]:
    """Import the bundled strategy packages and installed plugins; return the registry."""
    from importlib.metadata import entry_points

    from seeker.engine.registry import registered

    for module in BUNDLED:
        importlib.import_module(module)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        entry.load()
    return registered()
