"""Read journal lines across folders, raw text kept, merged in time order, and filter them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from seeker.core.calendar import MARKET_TZ
from seeker.core.journal import EVENT_FILES, SHADOW_SUFFIX, SYSTEM_FOLDER, strategy_folders

log = logging.getLogger(__name__)

EARLIEST = datetime.min.replace(tzinfo=MARKET_TZ)
FILE_ORDER = ("decisions.jsonl", "risk_events.jsonl", "trades.jsonl", "analysis.jsonl")
"""Files read in this order, so lines of equal time keep a causal order (decision → order)."""


@dataclass(frozen=True)
class Entry:
    """One journal line: its folder, time, parsed object and the exact text it was written as."""

    source: str
    ts: datetime
    line: dict[str, Any]
    raw: str
    seq: int = 0


def read_raw(path: Path, needle: bytes | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (raw text, object) per line of a JSON Lines file; skip torn lines with a warning.

    With `needle`, lines that do not contain it are skipped before parsing (fast search).
    """
    if not path.exists():
        return
    with path.open("rb") as fh:
        data = fh.read()
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip() or (needle is not None and needle not in raw):
            continue
        try:
            obj = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            log.warning("%s:%d: torn or corrupt line skipped", path, number)
            continue
        if isinstance(obj, dict):
            yield raw.decode("utf-8"), obj


def tail_lines(path: Path, max_bytes: int = 65536) -> list[dict[str, Any]]:
    """Return the objects of the last `max_bytes` of a JSON Lines file (cheap on big files)."""
    if not path.exists():
        return []
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(max(0, size - max_bytes))
        data = fh.read()
    raws = data.split(b"\n")
    if size > max_bytes:
        raws = raws[1:]  # the first piece is a partial line
    out = []
    for raw in raws:
        try:
            obj = json.loads(raw) if raw.strip() else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def recent_entries(
    root: Path, folders: Iterable[str] | None = None, max_bytes: int = 65536
) -> list[tuple[str, dict[str, Any]]]:
    """Return the latest lines of some journals (all under `root` by default), in time order.

    Only each file's last `max_bytes` are read, so this stays cheap on months of journals.
    """
    found: list[tuple[datetime, int, str, dict[str, Any]]] = []
    for folder in journal_folders(root) if folders is None else folders:
        for filename in _files(None):
            for line in tail_lines(root / folder / filename, max_bytes):
                found.append((parse_ts(line.get("ts")), len(found), folder, line))
    found.sort(key=lambda t: (t[0], t[1]))
    return [(folder, line) for _, _, folder, line in found]


def parse_ts(value: Any) -> datetime:
    """Return a line's ts as an aware datetime (lines without one sort first)."""
    try:
        ts = datetime.fromisoformat(str(value))
    except ValueError:
        return EARLIEST
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=MARKET_TZ)


def journal_folders(root: Path, include_system: bool = True) -> list[str]:
    """Return every strategy folder (shadow ones too) and the process folder if present."""
    names = strategy_folders(root)
    if include_system and (root / SYSTEM_FOLDER).is_dir():
        names.append(SYSTEM_FOLDER)
    return names


def _files(events: Iterable[str] | None) -> list[str]:
    wanted = set(EVENT_FILES[e] for e in events if e in EVENT_FILES) if events else None
    names = [*FILE_ORDER, *sorted(set(EVENT_FILES.values()) - set(FILE_ORDER))]
    return [n for n in names if wanted is None or n in wanted]


def read_entries(
    root: Path,
    folders: Iterable[str],
    events: Iterable[str] | None = None,
    needle: str | None = None,
) -> list[Entry]:
    """Return the lines of some folders merged in time order (file order within equal times)."""
    out: list[Entry] = []
    seq = 0
    files = _files(events)
    key = needle.encode() if needle else None
    for folder in folders:
        for filename in files:
            for raw, obj in read_raw(root / folder / filename, key):
                out.append(Entry(folder, parse_ts(obj.get("ts")), obj, raw, seq))
                seq += 1
    out.sort(key=lambda e: (e.ts, e.seq))
    return out


def belongs_to(line: dict[str, Any], position_id: str) -> bool:
    """Return True when a line is about one position (its id, or one of its order ids)."""
    if line.get("position_id") == position_id:
        return True
    oid = line.get("order_id")
    return isinstance(oid, str) and oid.startswith(position_id + ".")


@dataclass
class JournalFilter:
    """What `seeker journal` keeps; every given criterion must hold."""

    strategies: list[str] = field(default_factory=list)
    since: datetime | None = None
    outcome: str | None = None
    blocked_by: str | None = None
    events: list[str] = field(default_factory=list)
    position: str | None = None

    def folders(self, root: Path) -> list[str]:
        """Return the folders to read (a strategy's shadow twin included)."""
        names = journal_folders(root, include_system=not self.strategies)
        if not self.strategies:
            return names
        wanted = set(self.strategies)
        return [n for n in names if n in wanted or n.removesuffix(SHADOW_SUFFIX) in wanted]

    def read_events(self) -> list[str] | None:
        """Return the event kinds worth reading (None: all)."""
        if self.events:
            return [e.upper() for e in self.events]
        if self.outcome or self.blocked_by:
            return ["DECISION"]
        return None

    def matches(self, entry: Entry) -> bool:
        """Return True when a line passes every criterion."""
        line = entry.line
        if self.since is not None and entry.ts < self.since:
            return False
        if self.events and str(line.get("event")) not in {e.upper() for e in self.events}:
            return False
        if (self.outcome or self.blocked_by) and line.get("event") != "DECISION":
            return False
        if self.outcome and line.get("outcome") != self.outcome:
            return False
        blockers = {line.get("blocked_by"), line.get("binding")}
        if self.blocked_by and self.blocked_by not in blockers:
            return False
        return not (self.position and not belongs_to(line, self.position))


def select(root: Path, flt: JournalFilter, tail: int | None = None) -> list[Entry]:
    """Return the journal lines under `root` that pass `flt`, oldest first (the last `tail`)."""
    entries = read_entries(root, flt.folders(root), flt.read_events(), flt.position)
    kept = [e for e in entries if flt.matches(e)]
    return kept[-tail:] if tail else kept
