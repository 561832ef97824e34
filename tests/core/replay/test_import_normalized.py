"""normalized and optionsdx imports: hand-written files, errors that name the problem, and a
hypothesis round trip of random rows through the store."""

from __future__ import annotations

import csv
import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seeker.core.replay.columns import ChainFormatError
from seeker.core.replay.importers import import_chains
from seeker.core.replay.schema import (
    BY_NAME,
    COLUMNS,
    KEY,
    REQUIRED,
    arrow_schema,
    schema_markdown,
)
from seeker.core.replay.store import ChainStore

from .shared_data import PROJECT_ROOT

OPTIONAL = tuple(c.name for c in COLUMNS if not c.required)


def _write_csv(path: Path, rows: list[dict[str, Any]], names: list[str]) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        for r in rows:
            w.writerow(["" if r.get(n) is None else _text(r[n]) for n in names])


def _text(v: object) -> str:
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def test_schema_table_documents_every_column() -> None:
    text = schema_markdown()
    for c in COLUMNS:
        assert f"| `{c.name}` | {c.kind} | {'yes' if c.required else 'no'} |" in text
    assert [f.name for f in arrow_schema()] == [c.name for c in COLUMNS]
    assert set(REQUIRED) == {
        "quote_date",
        "underlying",
        "underlying_price",
        "expiration",
        "strike",
        "right",
        "bid",
        "ask",
    }


def test_normalized_csv_with_optional_columns_missing(tmp_path: Path) -> None:
    rows = [
        dict(quote_date="2019-07-02", underlying="SPX", underlying_price=2973.01,
             expiration="2019-07-05", strike=2950.0, right="P", bid=1.1, ask=1.3, volume=12),
        dict(quote_date="2019-07-02", underlying="SPX", underlying_price=2973.01,
             expiration="2019-07-05", strike=2950.0, right="C", bid=24.0, ask=25.5, volume=None),
    ]  # fmt: skip
    src = tmp_path / "chain.csv"
    _write_csv(src, rows, list(rows[0]))
    report = import_chains("normalized", [src], tmp_path / "store")
    assert report.rows_kept == 2 and sum(report.dropped.values()) == 0
    got = ChainStore(tmp_path / "store").load_day(date(2019, 7, 2)).to_pylist()
    assert [(r["right"], r["volume"]) for r in got] == [("C", None), ("P", 12)]
    for r in got:  # never invented
        assert r["open_interest"] is None and r["implied_vol"] is None and r["root"] is None


def test_normalized_errors_name_the_column(tmp_path: Path) -> None:
    extra = tmp_path / "extra.csv"
    extra.write_text(
        "quote_date,underlying,underlying_price,expiration,strike,right,bid,ask,oi\n"
        "2019-07-02,SPX,1,2019-07-05,1,C,1,2,3\n"
    )
    with pytest.raises(ChainFormatError, match="not in the normalized schema: oi"):
        import_chains("normalized", [extra], tmp_path / "s")
    short = tmp_path / "short.csv"
    short.write_text("quote_date,underlying,expiration,strike,right,bid,ask\n")
    with pytest.raises(ChainFormatError, match=r"required column.*underlying_price"):
        import_chains("normalized", [short], tmp_path / "s")
    style = tmp_path / "style.csv"
    style.write_text(
        "quote_date,underlying,underlying_price,expiration,strike,right,bid,ask,style\n"
        "2019-07-02,SPX,1,2019-07-05,1,C,1,2,European\n"
    )
    with pytest.raises(ChainFormatError, match="column style: 'European'"):
        import_chains("normalized", [style], tmp_path / "s")
    baddate = tmp_path / "date.csv"
    baddate.write_text(
        "quote_date,underlying,underlying_price,expiration,strike,right,bid,ask\n"
        "07/02/2019,SPX,1,2019-07-05,1,C,1,2\n"
    )
    with pytest.raises(ChainFormatError, match="column quote_date"):
        import_chains("normalized", [baddate], tmp_path / "s")


