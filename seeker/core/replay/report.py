"""The validation report of one import: what was read, kept, skipped and dropped, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TypedDict

DROP_REASONS: dict[str, str] = {
    "unknown_right": "right is neither call nor put",
    "missing_required": "a required value is missing or NaN",
    "bad_value": "non-positive strike or underlying price, or an infinite number",
    "expired": "expiration before the quote date",
    "non_positive_ask": "ask is zero or negative (no offer)",
    "negative_bid": "bid is negative",
    "crossed": "crossed quote (bid > ask)",
    "duplicate": "same quote date, underlying, root, expiry, strike and right as an earlier row",
}
"""Why a row is dropped, in the order rules are checked (a row counts under its first reason)."""


class SkippedDict(TypedDict):
    """One skipped (file, quote date) as :meth:`ImportReport.as_dict` writes it."""

    file: str
    quote_date: str
    rows: int
    reason: str


class ReportDict(TypedDict):
    """An :class:`ImportReport` as plain JSON-ready values."""

    format: str
    files_read: int
    rows_in: int
    rows_kept: int
    rows_skipped: int
    quote_dates: list[str]
    expiries: int
    dropped: dict[str, int]
    skipped: list[SkippedDict]
    missing_markers: dict[str, int]


@dataclass(frozen=True, slots=True)
class Skipped:
    """The rows of one quote date of one file that were not imported at all."""

    file: str
    quote_date: date
    rows: int
    reason: str


@dataclass
class ImportReport:
    """Counts of one import; ``rows_in == rows_kept + rows_skipped + sum(dropped)``."""

    format: str
    files_read: int = 0
    rows_in: int = 0
    rows_kept: int = 0
    quote_dates: list[date] = field(default_factory=list)
    expiries: int = 0
    dropped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DROP_REASONS, 0))
    skipped: list[Skipped] = field(default_factory=list)
    missing_markers: dict[str, int] = field(default_factory=dict)
    """Vendor placeholders read as missing, per schema column (e.g. an implied vol of 0)."""

    @property
    def rows_skipped(self) -> int:
        """Return the rows of skipped quote dates (holiday repeats, dates already imported)."""
        return sum(s.rows for s in self.skipped)

    def as_dict(self) -> ReportDict:
        """Return the report as JSON-ready values."""
        return {
            "format": self.format,
            "files_read": self.files_read,
            "rows_in": self.rows_in,
            "rows_kept": self.rows_kept,
            "rows_skipped": self.rows_skipped,
            "quote_dates": [d.isoformat() for d in self.quote_dates],
            "expiries": self.expiries,
            "dropped": dict(self.dropped),
            "skipped": [
                {
                    "file": s.file,
                    "quote_date": s.quote_date.isoformat(),
                    "rows": s.rows,
                    "reason": s.reason,
                }
                for s in self.skipped
            ],
            "missing_markers": dict(self.missing_markers),
        }

    def as_text(self) -> str:
        """Return the report as a few human-readable lines."""
        days = self.quote_dates
        span = f"{days[0]} → {days[-1]}" if days else "none"
        lines = [
            f"import ({self.format}): {self.files_read} files, {self.rows_in:,} rows read, "
            f"{self.rows_kept:,} kept",
            f"  quote dates: {len(days)} ({span}); expiries: {self.expiries}",
        ]
        for s in self.skipped:
            lines.append(f"  skipped {s.file} {s.quote_date}: {s.rows:,} rows, {s.reason}")
        for reason, n in self.dropped.items():
            if n:
                lines.append(f"  dropped {n:,} rows: {DROP_REASONS[reason]} ({reason})")
        for col, n in sorted(self.missing_markers.items()):
            lines.append(f"  {n:,} vendor placeholders read as missing {col}")
        return "\n".join(lines)
