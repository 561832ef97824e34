"""Where a restarted run resumes: read from the ends of the journals, never from their starts.

Journal timestamps never go backwards and ids are never reused, even after a SIGKILL: the
simulated clock resumes no earlier than the last line any journal holds, and a strategy's
decision and position numbers continue after the last ones its journal used that day. Only the
last few kilobytes of each file are read (a journal is append-only and in time order; a torn last
line is skipped).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from seeker.core.journal import EVENT_FILES

TAIL_BYTES = 64 * 1024
"""How much of a file's end is read at a time, backwards."""


def tail_lines(path: Path, chunk: int = TAIL_BYTES) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of a JSON Lines file from the last one backwards (torn skipped)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        end = os.fstat(fd).st_size
        rest = b""
        while end > 0:
            start = max(0, end - chunk)
            block = os.pread(fd, end - start, start) + rest
            end = start
            lines = block.split(b"\n")
            rest = lines.pop(0) if start > 0 else b""
            for raw in reversed(lines):
                obj = _parse(raw)
                if obj is not None:
                    yield obj
        obj = _parse(rest)
        if obj is not None:
            yield obj
    finally:
        os.close(fd)


def _parse(raw: bytes) -> dict[str, Any] | None:
    if not raw.strip():
        return None
    try:
        obj = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return obj if isinstance(obj, dict) else None


def last_time(path: Path) -> datetime | None:
    """Return the timestamp of the last complete line of a journal file."""
    for line in tail_lines(path):
        try:
            return datetime.fromisoformat(str(line["ts"]))
        except (KeyError, ValueError):
            continue
    return None


def latest_journal_time(root: Path) -> datetime | None:
    """Return the latest timestamp any journal under `root` holds (None when there is none)."""
    if not root.is_dir():
        return None
    files = set(EVENT_FILES.values())
    latest: datetime | None = None
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        for name in files:
            t = last_time(folder / name)
            if t is not None and (latest is None or t > latest):
                latest = t
    return latest


def last_day_ids(folder: Path) -> tuple[list[str], list[str]]:
    """Return the decision ids and position ids of the last day the decision journal reached.

    Read backwards until a line of an earlier day: one day's lines at most.
    """
    decisions: list[str] = []
    positions: list[str] = []
    day: str | None = None
    for line in tail_lines(folder / EVENT_FILES["DECISION"]):
        did = line.get("decision_id")
        if not isinstance(did, str):
            continue
        key = did.rpartition("-")[0]
        if day is None:
            day = key
        elif key != day:
            break
        decisions.append(did)
        if isinstance(line.get("position_id"), str):
            positions.append(line["position_id"])
    return decisions, positions
