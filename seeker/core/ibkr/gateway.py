"""The gateway thread: one asyncio event loop in one thread, fed coroutines by other threads.

ib_async is built for one event loop and is not thread-safe, so IBKRBroker runs every ib_async
call on this loop; strategy threads submit coroutines with :meth:`LoopThread.run` and wait on a
future with a timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """Own one asyncio event loop running in a daemon thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """Return the running loop (start() first)."""
        if self._loop is None:
            raise RuntimeError(f"{self.name} is not running")
        return self._loop

    @property
    def running(self) -> bool:
        """Return True while the loop thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def in_loop_thread(self) -> bool:
        """Return True when called from the loop's own thread."""
        return self._thread is not None and threading.current_thread() is self._thread

    def start(self, timeout: float = 5.0) -> None:
        """Start the loop thread (no-op when already running)."""
        if self.running:
            return
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def main() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            try:
                loop.run_forever()
            finally:
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=main, name=self.name, daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError(f"{self.name} did not start within {timeout} s")

    def run(self, factory: Callable[[], Coroutine[Any, Any, T]], timeout: float) -> T:
        """Run the coroutine `factory()` makes on the loop; return its result within `timeout`.

        On timeout the coroutine is cancelled and :class:`TimeoutError` is raised.
        """
        if self.in_loop_thread():
            raise RuntimeError("a blocking call from the gateway thread would deadlock")
        future = asyncio.run_coroutine_threadsafe(factory(), self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"no answer within {timeout:g} s") from None

    def call_soon(self, fn: Callable[[], object]) -> None:
        """Schedule `fn()` on the loop from any thread."""
        self.loop.call_soon_threadsafe(fn)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop (pending tasks are cancelled) and join its thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if thread.is_alive() and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        if threading.current_thread() is not thread:
            thread.join(timeout)
        self._thread = None
        self._loop = None
