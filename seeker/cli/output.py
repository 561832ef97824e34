"""Printing never stops trading: a closed stdout (``| head``, a closed terminal) is let go.

The first failed write (broken pipe, I/O error) points stdout at ``/dev/null`` for the rest of the
process, so neither later prints nor the interpreter's final flush fail; the run goes on and its
journals say everything the lines would have said.
"""

from __future__ import annotations

import os
import sys
import threading

_lock = threading.Lock()
_silenced = False


def say(text: str) -> None:
    """Print one line to stdout (flushed); never raise when stdout has gone away."""
    global _silenced
    with _lock:
        if _silenced:
            return
        try:
            print(text, flush=True)
        except (BrokenPipeError, OSError, ValueError):
            _silenced = True
            _to_devnull()


def _to_devnull() -> None:
    """Point file descriptor 1 at /dev/null (what was buffered then goes nowhere, quietly)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def silenced() -> bool:
    """Return True once stdout was let go."""
    return _silenced
