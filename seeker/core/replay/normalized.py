"""Read files already in the normalized schema (``normalized``): CSV, CSV.gz or Parquet.

Column names must be the schema's; a required column missing or a column the schema does not
know is an error naming it. Optional columns may be absent (they stay unknown). Dates are
``YYYY-MM-DD`` text (CSV) or dates (Parquet).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from seeker.core.replay.columns import (
    ChainFormatError,
    Normalized,
    complete,
    read_csv,
    read_header,
    to_date,
)
from seeker.core.replay.schema import BY_NAME, COLUMNS, REQUIRED

FORMAT = "normalized"
DATE_FORMAT = "%Y-%m-%d"


def read_normalized(path: Path) -> Normalized:
    """Return one normalized CSV, CSV.gz or Parquet file."""
    if path.suffix.lower() == ".parquet":
        try:
            table = pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise ChainFormatError(f"{path}: not a readable Parquet file ({exc})") from None
        names = table.column_names
    else:
        names = read_header(path)
        _check_names(path, names)
        types = {
            c.name: (pa.string() if c.kind == "date" else c.arrow_type)
            for c in COLUMNS
            if c.name in names
        }
        table = read_csv(path, types)
    _check_names(path, names)
    columns: dict[str, pa.ChunkedArray] = {}
    for name in table.column_names:
        col = table[name]
        if BY_NAME[name].kind == "date" and not pa.types.is_date(col.type):
            if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
                raise ChainFormatError(f"{path}: column {name}: dates must be YYYY-MM-DD text")
            col = to_date(path, name, col, DATE_FORMAT)
        elif BY_NAME[name].kind == "string":
            col = pc.utf8_trim_whitespace(pc.cast(col, pa.string()))
            col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
        columns[name] = col
    return Normalized(complete(path, columns, table.num_rows))


def _check_names(path: Path, names: list[str]) -> None:
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ChainFormatError(
            f"{path}: column(s) not in the normalized schema: {', '.join(unknown)} "
            f"(known: {', '.join(BY_NAME)})"
        )
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        raise ChainFormatError(f"{path}: required column(s) missing: {', '.join(missing)}")
    if len(set(names)) != len(names):
        raise ChainFormatError(f"{path}: a column name appears twice")
