"""The exit codes of ``seeker run`` (and of every command for the first three)."""

from __future__ import annotations

OK = 0
"""Normal end: the --days run finished, or Ctrl+C / SIGTERM stopped it cleanly."""
UNREACHABLE = 1
"""TWS / IB Gateway could not be reached, or a strategy did not stop in time."""
USAGE = 2
"""Config or usage problem, live trading refused, log folder not writable or already in use:
nothing connected, nothing journaled."""
STRATEGY_ERROR = 3
"""A strategy ended in ERROR (its traceback is in its risk_events.jsonl); the others ran on."""
WRITE_FAILED = 4
"""A journal or broker-state write failed (disk full, read-only, I/O error): trading stopped;
what the broker did meanwhile is recovered at the next start."""
