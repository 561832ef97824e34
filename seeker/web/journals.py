"""The journals as the web reads them: a cheap change signature, the status file, open positions.

Everything is derived from the files ``seeker run`` writes (the journal folders and
``_seeker/status.json``); nothing is stored twice. Positions are rebuilt by replaying each
strategy's ORDER / FILL / ORDER_STATUS lines (``PositionBook``, as at a restart); the latest
CONFIDENCE line of each open position gives its score, badges, DTE, spot and P&L.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from seeker.core.journal import SHADOW_SUFFIX, SYSTEM_FOLDER, read_events, strategy_folders
from seeker.core.positions import Position, PositionBook
from seeker.engine.status import STATUS_FILE
from seeker.ui.journal_view import journal_folders, parse_ts, read_raw, tail_lines

BOOK_EVENTS = ("ORDER", "FILL", "ORDER_STATUS")
CONFIDENCE_TAIL_BYTES = 512 * 1024
"""How much of the end of ``analysis.jsonl`` is read for the latest scores (a full read of the
file follows only for a position whose score is not in it)."""

Signature = tuple[tuple[str, int, int], ...]


def signature(root: Path) -> Signature:
    """Return (file, size, mtime ns) of every journal file and the status file under `root`."""
    out: list[tuple[str, int, int]] = []
    for folder in journal_folders(root):
        base = root / folder
        try:
            names = sorted(os.listdir(base))
        except OSError:
            continue
        for name in names:
            if name.endswith((".jsonl", ".jsonl.gz", ".json")):
                try:
                    st = os.stat(base / name)
                except OSError:
                    continue
                out.append((f"{folder}/{name}", st.st_size, st.st_mtime_ns))
    return tuple(out)


def pid_alive(pid: int) -> bool:
    """Return True when a process with this id exists (the status file's writer)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_status(root: Path) -> dict[str, Any] | None:
    """Return the status ``seeker status`` reads, with ``alive``; None if Seeker never ran here."""
    path = root / STATUS_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    pid = data.get("pid")
    alive = bool(data.get("running")) and isinstance(pid, int) and pid_alive(pid)
    data["alive"] = alive
    return data


@dataclass
class FolderPositions:
    """One journal folder's positions and the latest CONFIDENCE line of each open one."""

    folder: str
    book: PositionBook
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def strategy(self) -> str:
        """Return the strategy's name (the folder without its shadow suffix)."""
        return self.folder.removesuffix(SHADOW_SUFFIX)

    @property
    def shadow(self) -> bool:
        """Return True for a folder of shadow (hypothetical) positions."""
        return self.folder.endswith(SHADOW_SUFFIX)

    def open_positions(self) -> list[Position]:
        """Return the open positions, oldest first."""
        return sorted(self.book.open_positions(), key=lambda p: p.position_id)


def _latest_scores(path: Path, wanted: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Return the latest CONFIDENCE line of each wanted position in an analysis file."""
    wanted = set(wanted)
    found: dict[str, dict[str, Any]] = {}
    if not wanted:
        return found
    for line in tail_lines(path, CONFIDENCE_TAIL_BYTES):
        pid = line.get("position_id")
        if line.get("event") == "CONFIDENCE" and pid in wanted:
            found[str(pid)] = line
    for pid in sorted(wanted - set(found)):
        for _, line in read_raw(path, pid.encode()):
            if line.get("event") == "CONFIDENCE" and line.get("position_id") == pid:
                found[pid] = line
    return found


def folder_positions(root: Path, folder: str) -> FolderPositions:
    """Return a folder's positions replayed from its journal and the open ones' latest scores."""
    book = PositionBook()
    book.apply_all(read_events(root / folder, BOOK_EVENTS))
    fp = FolderPositions(folder, book)
    ids = [p.position_id for p in book.open_positions()]
    fp.scores = _latest_scores(root / folder / "analysis.jsonl", ids)
    return fp


class JournalCache:
    """Each folder's positions, rebuilt only when one of its files changed (thread-safe)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._folders: dict[str, tuple[Signature, FolderPositions]] = {}

    def folders(self) -> list[FolderPositions]:
        """Return every strategy folder's positions (shadow folders too), by folder name."""
        every = signature(self.root)
        out = []
        with self._lock:
            for folder in strategy_folders(self.root):
                sig = tuple(s for s in every if s[0].startswith(folder + "/"))
                cached = self._folders.get(folder)
                if cached is None or cached[0] != sig:
                    cached = (sig, folder_positions(self.root, folder))
                    self._folders[folder] = cached
                out.append(cached[1])
        return out


def journal_now(status: dict[str, Any] | None, root: Path) -> datetime | None:
    """Return Seeker's clock: the status file's, else the newest RUN line's time, else None."""
    if status is not None:
        ts = parse_ts(status.get("clock"))
        if ts.year > 1:
            return ts
    latest = None
    for line in tail_lines(root / SYSTEM_FOLDER / "runs.jsonl", 8192):
        ts = parse_ts(line.get("ts"))
        if ts.year > 1 and (latest is None or ts > latest):
            latest = ts
    return latest


def days_between(today: date | None, expiry: date) -> int | None:
    """Return calendar days from `today` to `expiry` (None when today is unknown)."""
    return None if today is None else (expiry - today).days