OPTIONSDX = (
    "[QUOTE_UNIXTIME], [QUOTE_READTIME], [QUOTE_DATE], [QUOTE_TIME_HOURS], [UNDERLYING_LAST], "
    "[EXPIRE_DATE], [EXPIRE_UNIX], [DTE], [C_DELTA], [C_GAMMA], [C_VEGA], [C_THETA], [C_RHO], "
    "[C_IV], [C_VOLUME], [C_LAST], [C_SIZE], [C_BID], [C_ASK], [STRIKE], [P_BID], [P_ASK], "
    "[P_SIZE], [P_LAST], [P_DELTA], [P_GAMMA], [P_VEGA], [P_THETA], [P_RHO], [P_IV], [P_VOLUME], "
    "[STRIKE_DISTANCE], [STRIKE_DISTANCE_PCT]\n"
    "1562097600, 2019-07-02 16:00, 2019-07-02, 16.000000, 2973.01, 2019-07-05, 1562356800, "
    "3.0, 0.52, 0.009, 1.10, -1.50, 0.1, 0.1100, 150.0, 12.4, 10 x 10, 12.30, 12.60, 2975.0, "
    "13.90, 14.20, 5 x 5, , -0.48, 0.009, 1.10, -1.40, -0.1, 0.1150, , 2.0, 0.001\n"
)


def test_optionsdx_rows_become_one_row_per_side(tmp_path: Path) -> None:
    src = tmp_path / "spx_eod_201907.txt"
    src.write_text(OPTIONSDX)
    with pytest.raises(ValueError, match="underlying="):
        import_chains("optionsdx", [src], tmp_path / "store")
    report = import_chains("optionsdx", [src], tmp_path / "store", underlying="SPX")
    assert report.rows_in == 2 and report.rows_kept == 2
    call, put = ChainStore(tmp_path / "store").load_day(date(2019, 7, 2)).to_pylist()
    assert (call["right"], call["bid"], call["ask"], call["strike"]) == ("C", 12.3, 12.6, 2975.0)
    assert (put["right"], put["bid"], put["ask"]) == ("P", 13.9, 14.2)
    assert call["quote_time"] == "16:00" and call["underlying_price"] == 2973.01
    assert call["vega"] == pytest.approx(110.0) and call["theta"] == pytest.approx(-1.5 * 365)
    assert call["implied_vol"] == 0.11 and call["volume"] == 150 and call["last"] == 12.4
    assert put["volume"] is None and put["last"] is None
    assert call["open_interest"] is None and put["open_interest"] is None  # OptionsDX has none
    assert call["root"] is None and call["settlement"] is None
    declared = import_chains(
        "optionsdx",
        [src],
        tmp_path / "declared",
        underlying="SPX",
        constants={"root": "SPXW", "settlement": "PM", "style": "E", "multiplier": 100},
    )
    assert declared.rows_kept == 2
    row = ChainStore(tmp_path / "declared").load_day(date(2019, 7, 2)).to_pylist()[0]
    assert (row["root"], row["settlement"], row["style"], row["multiplier"]) == (
        "SPXW",
        "PM",
        "E",
        100,
    )


# -- hypothesis: random rows round-trip through the store unchanged ---------------------------
DAYS = (date(2019, 7, 1), date(2019, 7, 2), date(2019, 7, 3), date(2019, 7, 5))
_finite = st.floats(min_value=0.01, max_value=5000.0, allow_nan=False, allow_infinity=False)
_maybe_float = st.none() | st.floats(
    min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False
)
_OPTIONAL_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "quote_time": st.none() | st.sampled_from(["09:30", "15:45", "16:00"]),
    "root": st.none() | st.sampled_from(["SPX", "SPXW"]),
    "style": st.none() | st.sampled_from(["E", "A"]),
    "settlement": st.none() | st.sampled_from(["AM", "PM"]),
    "multiplier": st.none() | st.sampled_from([10, 100]),
    "last": st.none() | _finite,
    "volume": st.none() | st.integers(0, 10**6),
    "open_interest": st.none() | st.integers(0, 10**6),
    "implied_vol": st.none() | st.floats(0.01, 5.0),
    "delta": _maybe_float,
    "gamma": _maybe_float,
    "theta": _maybe_float,
    "vega": _maybe_float,
}


