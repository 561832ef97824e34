"""The strategy registry (``@register``) and the StrategyManager (one thread per strategy)."""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from pydantic import BaseModel

from seeker.core.base import Strategy, StrategyState

if TYPE_CHECKING:
    from seeker.core.services import Services

_REGISTRY: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Register a strategy class under its ``name`` (use as a class decorator)."""
    name = getattr(cls, "name", None)
    if not name or not name.isidentifier():
        raise ValueError(f"{cls.__qualname__} needs a `name` that is an identifier")
    if not (isinstance(getattr(cls, "config_model", None), type)):
        raise ValueError(f"{name}: `config_model` must be a pydantic model class")
    if not issubclass(cls.config_model, BaseModel):
        raise ValueError(f"{name}: `config_model` must be a pydantic model class")
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not cls:
        raise ValueError(f"strategy {name!r} registered twice")
    _REGISTRY[name] = cls
    return cls


def load_strategies() -> Mapping[str, type[Strategy]]:
    """Import the bundled strategy packages and return the registry."""
    importlib.import_module("seeker.strategies")
    return dict(_REGISTRY)


def registry() -> Mapping[str, type[Strategy]]:
    """Return the registered strategies by name."""
    return dict(_REGISTRY)


def strategy_config_models() -> dict[str, type[BaseModel]]:
    """Return each registered strategy's config model by name."""
    return {name: cls.config_model for name, cls in load_strategies().items()}


class UnknownStrategy(ValueError):
    """Raise when a strategy name is not registered."""


class StrategyManager:
    """Start strategies in their own threads and stop them gracefully."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.strategies: dict[str, Strategy] = {}
        self.threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(self, names: Iterable[str]) -> None:
        """Create and start the named strategies, one thread each, in a fixed order."""
        reg = load_strategies()
        ordered = sorted(set(names))
        unknown = [n for n in ordered if n not in reg]
        if unknown:
            known = ", ".join(sorted(reg))
            raise UnknownStrategy(f"unknown strategy {', '.join(unknown)} (known: {known})")
        with self._lock:
            self.services.clock_expect(ordered)
            for name in ordered:
                cfg = getattr(self.services.config.strategies, name)
                strategy = reg[name](self.services, cfg)
                self.strategies[name] = strategy
                thread = threading.Thread(target=strategy.run, name=f"seeker-{name}", daemon=True)
                self.threads[name] = thread
            for thread in self.threads.values():
                thread.start()

    def stop(self) -> None:
        """Ask every strategy to finish its step and wind down."""
        for strategy in self.strategies.values():
            strategy.request_stop()
        self.services.clock.stop()

    def alive(self) -> list[str]:
        """Return the names of strategies whose threads still run."""
        return [name for name, t in self.threads.items() if t.is_alive()]

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for every thread; return True if all ended."""
        deadline = time.monotonic() + timeout
        for thread in self.threads.values():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            thread.join(left)
        return not self.alive()

    def states(self) -> dict[str, StrategyState]:
        """Return each strategy's state."""
        return {name: s.state for name, s in self.strategies.items()}
