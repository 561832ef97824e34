"""The normalized option-chain schema: one row per option and quote date.

The schema is data: :data:`COLUMNS` lists each column's name, type, whether it is required and
what it means, and both the Parquet store and the README table (:func:`schema_markdown`) are
derived from it. Units follow :mod:`seeker.core.models`: prices in $ per share, implied
volatility per 1.00, vega per 1.00 of volatility, theta per year. An optional value the source
does not give is null in the store, never a made-up number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

ColumnKind = Literal["date", "string", "float", "int"]

SCHEMA_VERSION = "1"
"""Written into every Parquet file of the store (key ``seeker.replay.schema``)."""

RIGHTS = ("C", "P")
STYLES = ("E", "A")
SETTLEMENTS = ("AM", "PM")
QUOTE_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the normalized schema."""

    name: str
    kind: ColumnKind
    required: bool
    meaning: str

    @property
    def arrow_type(self) -> pa.DataType:
        """Return the column's type in the Parquet store."""
        return _ARROW[self.kind]


_ARROW: dict[ColumnKind, pa.DataType] = {
    "date": pa.date32(),
    "string": pa.string(),
    "float": pa.float64(),
    "int": pa.int64(),
}

COLUMNS: tuple[Column, ...] = (
    Column("quote_date", "date", True, "trading day of the snapshot, YYYY-MM-DD"),
    Column("underlying", "string", True, "underlying symbol, e.g. SPX"),
    Column("underlying_price", "float", True, "underlying price at the snapshot, $"),
    Column("expiration", "date", True, "expiry date, YYYY-MM-DD"),
    Column("strike", "float", True, "strike, $"),
    Column("right", "string", True, "`C` (call) or `P` (put)"),
    Column("bid", "float", True, "best bid, $ per share (0 = no bid)"),
    Column("ask", "float", True, "best ask, $ per share (> 0)"),
    Column("quote_time", "string", False, "time of the snapshot, HH:MM, exchange time (New York)"),
    Column("root", "string", False, "option root / trading class, e.g. SPX (monthly) or SPXW"),
    Column("style", "string", False, "`E` (European) or `A` (American)"),
    Column("settlement", "string", False, "`AM` (opening print of expiry day) or `PM` (close)"),
    Column("multiplier", "int", False, "shares per contract, e.g. 100"),
    Column("last", "float", False, "last trade, $ per share"),
    Column("volume", "int", False, "contracts traded that day"),
    Column("open_interest", "int", False, "open interest, contracts"),
    Column("implied_vol", "float", False, "implied volatility per 1.00 (0.25 = 25 %)"),
    Column("delta", "float", False, "delta per $ of the underlying"),
    Column("gamma", "float", False, "gamma per $ of the underlying"),
    Column("theta", "float", False, "theta, $ per share per year"),
    Column("vega", "float", False, "vega, $ per share per 1.00 of volatility"),
)
"""The columns of the normalized schema, in store order."""

BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
REQUIRED: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)
FLOAT_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "float")
PARTITION = "quote_date"
"""The column the store is partitioned by (hive style: ``quote_date=YYYY-MM-DD``)."""
KEY: tuple[str, ...] = ("quote_date", "underlying", "root", "expiration", "strike", "right")
"""Columns that identify one option on one quote date (a second row with the same key is a
duplicate)."""
ORDER: tuple[str, ...] = ("underlying", "root", "expiration", "right", "strike")
"""Row order inside a day's file (deterministic, and grouped the way chains are read)."""


def arrow_schema(with_partition: bool = True) -> pa.Schema:
    """Return the Arrow schema of the normalized table (without ``quote_date`` in store files)."""
    return pa.schema(
        [
            pa.field(c.name, c.arrow_type, nullable=not c.required)
            for c in COLUMNS
            if with_partition or c.name != PARTITION
        ]
    )


def schema_markdown() -> str:
    """Return the schema as a Markdown table (the README's table is this text)."""
    lines = ["| column | type | required | meaning |", "|---|---|---|---|"]
    for c in COLUMNS:
        lines.append(f"| `{c.name}` | {c.kind} | {'yes' if c.required else 'no'} | {c.meaning} |")
    return "\n".join(lines) + "\n"
