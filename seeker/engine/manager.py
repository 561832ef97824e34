"""The StrategyManager: one thread per strategy, started in a fixed order, stopped gracefully."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from seeker.engine.lifecycle import Strategy, StrategyState
from seeker.engine.registry import UnknownStrategy, registered

if TYPE_CHECKING:
    from seeker.engine.services import Services


class StrategyManager:
    """Start strategies in their own threads and stop them gracefully."""

    def __init__(
        self,
        services: Services,
        strategies: Mapping[str, type[Strategy]] | None = None,
        on_all_ended: Callable[[], None] | None = None,
    ) -> None:
        """`on_all_ended` is called (in the last strategy thread) once every started strategy's
        thread has left its run: whoever waits for the end need not poll for it."""
        self.services = services
        self.available = dict(registered() if strategies is None else strategies)
        self.strategies: dict[str, Strategy] = {}
        self.threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._on_all_ended = on_all_ended
        self._running = 0

    def start(self, names: Iterable[str]) -> None:
        """Create and start the named strategies, one thread each, in a fixed order."""
        reg = self.available
        ordered = sorted(set(names))
        unknown = [n for n in ordered if n not in reg]
        if unknown:
            known = ", ".join(sorted(reg))
            raise UnknownStrategy(f"unknown strategy {', '.join(unknown)} (known: {known})")
        with self._lock:
            self.services.clock_expect(ordered)
            for name in ordered:
                cfg = self.services.config.strategies.table(name)
                if cfg is None:
                    raise UnknownStrategy(f"strategies.{name}: the strategy has no config table")
                strategy = reg[name](self.services, cfg)
                self.strategies[name] = strategy
                thread = threading.Thread(
                    target=self._run, args=(strategy,), name=f"seeker-{name}", daemon=True
                )
                self.threads[name] = thread
            self._running += len(ordered)
            for thread in self.threads.values():
                thread.start()

    def _run(self, strategy: Strategy) -> None:
        """Run one strategy's thread body; tell `on_all_ended` when it was the last to end."""
        try:
            strategy.run()
        finally:
            with self._lock:
                self._running -= 1
                last = self._running == 0
            if last and self._on_all_ended is not None:
                self._on_all_ended()

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