@st.composite
def _row(draw: st.DrawFn, present: frozenset[str]) -> dict[str, Any]:
    day = draw(st.sampled_from(DAYS))
    bid = draw(st.floats(min_value=0.0, max_value=1000.0))
    row: dict[str, Any] = {
        "quote_date": day,
        "underlying": draw(st.sampled_from(["SPX", "XSP"])),
        "underlying_price": draw(_finite),
        "expiration": day + timedelta(days=draw(st.integers(0, 800))),
        "strike": draw(_finite),
        "right": draw(st.sampled_from(["C", "P"])),
        "bid": bid,
        "ask": bid + draw(st.floats(min_value=0.01, max_value=50.0)),
    }
    for name in OPTIONAL:
        row[name] = draw(_OPTIONAL_VALUES[name]) if name in present else None
    return row


@st.composite
def _table(draw: st.DrawFn) -> tuple[list[str], list[dict[str, Any]]]:
    present = draw(st.frozensets(st.sampled_from(OPTIONAL)))
    rows = draw(st.lists(_row(present), min_size=1, max_size=25, unique_by=lambda r: _key(r)))
    names = [c.name for c in COLUMNS if c.required or c.name in present]
    return names, rows


def _key(r: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(r[k] for k in KEY)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(table=_table(), as_parquet=st.booleans())
def test_random_rows_round_trip_unchanged(
    tmp_path_factory: pytest.TempPathFactory,
    table: tuple[list[str], list[dict[str, Any]]],
    as_parquet: bool,
) -> None:
    names, rows = table
    folder = tmp_path_factory.mktemp("rt")
    if as_parquet:
        src = folder / "chain.parquet"
        fields = [pa.field(n, BY_NAME[n].arrow_type) for n in names]
        pq.write_table(
            pa.Table.from_pylist([{n: r[n] for n in names} for r in rows], pa.schema(fields)), src
        )
    else:
        src = folder / "chain.csv"
        _write_csv(src, rows, names)
    report = import_chains("normalized", [src], folder / "store")
    assert report.rows_kept == len(rows) and sum(report.dropped.values()) == 0
    store = ChainStore(folder / "store")
    got = [r for d in store.quote_dates() for r in store.load_day(d).to_pylist()]
    assert sorted(got, key=_sort_key) == sorted(rows, key=_sort_key)


def _sort_key(r: dict[str, Any]) -> tuple[Any, ...]:
    return tuple((v is None, v) for v in _key(r))


def test_nan_optional_values_are_stored_as_missing(tmp_path: Path) -> None:
    src = tmp_path / "nan.parquet"
    t = pa.table(
        {
            "quote_date": pa.array([date(2019, 7, 2)]),
            "underlying": ["SPX"],
            "underlying_price": [2973.0],
            "expiration": pa.array([date(2019, 7, 5)]),
            "strike": [2950.0],
            "right": ["C"],
            "bid": [1.0],
            "ask": [1.2],
            "delta": [math.nan],
        }
    )
    pq.write_table(t, src)
    import_chains("normalized", [src], tmp_path / "store")
    (row,) = ChainStore(tmp_path / "store").load_day(date(2019, 7, 2)).to_pylist()
    assert row["delta"] is None


def test_readme_schema_table_is_the_generated_one() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    if "| `quote_date` |" not in readme:
        pytest.skip("the README has no normalized-schema table yet")
    assert schema_markdown() in readme
