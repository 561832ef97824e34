"""Import vendor option chains into the columnar store, with a validation report.

The store is Parquet partitioned by quote date, hive style: ``DEST/quote_date=YYYY-MM-DD/
part-0.parquet``. Files are read in name order; each file's rows are grouped by quote date, and
a quote date that is not a trading day of the exchange calendar (a vendor's holiday file
repeating the previous day) or that an earlier file already gave is skipped whole and reported.
Re-importing the same files writes the same bytes: deterministic names, sorted rows, no time
stamps.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from seeker.core.calendar import MarketCalendars
from seeker.core.replay.cboe import read_cboe_delayed
from seeker.core.replay.columns import ChainFormatError, Normalized
from seeker.core.replay.formats import CONSTANT_COLUMNS, FORMATS, ChainFormat, Progress
from seeker.core.replay.normalized import read_normalized
from seeker.core.replay.optionsdx import read_optionsdx
from seeker.core.replay.report import ImportReport, Skipped
from seeker.core.replay.schema import BY_NAME, PARTITION, SCHEMA_VERSION
from seeker.core.replay.validate import check_vocabulary, clean

PART_FILE = "part-0.parquet"


def partition_dir(dest: Path, day: date) -> Path:
    """Return the folder of one quote date in a store."""
    return dest / f"{PARTITION}={day.isoformat()}"


def import_chains(
    fmt: ChainFormat,
    sources: Sequence[Path],
    dest: Path,
    progress: Progress | None = None,
    *,
    underlying: str | None = None,
    constants: Mapping[str, str | int] | None = None,
    calendar: str = "XNYS",
) -> ImportReport:
    """Import chain files of one format into the store at `dest` and return the report.

    `underlying` names the underlying of formats whose files do not (``optionsdx``).
    `constants` declares optional columns the files lack for every row, e.g.
    ``{"root": "SPXW", "settlement": "PM", "style": "E", "multiplier": 100}``; a declared column
    the files do carry is an error. Quote dates are checked against the exchange `calendar`
    (an exchange_calendars code). Days already in the store are replaced, others kept.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown chain format {fmt!r} (known: {', '.join(FORMATS)})")
    if fmt == "optionsdx" and not underlying:
        raise ValueError("optionsdx files do not name their underlying: pass underlying=")
    for name in constants or {}:
        if name not in CONSTANT_COLUMNS:
            raise ValueError(f"constants: {name!r} is not one of {', '.join(CONSTANT_COLUMNS)}")
    paths = sorted((Path(p) for p in sources), key=lambda p: (p.name, str(p)))
    for p in paths:
        if not p.is_file():
            raise FileNotFoundError(f"{p}: no such file")
    report = ImportReport(format=fmt)
    origin: dict[date, str] = {}
    trading = _TradingDays(calendar)
    expiries: set[date] = set()
    for i, path in enumerate(paths, start=1):
        normalized = _read(fmt, path, underlying)
        table = _with_constants(path, normalized.table, constants or {})
        check_vocabulary(path, table)
        report.files_read += 1
        report.rows_in += table.num_rows
        for col, n in normalized.missing_markers.items():
            report.missing_markers[col] = report.missing_markers.get(col, 0) + n
        for day, rows in _by_quote_date(table):
            if day is None:  # no quote date: the rows fail validation as missing_required
                clean(rows, report.dropped)
                continue
            reason = ""
            if not trading.is_session(day):
                reason = f"{day} is not a trading day ({calendar}): a repeat of another day"
            elif day in origin:
                reason = f"{day} already imported from {origin[day]}"
            if reason:
                report.skipped.append(Skipped(path.name, day, rows.num_rows, reason))
                continue
            origin[day] = path.name
            kept = clean(rows, report.dropped)
            if kept.num_rows == 0:
                continue
            _write_day(dest, day, kept)
            report.rows_kept += kept.num_rows
            report.quote_dates.append(day)
            expiries.update(pc.unique(kept["expiration"]).to_pylist())
        if progress is not None:
            progress(i, len(paths), path.name)
    report.quote_dates.sort()
    report.expiries = len(expiries)
    return report


def _read(fmt: ChainFormat, path: Path, underlying: str | None) -> Normalized:
    if fmt == "cboe-delayed":
        return read_cboe_delayed(path)
    if fmt == "optionsdx":
        assert underlying is not None
        return read_optionsdx(path, underlying)
    return read_normalized(path)


def _with_constants(path: Path, table: pa.Table, constants: Mapping[str, str | int]) -> pa.Table:
    for name, value in constants.items():
        col = table[name]
        if col.null_count != len(col):
            raise ChainFormatError(f"{path}: column {name} is in the file; do not declare it")
        typ = BY_NAME[name].arrow_type
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, pa.array([value] * table.num_rows, typ))
    return table


def _by_quote_date(table: pa.Table) -> list[tuple[date | None, pa.Table]]:
    """Return the table's rows grouped by quote date, in date order (missing dates last)."""
    qd = table[PARTITION]
    days = pc.unique(qd).to_pylist()
    if len(days) == 1:  # the usual vendor file: one quote date
        return [(days[0], table)]
    out: list[tuple[date | None, pa.Table]] = []
    for day in sorted(d for d in days if d is not None):
        out.append((day, table.filter(pc.equal(qd, pa.scalar(day, pa.date32())))))
    nulls = pc.is_null(qd)
    if pc.any(nulls).as_py():
        out.append((None, table.filter(nulls)))
    return out


class _TradingDays:
    """Trading days of one exchange calendar, loaded by the year as dates come."""

    def __init__(self, code: str) -> None:
        self.code = code

    def is_session(self, day: date) -> bool:
        """Return True when `day` is a trading day."""
        return day in _sessions_of_year(self.code, day.year)


@functools.lru_cache(maxsize=64)
def _sessions_of_year(code: str, year: int) -> frozenset[date]:
    lo, hi = date(year, 1, 1), date(year, 12, 31)
    return frozenset(MarketCalendars([code], lo, hi).sessions(code, lo, hi))


def _write_day(dest: Path, day: date, table: pa.Table) -> None:
    """Write one quote date's rows atomically (a temporary file, then a rename)."""
    folder = partition_dir(dest, day)
    folder.mkdir(parents=True, exist_ok=True)
    body = table.drop_columns([PARTITION])
    body = body.replace_schema_metadata({"seeker.replay.schema": SCHEMA_VERSION})
    tmp = folder / f".{PART_FILE}.tmp"
    pq.write_table(
        body,
        tmp,
        compression="zstd",
        use_dictionary=["underlying", "root", "right", "style", "settlement", "quote_time"],
        write_statistics=True,
    )
    os.replace(tmp, folder / PART_FILE)
