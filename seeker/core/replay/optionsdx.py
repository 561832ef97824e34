"""Read OptionsDX end-of-day chains (``optionsdx``) into the normalized schema.

OptionsDX writes one row per quote date, expiry and strike with both sides side by side, in
bracketed columns (``[QUOTE_DATE]``, ``[UNDERLYING_LAST]``, ``[EXPIRE_DATE]``, ``[STRIKE]``,
``[C_BID]``, ``[C_ASK]``, ``[P_BID]`` …), values often padded with spaces. It names neither the
underlying nor the option root and gives no open interest: the underlying is passed by the
caller, the rest stays unknown. The mapping is the two tables below; fix them there if your
files differ.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from seeker.core.replay.columns import (
    ChainFormatError,
    Normalized,
    complete,
    read_csv,
    require_columns,
    to_date,
    to_number,
)
from seeker.core.replay.schema import BY_NAME

FORMAT = "optionsdx"

COMMON: dict[str, str] = {
    "quote_date": "[QUOTE_DATE]",
    "underlying_price": "[UNDERLYING_LAST]",
    "expiration": "[EXPIRE_DATE]",
    "strike": "[STRIKE]",
    "quote_time": "[QUOTE_READTIME]",
}
"""Schema column → OptionsDX column shared by both sides (``[QUOTE_READTIME]`` is
``YYYY-MM-DD HH:MM``; its time becomes ``quote_time``)."""

SIDE: dict[str, tuple[str, float]] = {
    "bid": ("BID", 1.0),
    "ask": ("ASK", 1.0),
    "last": ("LAST", 1.0),
    "volume": ("VOLUME", 1.0),
    "implied_vol": ("IV", 1.0),
    "delta": ("DELTA", 1.0),
    "gamma": ("GAMMA", 1.0),
    "vega": ("VEGA", 100.0),
    "theta": ("THETA", 365.0),
}
"""Schema column → (OptionsDX column after ``C_``/``P_``, factor to Seeker's unit). OptionsDX
quotes vega per volatility point and theta per calendar day, as we read its files; Seeker keeps
vega per 1.00 of volatility (× 100) and theta per year (× 365)."""

REQUIRED = ["[QUOTE_DATE]", "[UNDERLYING_LAST]", "[EXPIRE_DATE]", "[STRIKE]"] + [
    f"[{side}_{name}]" for side in ("C", "P") for name in ("BID", "ASK")
]
DATE_FORMAT = "%Y-%m-%d"


def read_optionsdx(path: Path, underlying: str) -> Normalized:
    """Return one OptionsDX file in the normalized schema, calls then puts."""
    vendor = list(COMMON.values()) + [
        f"[{side}_{name}]" for side in ("C", "P") for name, _ in SIDE.values()
    ]
    t = read_csv(path, dict.fromkeys(vendor, pa.string()))
    require_columns(path, t.column_names, REQUIRED, FORMAT)
    n = t.num_rows
    shared: dict[str, pa.ChunkedArray] = {
        "quote_date": to_date(path, "[QUOTE_DATE]", t["[QUOTE_DATE]"], DATE_FORMAT),
        "expiration": to_date(path, "[EXPIRE_DATE]", t["[EXPIRE_DATE]"], DATE_FORMAT),
        "underlying_price": to_number(
            path, "[UNDERLYING_LAST]", t["[UNDERLYING_LAST]"], pa.float64()
        ),
        "strike": to_number(path, "[STRIKE]", t["[STRIKE]"], pa.float64()),
        "underlying": pa.chunked_array([pa.array([underlying] * n, pa.string())]),
    }
    if COMMON["quote_time"] in t.column_names:
        shared["quote_time"] = _time_of(path, t[COMMON["quote_time"]])
    parts = []
    for side in ("C", "P"):
        cols: dict[str, pa.ChunkedArray] = dict(shared)
        cols["right"] = pa.chunked_array([pa.array([side] * n, pa.string())])
        for name, (suffix, factor) in SIDE.items():
            vendor_name = f"[{side}_{suffix}]"
            if vendor_name not in t.column_names:
                continue
            values = to_number(path, vendor_name, t[vendor_name], pa.float64())
            if factor != 1.0:
                values = pc.multiply(values, factor)
            if BY_NAME[name].kind == "int":
                try:
                    values = pc.cast(values, pa.int64())
                except pa.ArrowInvalid as exc:
                    raise ChainFormatError(f"{path}: column {vendor_name}: {exc}") from None
            cols[name] = values
        parts.append(complete(path, cols, n))
    return Normalized(pa.concat_tables(parts))


def _time_of(path: Path, readtime: pa.ChunkedArray) -> pa.ChunkedArray:
    """Return HH:MM from ``YYYY-MM-DD HH:MM`` read times (blank → null)."""
    text = pc.utf8_trim_whitespace(readtime)
    ok = pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$")
    bad = pc.and_(pc.invert(ok), pc.not_equal(text, ""))
    if pc.any(bad).as_py():
        first = pc.filter(text, bad)[0].as_py()
        raise ChainFormatError(f"{path}: column [QUOTE_READTIME]: unexpected value {first!r}")
    hhmm = pc.utf8_slice_codeunits(text, 11, 16)
    return pc.if_else(ok, hhmm, pa.scalar(None, pa.string()))
