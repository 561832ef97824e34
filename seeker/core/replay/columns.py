"""Columnar helpers the format readers share: parse dates, map vendor values, fill the schema."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from seeker.core.replay.schema import COLUMNS, arrow_schema


class ChainFormatError(ValueError):
    """Raise when a source file cannot be read in the format it was given as."""


@dataclass
class Normalized:
    """One source file in the normalized schema, with the vendor placeholders read as missing."""

    table: pa.Table
    missing_markers: dict[str, int] = field(default_factory=dict)


def read_header(path: Path) -> list[str]:
    """Return a CSV file's column names (gzip and other compressions detected by extension)."""
    try:
        with pa.input_stream(str(path), compression="detect") as stream:
            head = stream.read(1 << 16)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ChainFormatError(f"{path}: cannot read ({exc})") from None
    first = head.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").rstrip("\r")
    if not first.strip():
        raise ChainFormatError(f"{path}: empty file or no header line")
    return [name.strip() for name in next(csv.reader([first]))]


def read_csv(path: Path, types: Mapping[str, pa.DataType]) -> pa.Table:
    """Read the named columns of a CSV file with the given types (others are skipped).

    Header names are stripped of surrounding spaces. A text column keeps its raw text (blank
    stays ""), a numeric column reads blank as null.
    """
    names = read_header(path)
    wanted = [n for n in names if n in types]
    try:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 22),
            convert_options=pacsv.ConvertOptions(
                column_types={n: types[n] for n in wanted},
                include_columns=wanted,
                strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise ChainFormatError(f"{path}: {exc}") from None


def require_columns(path: Path, present: list[str], needed: list[str], fmt: str) -> None:
    """Raise naming the columns a file lacks for its format."""
    missing = [n for n in needed if n not in present]
    if missing:
        raise ChainFormatError(
            f"{path}: not a {fmt} file, missing column(s) {', '.join(missing)} "
            f"(found: {', '.join(present)})"
        )


def to_number(path: Path, name: str, arr: pa.ChunkedArray, kind: pa.DataType) -> pa.ChunkedArray:
    """Parse text into numbers (blank → null), naming the column when a value does not parse."""
    text = pc.utf8_trim_whitespace(arr)
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    try:
        return pc.cast(text, kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ChainFormatError(f"{path}: column {name}: {exc}") from None


def to_date(path: Path, name: str, arr: pa.ChunkedArray, fmt: str) -> pa.ChunkedArray:
    """Parse text dates with a strptime format into date32, naming the column on failure."""
    text = pc.utf8_trim_whitespace(arr)
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    try:
        ts = pc.strptime(text, format=fmt, unit="s", error_is_null=False)
    except pa.ArrowInvalid as exc:
        raise ChainFormatError(f"{path}: column {name}: {exc} (expected {fmt})") from None
    return pc.cast(ts, pa.date32())


def map_values(arr: pa.ChunkedArray, mapping: Mapping[str, str | None]) -> pa.ChunkedArray:
    """Map text values through a table; values not in it become null."""
    keys = list(mapping)
    idx = pc.index_in(arr, value_set=pa.array(keys, pa.string()))
    return pc.take(pa.array([mapping[k] for k in keys], pa.string()), idx)


def placeholder_to_null(
    arr: pa.ChunkedArray, is_placeholder: pa.ChunkedArray, name: str, counts: dict[str, int]
) -> pa.ChunkedArray:
    """Replace the vendor's placeholder values by null, counting them under `name`."""
    mask = pc.fill_null(is_placeholder, False)
    n = pc.sum(mask).as_py() or 0
    if n:
        counts[name] = counts.get(name, 0) + n
    return pc.if_else(mask, pa.scalar(None, arr.type), arr)


def complete(path: Path, columns: Mapping[str, pa.ChunkedArray | pa.Array], rows: int) -> pa.Table:
    """Return a table in the full schema: given columns cast to their types, others all null."""
    arrays = []
    for c in COLUMNS:
        given = columns.get(c.name)
        if given is None:
            arrays.append(pa.nulls(rows, c.arrow_type))
            continue
        try:
            arrays.append(pc.cast(given, c.arrow_type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise ChainFormatError(f"{path}: column {c.name}: {exc}") from None
    schema = arrow_schema()
    # required columns may hold nulls until validation drops those rows
    loose = pa.schema([f.with_nullable(True) for f in schema])
    return pa.Table.from_arrays(arrays, schema=loose)
