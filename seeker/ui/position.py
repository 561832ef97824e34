"""Find one position in the journals and gather every line about it (for `seeker show`)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seeker.core.journal import strategy_folders
from seeker.core.positions import Position, PositionBook
from seeker.ui.journal_view import Entry, belongs_to, read_entries, read_raw

BOOK_EVENTS = ("ORDER", "FILL", "ORDER_STATUS", "CONFIDENCE")


@dataclass
class PositionRecord:
    """One position: the folder that journaled it, its lines in time order, its replayed state."""

    position_id: str
    folder: str
    entries: list[Entry]
    position: Position

    def lines(self, *events: str, legs: bool = False) -> list[dict[str, Any]]:
        """Return the position's lines of the given kinds (all when none), oldest first.

        The per-leg FILL lines (``kind: "leg"``) are left out unless `legs` is True: the combo
        FILL line before them carries the same legs, prices and commissions.
        """
        return [
            e.line
            for e in self.entries
            if (not events or e.line.get("event") in events)
            and (legs or e.line.get("kind") != "leg")
        ]

    def last(self, event: str) -> dict[str, Any] | None:
        """Return the latest line of one kind, or None."""
        found = self.lines(event)
        return found[-1] if found else None

    @property
    def open_order(self) -> dict[str, Any]:
        """Return the ORDER line that opened the position."""
        return next(x for x in self.lines("ORDER") if x.get("intent") == "open")


def position_ids(root: Path) -> dict[str, str]:
    """Return every position id found in ORDER lines, with its journal folder."""
    out: dict[str, str] = {}
    for folder in strategy_folders(root):
        for _, line in read_raw(root / folder / "trades.jsonl", b'"ORDER"'):
            pid = line.get("position_id")
            if line.get("event") == "ORDER" and isinstance(pid, str):
                out.setdefault(pid, folder)
    return out


def close_matches(position_id: str, known: list[str], n: int = 5) -> list[str]:
    """Return the known ids closest to `position_id` (shared prefix or similar spelling)."""
    near = difflib.get_close_matches(position_id, known, n=n, cutoff=0.6)
    contains = [k for k in known if position_id and position_id in k and k not in near]
    return (near + sorted(contains))[:n]


def load_position(root: Path, position_id: str) -> PositionRecord | None:
    """Return a position's record from the journals under `root`, None if no ORDER opened it."""
    folder = position_ids(root).get(position_id)
    if folder is None:
        return None
    entries = [
        e
        for e in read_entries(root, [folder], needle=position_id)
        if belongs_to(e.line, position_id)
    ]
    book = PositionBook()
    book.apply_all(e.line for e in entries if e.line.get("event") in BOOK_EVENTS)
    pos = book.positions.get(position_id)
    if pos is None:
        return None
    return PositionRecord(position_id, folder, entries, pos)
