"""Tables that fit the width they are given without ever cutting a number.

A report table is described as columns: one *key* column (the row labels, repeated in every
part), *number* columns (never wrapped, never cut) and *text* columns (wrapped at words). When
the whole table fits at its natural width it is one ordinary rich table; when it does not, the
headers wrap at their words (``max`` / ``loss``), and if that is still too wide the columns are
stacked into several tables of the same rows, each led by the key column — by column group
first, so related figures stay together. Labels are never shortened, so two rows never read
the same.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

Kind = Literal["key", "number", "text"]
Cell = str | Text

KEY_MIN = 12
"""Narrowest the key column is made (columns) to save a stacked table; labels wrap at words."""
TEXT_MIN = 18
"""Narrowest a wrapped text column may be (columns)."""


@dataclass(frozen=True)
class Column:
    """One column: its header, its kind, its cells (one per row) and its group (for stacking)."""

    header: str
    kind: Kind
    cells: Sequence[Cell]
    group: int = 0

    def _lens(self) -> list[int]:
        return [c.cell_len if isinstance(c, Text) else cell_len(c) for c in self.cells]

    def _words(self) -> list[int]:
        out = [cell_len(w) for w in self.header.split()]
        for c in self.cells:
            out.extend(cell_len(w) for w in _plain(c).split())
        return out or [1]

    @property
    def natural(self) -> int:
        """Return the width that shows every cell and the header on one line."""
        return max([cell_len(self.header), *self._lens()])

    @property
    def least(self) -> int:
        """Return the narrowest width it may take: whole numbers, whole words."""
        if self.kind == "number":
            return max([*(cell_len(w) for w in self.header.split()), *self._lens(), 1])
        if self.kind == "text":
            items = [cell_len(i) for c in self.cells for i in _plain(c).split(", ")]
            return min(self.natural, max([TEXT_MIN, *self._words(), *items]))
        return max(self._words())


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def overhead(columns: int) -> int:
    """Return the columns a heavy-head table with `columns` columns spends on borders."""
    return 3 * columns + 1


def _header(col: Column, width: int) -> str:
    if cell_len(col.header) <= width:
        return col.header
    return "\n".join(textwrap.wrap(col.header, width, break_long_words=False)) or col.header


def _table(title: str | None, cols: Sequence[Column], widths: Sequence[int] | None) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for i, col in enumerate(cols):
        width = None if widths is None else widths[i]
        table.add_column(
            col.header if width is None else _header(col, width),
            justify="right" if col.kind == "number" else "left",
            no_wrap=col.kind == "number",
            overflow="fold",
            width=width,
        )
    cells = [_cells(col, None if widths is None else widths[i]) for i, col in enumerate(cols)]
    rows = max((len(c) for c in cells), default=0)
    for r in range(rows):
        table.add_row(*(c[r] if r < len(c) else "" for c in cells))
    return table


def _cells(col: Column, width: int | None) -> list[Cell]:
    """Return a column's cells; a narrowed text column puts each item of a list on its line."""
    if col.kind != "text" or width is None or width >= col.natural:
        return list(col.cells)
    return [c.replace(", ", ",\n") if isinstance(c, str) else c for c in col.cells]


def _pack(columns: Sequence[Column], key_width: int, width: int) -> list[list[Column]]:
    """Return the non-key columns split into parts that fit beside a key of `key_width`."""
    parts: list[list[Column]] = [[]]
    used = key_width + overhead(1)
    for col in columns:
        room = width - used - 3
        group_break = bool(parts[-1]) and parts[-1][-1].group != col.group
        if parts[-1] and (
            col.least > room or (group_break and not _group_fits(columns, col, room))
        ):
            parts.append([])
            used = key_width + overhead(1)
        parts[-1].append(col)
        used += col.least + 3
    return parts


def _group_fits(columns: Sequence[Column], first: Column, room: int) -> bool:
    """Return True when the whole group that `first` opens fits in `room` columns."""
    need = sum(c.least + 3 for c in columns if c.group == first.group) - 3
    return need <= room


def _spare(part: Sequence[Column], key_width: int, width: int) -> int:
    return width - overhead(len(part) + 1) - key_width - sum(c.least for c in part)


def _widths(part: Sequence[Column], key_width: int, width: int) -> list[int]:
    """Return the widths of one part: each column's least, grown towards natural while room."""
    spare = _spare(part, key_width, width)
    out = [key_width]
    for col in part:
        grow = max(0, min(col.natural - col.least, spare)) if col.kind == "number" else 0
        out.append(col.least + grow)
        spare -= grow
    for i, col in enumerate(part, start=1):
        if col.kind == "text":
            grow = max(0, min(col.natural - col.least, spare))
            out[i] += grow
            spare -= grow
    return out


def fit_tables(title: str, columns: Sequence[Column], width: int | None) -> list[Table]:
    """Return the table as one or more rich tables no wider than `width` (None: natural).

    ``columns[0]`` is the key column. The key takes the width that gives the fewest tables
    (the widest such); numbers always get their full width: when one number column beside the
    key is wider than `width`, that table is wider than asked — never cut.
    """
    key, rest = columns[0], list(columns[1:])
    if width is None or sum(c.natural for c in columns) + overhead(len(columns)) <= width:
        return [_table(title, columns, None)]
    ordered = sorted(rest, key=lambda c: c.group)
    floor = min(key.natural, max(key.least, KEY_MIN))
    best: tuple[int, list[list[Column]]] | None = None
    for key_width in range(key.natural, floor - 1, -1):
        if key_width + sum(c.least for c in rest) + overhead(len(columns)) <= width:
            best = (key_width, [rest])  # one table, in the order given
            break
        parts = _pack(ordered, key_width, width)
        if best is None or len(parts) < len(best[1]):
            best = (key_width, parts)
    assert best is not None
    key_width, parts = best
    room = min(_spare(part, key_width, width) for part in parts)
    key_width += max(0, min(key.natural - key_width, room))  # the same in every part
    return [
        _table(
            title if i == 0 else f"{title} (continued)",
            [key, *part],
            _widths(part, key_width, width),
        )
        for i, part in enumerate(parts)
    ]
