"""CSV for spreadsheets: ``seeker summary --csv`` and ``seeker journal --csv``.

One header row, then one row per record; numbers as numbers (money rounded to the cent), an
unknown figure as an empty cell, counts by rule or agent as ``rule=count`` pairs joined by ``;``.
Journal rows carry the fields most lines share and the same one-line text ``seeker journal``
prints, so every line fits one row; ``--json`` remains the lossless export.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

from seeker.ui.lines import describe

if TYPE_CHECKING:
    from seeker.reports.summary import Report


def summary_views() -> tuple[str, ...]:
    """Return what ``summary --csv --by`` may list: the strategy rows, a breakdown, or trades."""
    from seeker.reports.summary import GROUPINGS

    return ("strategy", *(d for d in GROUPINGS if d != "strategy"), "trade")


JOURNAL_COLUMNS = (
    "ts",
    "folder",
    "event",
    "strategy",
    "underlying",
    "position_id",
    "order_id",
    "intent",
    "status",
    "outcome",
    "blocked_by",
    "qty",
    "price",
    "text",
)
"""The columns of ``journal --csv``; ``price`` is the fill price, else the limit."""


def cell(value: Any) -> str | int | float:
    """Return one value as a CSV cell: mappings as ``k=v;…``, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return ";".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    if isinstance(value, (int, float, str)):
        return value
    return str(value)


def write_rows(out: TextIO, rows: Iterable[Mapping[str, Any]]) -> int:
    """Write mappings as CSV (the first row's keys are the header); return the rows written."""
    writer: csv.DictWriter[str] | None = None
    count = 0
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(row), lineterminator="\n")
            writer.writeheader()
        writer.writerow({k: cell(v) for k, v in row.items()})
        count += 1
    return count


def summary_rows(report: Report, by: str = "strategy") -> list[dict[str, Any]]:
    """Return the rows of ``summary --csv --by <by>`` (real first, then shadow)."""
    if by not in summary_views():
        raise ValueError(f"unknown view {by!r} (known: {', '.join(summary_views())})")
    if by == "strategy":
        return [r.as_dict() for r in report.rows]
    rows: list[dict[str, Any]] = []
    for shadow, section in ((False, report.real), (True, report.shadow)):
        if by == "trade":
            rows.extend(t.as_dict() for t in section.trades)
        else:
            rows.extend({"shadow": shadow, **s.as_dict(by)} for s in section.breakdown(by))
    return rows


def journal_row(folder: str, line: Mapping[str, Any]) -> dict[str, Any]:
    """Return one journal line as a row of :data:`JOURNAL_COLUMNS`."""
    price = line.get("fill_price", line.get("limit_price"))
    return {
        "ts": line.get("ts"),
        "folder": folder,
        "event": line.get("event"),
        "strategy": line.get("strategy"),
        "underlying": line.get("underlying"),
        "position_id": line.get("position_id"),
        "order_id": line.get("order_id"),
        "intent": line.get("intent"),
        "status": line.get("status"),
        "outcome": line.get("outcome"),
        "blocked_by": line.get("blocked_by"),
        "qty": line.get("qty"),
        "price": price if isinstance(price, (int, float)) else None,
        "text": describe(line)[0],
    }


def write_journal(out: TextIO, entries: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
    """Write (folder, line) pairs as CSV with a header even when there is none; return rows."""
    writer = csv.DictWriter(out, fieldnames=list(JOURNAL_COLUMNS), lineterminator="\n")
    writer.writeheader()
    count = 0
    for folder, line in entries:
        writer.writerow({k: cell(v) for k, v in journal_row(folder, line).items()})
        count += 1
    return count
