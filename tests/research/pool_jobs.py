"""Jobs for `ProcessExecutor` tests: module-level functions, importable by spawned workers."""

from __future__ import annotations

import signal
import time
from pathlib import Path


def deaf_and_busy(ready: Path) -> int:
    """Ignore SIGTERM (as a run whose own handler took it would), say so by creating `ready`,
    and stay busy for 10 minutes."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ready.touch()
    time.sleep(600)
    return 0


def fail_soon(ready: Path) -> int:
    """Raise once the other job is deaf and under way (`ready` exists): the executor terminates.

    Bounded: if the deaf job never started within a minute, raise something else (the test
    expects "this job fails", so it fails instead of passing without a deaf worker).
    """
    deadline = time.monotonic() + 60.0
    while not ready.exists():
        if time.monotonic() > deadline:
            raise ValueError("the deaf job never started")
        time.sleep(0.01)
    raise ValueError("this job fails")


def deaf_or_failing(job: tuple[int, str]) -> int:
    """Job 0 is deaf to SIGTERM and busy; the others fail once it is (`job` is (number, the
    ready file's path))."""
    number, ready = job
    return deaf_and_busy(Path(ready)) if number == 0 else fail_soon(Path(ready))
