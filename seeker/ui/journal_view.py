"""Read journal lines across folders, raw text kept, merged in time order, and filter them.

Streamed (``seeker.reports.reading``): :func:`stream` holds one line per file at a time, and
:func:`tail_entries` reads each file backward from its end until it has the last lines that
match, so ``seeker journal -n 3`` on a year of journals reads a few blocks, not the year. The
merge relies on each file being in time order, as the writer keeps it (its clock never goes
back); a file out of order (edited by hand) loses no line, is merged as it stands, and a
warning names it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from seeker.core.journal import EVENT_FILES, SHADOW_SUFFIX, SYSTEM_FOLDER, strategy_folders
from seeker.reports.reading import (
    EARLIEST,
    aware,
    backward,
    forward,
    line_ts,
    merge_by_time,
    parse,
)
from seeker.ui.choices import bad_choice

log = logging.getLogger(__name__)

OUTCOMES = ("order", "no_trade")
"""The outcomes of a DECISION line."""

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
    for raw in forward(path, needle):
        obj = parse(raw, path)
        if obj is not None:
            yield raw.decode("utf-8"), obj


def tail_lines(path: Path, max_bytes: int = 65536) -> list[dict[str, Any]]:
    """Return the objects of the last lines of a journal, about `max_bytes` of them, oldest first.

    Read backward (cheap on big files, plain or compressed).
    """
    raws: list[bytes] = []
    taken = 0
    for raw in backward(path):
        taken += len(raw) + 1
        if taken > max_bytes:
            break
        raws.append(raw)
    out = []
    for raw in reversed(raws):
        obj = parse(raw, path)
        if obj is not None:
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
    return aware(ts)


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


def _entries(
    path: Path, folder: str, raws: Iterator[bytes], needle: bytes | None, newest_first: bool
) -> Iterator[Entry]:
    last: datetime | None = None
    warned = False
    for raw in raws:
        if needle is not None and needle not in raw:
            continue
        obj = parse(raw, path)
        if obj is None:
            continue
        entry = Entry(folder, line_ts(raw, obj), obj, raw.decode("utf-8"))
        behind = last is not None and (entry.ts > last if newest_first else entry.ts < last)
        if behind and not warned:  # the writer's clock never goes back: a hand-edited file
            log.warning("%s: lines out of time order; merged as they stand in the file", path)
            warned = True
        last = entry.ts
        yield entry


def _streams(
    root: Path,
    folders: Iterable[str],
    events: Iterable[str] | None,
    needle: str | None,
    newest_first: bool,
) -> list[Iterator[Entry]]:
    key = needle.encode() if needle else None
    out = []
    for folder in folders:
        for filename in _files(events):
            path = root / folder / filename
            raws = backward(path) if newest_first else forward(path, key)
            out.append(_entries(path, folder, raws, key, newest_first))
    return out


def iter_entries(
    root: Path,
    folders: Iterable[str],
    events: Iterable[str] | None = None,
    needle: str | None = None,
    newest_first: bool = False,
) -> Iterator[Entry]:
    """Yield the lines of some folders merged in time order (file order within equal times).

    Streamed: one line per file is held. `newest_first` reads every file from its end and
    yields the same sequence backward.
    """
    streams = _streams(root, folders, events, needle, newest_first)
    return merge_by_time(streams, lambda e: e.ts, newest_first)


def read_entries(
    root: Path,
    folders: Iterable[str],
    events: Iterable[str] | None = None,
    needle: str | None = None,
) -> list[Entry]:
    """Return the lines of some folders merged in time order (file order within equal times)."""
    return [
        Entry(e.source, e.ts, e.line, e.raw, seq)
        for seq, e in enumerate(iter_entries(root, folders, events, needle))
    ]


def blockers() -> Sequence[str]:
    """Return what a DECISION may name in ``blocked_by`` or ``binding``: the agents that refuse
    (the generator, when it finds no setup) and the Risk Guard's caps."""
    from typing import get_args

    from seeker.agents.risk_guard import CAP_NAMES
    from seeker.agents.verdict import BlockedBy

    agents = [*get_args(BlockedBy), "generator"]
    return tuple(dict.fromkeys([*sorted(agents), *CAP_NAMES]))


def known_strategies(root: Path, catalog: Iterable[str]) -> list[str]:
    """Return the strategies a reader may name: those Seeker can run and those with journals."""
    folders = (f.removesuffix(SHADOW_SUFFIX) for f in strategy_folders(root))
    return sorted({*catalog, *folders})


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

    def problems(self) -> list[str]:
        """Return one line per event, outcome or agent named that does not exist (empty: none).

        Strategy names are checked by the caller, against the catalog and the journal folders.
        """
        out = [
            bad_choice("--event", e, EVENT_FILES)
            for e in self.events
            if e.upper() not in EVENT_FILES
        ]
        if self.outcome is not None and self.outcome not in OUTCOMES:
            out.append(bad_choice("--outcome", self.outcome, OUTCOMES))
        if self.blocked_by is not None and self.blocked_by not in blockers():
            out.append(bad_choice("--blocked-by", self.blocked_by, blockers()))
        return out

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


def stream(root: Path, flt: JournalFilter) -> Iterator[Entry]:
    """Yield the journal lines under `root` that pass `flt`, oldest first (streamed)."""
    entries = iter_entries(root, flt.folders(root), flt.read_events(), flt.position)
    return (e for e in entries if flt.matches(e))


def tail_entries(root: Path, flt: JournalFilter, count: int) -> list[Entry]:
    """Return the last `count` lines that pass `flt`, oldest first, reading files backward."""
    found: list[Entry] = []
    if count <= 0:
        return found
    entries = iter_entries(root, flt.folders(root), flt.read_events(), flt.position, True)
    for e in entries:
        if flt.since is not None and e.ts < flt.since:
            break  # everything further back is older still
        if flt.matches(e):
            found.append(e)
            if len(found) == count:
                break
    return found[::-1]


def select(root: Path, flt: JournalFilter, tail: int | None = None) -> list[Entry]:
    """Return the journal lines under `root` that pass `flt`, oldest first (the last `tail`)."""
    if tail:
        return tail_entries(root, flt, tail)
    return list(stream(root, flt))
