"""The legs table of `seeker show`: each leg's strike, expiry, fill prices and IVs (sourced)."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from seeker.ui.columns import Column, fit_tables, overhead
from seeker.ui.greeks import LegIV
from seeker.ui.lines import num
from seeker.ui.position import PositionRecord

SOURCES_ROOM = 60
"""Columns the IV sources need beyond the bare legs table to stand in it (else listed below)."""


def legs_table(
    record: PositionRecord,
    entry: dict[int, LegIV],
    last: dict[int, LegIV],
    width: int | None = None,
) -> RenderableType:
    """Return the legs: action, strike, expiry, fill prices and IVs with their source.

    When the sources do not fit beside the figures, the table shows the IVs alone and each
    leg's sources follow it, one line per leg. Dates and numbers are never cut.
    """
    fills = record.lines("FILL")
    first = _leg_prices(fills[0]) if fills else {}
    latest = _leg_prices(fills[-1]) if len(fills) > 1 else {}
    wide = _legs(record, entry, last, first, latest)
    if width is None:
        return wide
    columns = _leg_columns(record, entry, last, first, latest)
    if width >= sum(c.natural for c in columns) + overhead(len(columns)) + SOURCES_ROOM:
        return wide
    notes = Text("IV sources", style="grey62")
    for i in range(len(record.position.legs)):
        if entry[i] == last[i]:
            notes.append(f"\nleg {i + 1} — at entry and last: {entry[i].source}", style="grey62")
        else:
            notes.append(
                f"\nleg {i + 1} — at entry: {entry[i].source} · last: {last[i].source}",
                style="grey62",
            )
    return Group(*fit_tables("legs and strikes", columns, width), notes)


def _leg_columns(
    record: PositionRecord,
    entry: dict[int, LegIV],
    last: dict[int, LegIV],
    first: dict[tuple[str, float, str], float],
    latest: dict[tuple[str, float, str], float],
) -> list[Column]:
    """Return the legs as columns of figures (the narrow table; IV sources listed below it)."""
    legs = record.position.legs
    keys = [(g.contract.right, g.contract.strike, g.contract.expiry.isoformat()) for g in legs]
    index = range(len(legs))
    return [
        Column(
            "leg",
            "key",
            [
                f"{i + 1} {g.action} ×{g.ratio} {g.contract.strike:g}{g.contract.right}"
                for i, g in enumerate(legs)
            ],
        ),
        Column("expiry", "number", [g.contract.expiry.isoformat() for g in legs]),
        Column("entry fill", "number", [num(first.get(k), ".4f") for k in keys]),
        Column("last fill", "number", [num(latest.get(k), ".4f") for k in keys]),
        Column("IV at entry", "number", [f"{num(entry[i].iv * 100, '.1f')} %" for i in index]),
        Column("last IV", "number", [f"{num(last[i].iv * 100, '.1f')} %" for i in index]),
    ]


def _legs(
    record: PositionRecord,
    entry: dict[int, LegIV],
    last: dict[int, LegIV],
    first: dict[tuple[str, float, str], float],
    latest: dict[tuple[str, float, str], float],
) -> Table:
    """Return the wide legs table: figures, and each IV with its source."""
    table = Table(title="legs and strikes", title_justify="left", header_style="bold")
    for col in ("#", "action", "right", "strike", "expiry", "entry fill", "last fill"):
        table.add_column(col, justify="right" if col in ("#", "strike") else "left", no_wrap=True)
    table.add_column("IV at entry (source)")
    table.add_column("last known IV (source)")
    for i, leg in enumerate(record.position.legs):
        c = leg.contract
        key = (c.right, c.strike, c.expiry.isoformat())
        table.add_row(
            str(i + 1),
            f"{leg.action} ×{leg.ratio}",
            "put" if c.right == "P" else "call",
            f"{c.strike:g}",
            c.expiry.isoformat(),
            num(first.get(key), ".4f"),
            num(latest.get(key), ".4f"),
            f"{num(entry[i].iv * 100, '.1f')} % ({entry[i].source})",
            f"{num(last[i].iv * 100, '.1f')} % ({last[i].source})",
        )
    return table


def _leg_prices(fill: dict[str, Any]) -> dict[tuple[str, float, str], float]:
    out = {}
    for raw in fill.get("legs") or []:
        try:
            out[(raw["right"], float(raw["strike"]), raw["expiry"])] = float(raw["price"])
        except (KeyError, TypeError, ValueError):
            continue
    return out
