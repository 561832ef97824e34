"""The strategy registry: strategy classes by name, added with the ``@register`` decorator.

The engine never imports a strategy package: packages register themselves when imported (the
bundled ones by ``seeker.strategies.load()``, a user's own through the ``seeker.strategies`` entry
point group or a plain import), and whoever starts Seeker hands the registry to the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from seeker.config.strategy import StrategyConfig
from seeker.engine.lifecycle import Strategy

S = TypeVar("S", bound=type[Strategy])

_REGISTRY: dict[str, type[Strategy]] = {}


class UnknownStrategy(ValueError):
    """Raise when a strategy name is not registered."""


def register(cls: S) -> S:
    """Register a strategy class under its ``name`` (use as a class decorator)."""
    name = getattr(cls, "name", None)
    if not name or not name.isidentifier():
        raise ValueError(f"{cls.__qualname__} needs a `name` that is an identifier")
    model = getattr(cls, "config_model", None)
    if not (isinstance(model, type) and issubclass(model, StrategyConfig)):
        raise ValueError(f"{name}: `config_model` must be a StrategyConfig subclass")
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not cls:
        raise ValueError(f"strategy {name!r} registered twice")
    _REGISTRY[name] = cls
    return cls


def unregister(name: str) -> None:
    """Remove a strategy from the registry (a test's own strategy, after the test)."""
    _REGISTRY.pop(name, None)


def registered() -> Mapping[str, type[Strategy]]:
    """Return the registered strategies by name."""
    return dict(_REGISTRY)


def config_models(strategies: Mapping[str, type[Strategy]]) -> dict[str, type[StrategyConfig]]:
    """Return each strategy's config model by name."""
    return {name: cls.config_model for name, cls in strategies.items()}
