"""Where a restarted run resumes: read from the ends of the journals, never from their starts.

Journal timestamps never go backwards and ids are never reused, even after a SIGKILL: the
simulated clock resumes no earlier than the last line any journal holds, and a strategy's
decision and position numbers continue after the last ones its journal used that day. Only the
ends of the files are read, backward (a journal is append-only and in time order; a torn last
line is skipped).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from seeker.core.journal import EVENT_FILES
from seeker.core.journal_files import backward_lines


def tail_lines(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of a journal from the last one backwards (torn lines skipped)."""
    for raw in backward_lines(path):
        obj = _parse(raw)
        if obj is not None:
            yield obj


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
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
