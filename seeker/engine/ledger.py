"""What the journals say every strategy holds, kept current by reading only what was appended.

Reconciliation (a regular cycle while running) and the check before each close compare the
journals of *every* strategy with the broker. Re-reading whole journals each time would cost
seconds over a year; a :class:`JournalLedger` keeps one position book per strategy folder and
applies only the complete lines appended to its ``trades.jsonl`` since the last look (a line still
being written is left for next time). Thread-safe; the journal files stay the truth.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from seeker.core.journal import EVENT_FILES, strategy_folders
from seeker.core.models import Fill, OptionContract, parse_order_ref
from seeker.core.positions import PositionBook

log = logging.getLogger(__name__)

TRADES_FILE = EVENT_FILES["FILL"]


@dataclass(frozen=True)
class FolderView:
    """One strategy's journal, summed up: contracts held, fills journaled, positions known.

    `fill_ids` and `positions` are live sets that only grow (read them, never change them).
    """

    held: Mapping[OptionContract, int]
    fill_ids: AbstractSet[str]
    positions: AbstractSet[str]


class FolderTail:
    """The position book of one strategy folder, fed with the lines appended since last read."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / TRADES_FILE
        self._book = PositionBook()
        self._fill_ids: set[str] = set()
        self._positions: set[str] = set()
        self._offset = 0
        self._lock = threading.Lock()
        self._view: FolderView | None = None

    def view(self) -> FolderView:
        """Return the folder's view after reading what was appended."""
        with self._lock:
            if self._read_new() or self._view is None:
                held: dict[OptionContract, int] = defaultdict(int)
                for pos in self._book.open_positions():
                    for contract, qty in pos.held_contracts().items():
                        held[contract] += qty
                self._view = FolderView(
                    {c: q for c, q in held.items() if q}, self._fill_ids, self._positions
                )
            return self._view

    def _read_new(self) -> bool:
        try:
            if os.stat(self.path).st_size == self._offset:
                return False  # nothing appended (one stat, no open)
            with self.path.open("rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
        except FileNotFoundError:
            return False
        end = data.rfind(b"\n")
        if end < 0:
            return False
        self._offset += end + 1
        for raw in data[: end + 1].split(b"\n"):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                log.warning("%s: corrupt line skipped", self.path)
                continue
            if isinstance(line, dict):
                self._book.apply(line)
                if line.get("event") == "FILL" and line.get("fill_id"):
                    self._fill_ids.add(str(line["fill_id"]))
                elif line.get("event") == "ORDER":
                    self._positions.add(str(line.get("position_id")))
        return True


class JournalLedger:
    """The journals of every strategy folder under one log root (thread-safe)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tails: dict[str, FolderTail] = {}
        self._lock = threading.Lock()
        self._names: tuple[int, list[str]] | None = None

    def strategy_names(self) -> list[str]:
        """Return the real (not shadow) strategy folders, listed again only when the root changed.

        A folder appears when a strategy first journals; the root's mtime says so (one stat).
        """
        try:
            stamp = os.stat(self.root).st_mtime_ns
        except FileNotFoundError:
            return []
        with self._lock:
            if self._names is not None and self._names[0] == stamp:
                return list(self._names[1])
        names = strategy_folders(self.root, shadow=False)
        with self._lock:
            self._names = (stamp, names)
        return list(names)

    def view(self, name: str) -> FolderView:
        """Return one strategy's view, read up to date."""
        with self._lock:
            tail = self._tails.get(name)
            if tail is None:
                tail = self._tails[name] = FolderTail(self.root / name)
        return tail.view()

    def views(self, names: Iterable[str]) -> dict[str, FolderView]:
        """Return the views of several strategies."""
        return {name: self.view(name) for name in names}


def held_by(views: Mapping[str, FolderView], skip: str | None = None) -> dict[OptionContract, int]:
    """Return the signed quantity per contract the journals hold (all strategies but `skip`)."""
    out: dict[OptionContract, int] = defaultdict(int)
    for name, view in views.items():
        if name == skip:
            continue
        for contract, qty in view.held.items():
            out[contract] += qty
    return {c: q for c, q in out.items() if q}


def in_flight(
    executions: Sequence[Fill], views: Mapping[str, FolderView], skip: str | None = None
) -> dict[OptionContract, int]:
    """Return the signed quantity per contract of executions no journal holds yet.

    Only executions of our own orders on positions a journal knows count (a fill the strategy's
    executor is about to journal, or that its recovery will): anything else at the broker is a
    real difference.
    """
    out: dict[OptionContract, int] = defaultdict(int)
    for fill in executions:
        parsed = parse_order_ref(fill.order_ref)
        if parsed is None or parsed[0] == skip or parsed[0] not in views:
            continue
        view = views[parsed[0]]
        if parsed[1] not in view.positions or fill.fill_id in view.fill_ids:
            continue
        for leg in fill.legs:
            out[leg.contract] += leg.qty if leg.action == "BUY" else -leg.qty
    return {c: q for c, q in out.items() if q}
