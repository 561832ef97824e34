"""Test hooks for crash safety: die, or fail like a full disk, at one exact durable write.

Seeker's crash tests do not mock its writers: they set an environment variable that the writers
themselves read once, at import, and the process really dies (SIGKILL, as ``kill -9`` would) or
really gets ``OSError(ENOSPC)`` at the chosen write. Nothing happens when the variables are unset
(one module-level boolean is tested per write).

* ``SEEKER_TEST_CRASH_AT=POINT:N:PHASE`` — SIGKILL this process right ``before`` or ``after`` the
  N-th write (1-based) of POINT in this process;
* ``SEEKER_TEST_DISK_FULL_AT=POINT:N[:torn]`` — the N-th write of POINT, and every write after it,
  fails with ENOSPC; ``torn`` first writes half of that line (a line cut at the disk's end).

POINT is a journal event (``ORDER``, ``ORDER_STATUS``, ``DECISION``, ``POST_TRADE``…; a FILL is
``FILL:combo`` or ``FILL:leg``), or a write of the simulated broker: ``EXEC`` (its execution log),
``STATE`` (its account snapshot), ``CLOCK`` (its clock and id file). Examples:
``FILL:combo:3:before``, ``ORDER_STATUS:2:after``, ``STATE:4:before``, ``FILL:leg:1:torn``.
"""

from __future__ import annotations

import errno
import os
import signal
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

CRASH_VARIABLE = "SEEKER_TEST_CRASH_AT"
DISK_FULL_VARIABLE = "SEEKER_TEST_DISK_FULL_AT"

Phase = Literal["before", "after"]


@dataclass(frozen=True)
class FaultPoint:
    """Where a test fault strikes: the N-th write of one kind, before or after it."""

    point: str
    nth: int
    phase: str

    @classmethod
    def parse(cls, text: str, phases: frozenset[str], default_phase: str = "") -> FaultPoint:
        """Parse ``POINT:N:PHASE`` (POINT may hold a colon, e.g. ``FILL:combo``)."""
        parts = text.strip().split(":")
        phase = default_phase
        if parts and parts[-1] in phases:
            phase = parts.pop()
        if len(parts) < 2 or not parts[-1].isdigit() or int(parts[-1]) < 1 or not phase:
            raise ValueError(f"bad test fault point {text!r} (want POINT:N:{'|'.join(phases)})")
        return cls(":".join(parts[:-1]), int(parts[-1]), phase)


def _read(name: str, phases: frozenset[str], default_phase: str = "") -> FaultPoint | None:
    text = os.environ.get(name, "")
    return FaultPoint.parse(text, phases, default_phase) if text else None


_CRASH = _read(CRASH_VARIABLE, frozenset({"before", "after"}))
_FULL = _read(DISK_FULL_VARIABLE, frozenset({"torn", "clean"}), "clean")
ARMED = _CRASH is not None or _FULL is not None
"""True when a test fault is set: writers then write line by line and call the hooks."""

_counts: dict[str, int] = {}
_lock = threading.Lock()
_disk_full = False


def point_of(line: Mapping[str, Any]) -> str:
    """Return the fault point of a journal line: its event, and a FILL's kind."""
    event = str(line.get("event"))
    return f"FILL:{line.get('kind', 'combo')}" if event == "FILL" else event


def before(point: str) -> str | None:
    """Count one write of `point` that is about to happen; die if a crash is set before it.

    Return "torn" or "clean" when this write must fail like a full disk (the caller writes half of
    the line for "torn", then raises :func:`disk_full_error`), else None.
    """
    global _disk_full
    with _lock:
        n = _counts.get(point, 0) + 1
        _counts[point] = n
        full = _disk_full
        if _FULL is not None and _FULL.point == point and n == _FULL.nth:
            _disk_full = full = True
            return _FULL.phase
    crash = _CRASH
    if crash is not None and (crash.phase, crash.point, crash.nth) == ("before", point, n):
        die()
    return "clean" if full else None


def after(point: str) -> None:
    """Die if a crash is set right after this write of `point` (already on disk)."""
    if _CRASH is not None and _CRASH.phase == "after" and _CRASH.point == point:
        with _lock:
            n = _counts.get(point, 0)
        if n == _CRASH.nth:
            die()


def disk_full_error(what: object) -> OSError:
    """Return the error a full disk gives."""
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(what))


def die() -> None:
    """Kill this process at once, as ``kill -9`` would: no cleanup, no flush of anything."""
    os.kill(os.getpid(), signal.SIGKILL)
