"""Jobs for `ProcessExecutor` tests: module-level functions, importable by spawned workers."""

from __future__ import annotations

import signal
import time


def deaf_and_busy(_job: int) -> int:
    """Ignore SIGTERM (as a run whose own handler took it would) and stay busy for 10 minutes."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(600)
    return 0


def fail_soon(_job: int) -> int:
    """Raise after a second (the other job is under way by then): the executor terminates."""
    time.sleep(1.0)
    raise ValueError("this job fails")


def deaf_or_failing(job: int) -> int:
    """Job 0 is deaf to SIGTERM and busy; the others fail soon."""
    return deaf_and_busy(job) if job == 0 else fail_soon(job)
