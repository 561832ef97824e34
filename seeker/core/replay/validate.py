"""Check normalized rows: reject malformed files, drop bad rows (counted by reason), sort.

A value outside an optional column's vocabulary (style, settlement, quote time, a negative
count) makes the whole file an error: such a file is not what it claims to be. A row whose
quote cannot be traded on (crossed, no ask, no right, a missing required value, a duplicate)
is dropped and counted under the first reason of :data:`~seeker.core.replay.report.DROP_REASONS`.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from seeker.core.replay.columns import ChainFormatError
from seeker.core.replay.report import DROP_REASONS
from seeker.core.replay.schema import (
    FLOAT_COLUMNS,
    KEY,
    ORDER,
    QUOTE_TIME,
    REQUIRED,
    RIGHTS,
    SETTLEMENTS,
    STYLES,
    arrow_schema,
)

_ROW = "__row"


def check_vocabulary(path: Path, table: pa.Table) -> None:
    """Raise naming the column and a value when an optional column holds a value it cannot."""
    for name, allowed in (("style", STYLES), ("settlement", SETTLEMENTS)):
        col = table[name]
        bad = pc.and_(pc.is_valid(col), pc.invert(pc.is_in(col, pa.array(allowed))))
        _raise_if(path, name, col, bad, f"expected one of {', '.join(allowed)}")
    qt = table["quote_time"]
    bad = pc.and_(pc.is_valid(qt), pc.invert(pc.match_substring_regex(qt, QUOTE_TIME.pattern)))
    _raise_if(path, "quote_time", qt, bad, "expected HH:MM")
    for name in ("volume", "open_interest"):
        col = table[name]
        _raise_if(path, name, col, pc.fill_null(pc.less(col, 0), False), "negative count")
    col = table["multiplier"]
    _raise_if(path, "multiplier", col, pc.fill_null(pc.less_equal(col, 0), False), "not > 0")


def _raise_if(path: Path, name: str, col: pa.ChunkedArray, bad: pa.ChunkedArray, why: str) -> None:
    if pc.any(bad).as_py():
        first = pc.filter(col, bad)[0].as_py()
        raise ChainFormatError(f"{path}: column {name}: {first!r}: {why}")


def optional_nan_to_null(table: pa.Table) -> pa.Table:
    """Return the table with NaN in optional float columns read as missing (null)."""
    for name in FLOAT_COLUMNS:
        if name in REQUIRED:
            continue
        i = table.schema.get_field_index(name)
        col = table[name]
        table = table.set_column(i, name, pc.if_else(pc.is_nan(col), None, col))
    return table


def drop_reasons(table: pa.Table) -> dict[str, pa.ChunkedArray]:
    """Return, per reason, a mask of the rows that fail it (before duplicates)."""
    missing = None
    for name in REQUIRED:
        col = table[name]
        m = pc.is_null(col, nan_is_null=True) if pa.types.is_floating(col.type) else pc.is_null(col)
        missing = m if missing is None else pc.or_(missing, m)
    assert missing is not None

    def finite_positive(name: str) -> pa.ChunkedArray:
        col = table[name]
        return pc.and_(pc.is_finite(col), pc.greater(col, 0.0))

    bad_value = pc.or_(
        pc.invert(pc.and_(finite_positive("strike"), finite_positive("underlying_price"))),
        pc.or_(pc.is_inf(table["bid"]), pc.is_inf(table["ask"])),
    )
    return {
        "unknown_right": pc.invert(pc.fill_null(pc.is_in(table["right"], pa.array(RIGHTS)), False)),
        "missing_required": missing,
        "bad_value": bad_value,
        "expired": pc.less(table["expiration"], table["quote_date"]),
        "non_positive_ask": pc.less_equal(table["ask"], 0.0),
        "negative_bid": pc.less(table["bid"], 0.0),
        "crossed": pc.greater(table["bid"], table["ask"]),
    }


def clean(table: pa.Table, dropped: dict[str, int]) -> pa.Table:
    """Return the rows that pass every check, first occurrences only, in store order.

    Adds the count of each reason's drops to `dropped` (keys of ``DROP_REASONS``).
    """
    table = optional_nan_to_null(table)
    alive = pa.chunked_array([pa.array([True] * table.num_rows, pa.bool_())])
    for reason, fails in drop_reasons(table).items():
        hit = pc.and_(alive, pc.fill_null(fails, False))
        dropped[reason] += pc.sum(hit).as_py() or 0
        alive = pc.and_(alive, pc.invert(hit))
    kept = table.filter(alive)
    kept = kept.append_column(_ROW, pa.array(range(kept.num_rows), pa.int64()))
    first = kept.group_by(list(KEY), use_threads=False).aggregate([(_ROW, "min")])
    dropped["duplicate"] += kept.num_rows - first.num_rows
    kept = kept.take(pc.sort_indices(first[f"{_ROW}_min"])).drop_columns([_ROW])
    order = [(name, "ascending") for name in ("quote_date", *ORDER)]
    kept = kept.take(pc.sort_indices(kept, sort_keys=order))
    assert set(dropped) == set(DROP_REASONS)
    return kept.cast(arrow_schema())
