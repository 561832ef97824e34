"""Read CBOE delayed-quote end-of-day chains (``cboe-delayed``) into the normalized schema.

One file per quote date, one row per option: ``underlying, underlying_last, exchange,
optionroot, type, expiration (MM/DD/YYYY), quotedate (MM/DD/YYYY), strike, last, net, bid, ask,
volume, openinterest, impliedvol, delta, gamma``. The option root is the OSI symbol without its
15-character tail (YYMMDD, C/P, strike × 1000); the roots listed in :data:`ROOT_TERMS` get their
exercise style, settlement and multiplier, other roots leave them unknown.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from seeker.core.replay.columns import (
    Normalized,
    complete,
    map_values,
    placeholder_to_null,
    read_csv,
    require_columns,
    to_date,
)

FORMAT = "cboe-delayed"

TYPES: dict[str, pa.DataType] = {
    "underlying": pa.string(),
    "underlying_last": pa.float64(),
    "optionroot": pa.string(),
    "type": pa.string(),
    "expiration": pa.string(),
    "quotedate": pa.string(),
    "strike": pa.float64(),
    "last": pa.float64(),
    "bid": pa.float64(),
    "ask": pa.float64(),
    "volume": pa.int64(),
    "openinterest": pa.int64(),
    "impliedvol": pa.float64(),
    "delta": pa.float64(),
    "gamma": pa.float64(),
}
"""The vendor columns read, with their types (``exchange`` and ``net`` are not used)."""

RIGHTS = {"call": "C", "put": "P", "C": "C", "P": "P"}

ROOT_TERMS: dict[str, tuple[str, str, int]] = {
    "SPX": ("E", "AM", 100),
    "SPXW": ("E", "PM", 100),
}
"""Root → (exercise style, settlement, multiplier): SPX monthlies settle on the special opening
quotation of expiry day (AM), SPXW weeklies and end-of-month options on the close (PM)."""

OSI_TAIL = 15
"""Characters after the root in an OSI option symbol: YYMMDD, C/P, strike × 1000 (8 digits)."""


def read_cboe_delayed(path: Path) -> Normalized:
    """Return one CBOE delayed-quote file in the normalized schema.

    Vendor placeholders become null and are counted: an implied volatility of 0 (not computed)
    and a last price of 0 (no trade).
    """
    t = read_csv(path, TYPES)
    require_columns(path, t.column_names, list(TYPES), FORMAT)
    markers: dict[str, int] = {}
    symbol = pc.utf8_trim_whitespace(t["optionroot"])
    long_enough = pc.greater(pc.utf8_length(symbol), OSI_TAIL)
    root = pc.if_else(
        long_enough,
        pc.utf8_slice_codeunits(symbol, 0, -OSI_TAIL),
        pa.scalar(None, pa.string()),
    )
    iv = t["impliedvol"]
    last = t["last"]
    multipliers = {k: str(v[2]) for k, v in ROOT_TERMS.items()}
    columns = {
        "quote_date": to_date(path, "quotedate", t["quotedate"], "%m/%d/%Y"),
        "underlying": pc.utf8_trim_whitespace(t["underlying"]),
        "underlying_price": t["underlying_last"],
        "expiration": to_date(path, "expiration", t["expiration"], "%m/%d/%Y"),
        "strike": t["strike"],
        "right": map_values(pc.utf8_trim_whitespace(t["type"]), RIGHTS),
        "bid": t["bid"],
        "ask": t["ask"],
        "root": root,
        "style": map_values(root, {k: v[0] for k, v in ROOT_TERMS.items()}),
        "settlement": map_values(root, {k: v[1] for k, v in ROOT_TERMS.items()}),
        "multiplier": pc.cast(map_values(root, multipliers), pa.int64()),
        "last": placeholder_to_null(last, pc.less_equal(last, 0.0), "last", markers),
        "volume": t["volume"],
        "open_interest": t["openinterest"],
        "implied_vol": placeholder_to_null(iv, pc.less_equal(iv, 0.0), "implied_vol", markers),
        "delta": t["delta"],
        "gamma": t["gamma"],
    }
    return Normalized(complete(path, columns, t.num_rows), markers)
