"""cboe-delayed import of real SPX chains: counts checked against a plain gzip + csv count."""

from __future__ import annotations

import gzip
import shutil
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from seeker.core.replay.columns import ChainFormatError
from seeker.core.replay.importers import import_chains
from seeker.core.replay.report import DROP_REASONS, ImportReport
from seeker.core.replay.store import ChainStore

from .shared_data import chain_file, raw_rows

DAYS = ("20190702", "20190703", "20190704", "20190705")
"""Four files around Independence Day: 07/04 is a holiday file repeating 07/03."""


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ImportReport]:
    dest = tmp_path_factory.mktemp("store")
    seen: list[tuple[int, int, str]] = []
    report = import_chains(
        "cboe-delayed",
        [chain_file(d) for d in DAYS],
        dest,
        progress=lambda i, n, name: seen.append((i, n, name)),
    )
    assert seen == [(i, 4, f"SPX_{d}.csv.gz") for i, d in enumerate(DAYS, start=1)]
    return dest, report


def test_counts_match_a_plain_csv_count(imported: tuple[Path, ImportReport]) -> None:
    dest, report = imported
    rows = {d: raw_rows(chain_file(d)) for d in DAYS}
    assert report.files_read == 4
    assert report.rows_in == sum(len(r) for r in rows.values())
    # the holiday file is skipped whole, with its row count and reason
    assert [(s.file, s.quote_date, s.rows) for s in report.skipped] == [
        ("SPX_20190704.csv.gz", date(2019, 7, 4), len(rows["20190704"]))
    ]
    assert "not a trading day" in report.skipped[0].reason
    kept_days = ("20190702", "20190703", "20190705")
    no_ask = sum(float(r["ask"]) <= 0 for d in kept_days for r in rows[d])
    crossed = sum(float(r["bid"]) > float(r["ask"]) > 0 for d in kept_days for r in rows[d])
    assert no_ask == 4  # four 07/03 rows without an offer (checked by hand once)
    assert report.dropped["non_positive_ask"] == no_ask
    assert report.dropped["crossed"] == crossed == 0
    assert sum(report.dropped.values()) == no_ask
    assert report.rows_kept == sum(len(rows[d]) for d in kept_days) - no_ask
    assert report.rows_in == report.rows_kept + report.rows_skipped + sum(report.dropped.values())
    assert report.quote_dates == [date(2019, 7, 2), date(2019, 7, 3), date(2019, 7, 5)]
    expiries = {r["expiration"] for d in kept_days for r in rows[d] if float(r["ask"]) > 0}
    assert report.expiries == len(expiries)
    iv_zero = sum(float(r["impliedvol"]) <= 0 for d in DAYS for r in rows[d])
    assert report.missing_markers["implied_vol"] == iv_zero
    # the store holds exactly the kept rows, one hive partition per quote date
    store = ChainStore(dest)
    assert store.quote_dates() == report.quote_dates
    assert sum(store.load_day(d).num_rows for d in store.quote_dates()) == report.rows_kept
    assert sorted(p.name for p in dest.iterdir()) == [
        "quote_date=2019-07-02",
        "quote_date=2019-07-03",
        "quote_date=2019-07-05",
    ]
    text = report.as_text()
    assert "SPX_20190704.csv.gz" in text and "non_positive_ask" in text
    as_dict = report.as_dict()
    assert as_dict["rows_kept"] == report.rows_kept
    assert set(as_dict["dropped"]) == set(DROP_REASONS)


def test_values_are_stored_as_recorded(imported: tuple[Path, ImportReport]) -> None:
    dest, _ = imported
    raw = next(
        r for r in raw_rows(chain_file("20190703")) if r["optionroot"] == "SPXW190705C02995000"
    )
    day = ChainStore(dest).load_day(date(2019, 7, 3))
    rows = [
        r
        for r in day.to_pylist()
        if r["root"] == "SPXW"
        and r["expiration"] == date(2019, 7, 5)
        and r["strike"] == 2995.0
        and r["right"] == "C"
    ]
    assert len(rows) == 1
    row = rows[0]
    assert row["bid"] == float(raw["bid"]) and row["ask"] == float(raw["ask"])
    assert row["open_interest"] == int(raw["openinterest"])
    assert row["volume"] == int(raw["volume"])
    assert row["delta"] == float(raw["delta"])
    assert row["underlying_price"] == float(raw["underlying_last"])
    assert (row["style"], row["settlement"], row["multiplier"]) == ("E", "PM", 100)
    assert row["theta"] is None and row["vega"] is None and row["quote_time"] is None
    monthly = [r for r in day.to_pylist() if r["root"] == "SPX"]
    assert monthly and all(r["settlement"] == "AM" for r in monthly)


def test_reimport_writes_the_same_bytes(
    imported: tuple[Path, ImportReport], tmp_path: Path
) -> None:
    dest, report = imported
    again = tmp_path / "again"
    second = import_chains("cboe-delayed", [chain_file(d) for d in reversed(DAYS)], again)
    assert second.as_dict() == report.as_dict()
    for part in sorted(dest.rglob("*.parquet")):
        assert part.read_bytes() == (again / part.relative_to(dest)).read_bytes()
    # into the same folder: replaced by identical files
    before = {p: p.read_bytes() for p in dest.rglob("*.parquet")}
    import_chains("cboe-delayed", [chain_file("20190705")], dest)
    assert {p: p.read_bytes() for p in dest.rglob("*.parquet")} == before
    assert pq.read_metadata(next(iter(before))).metadata[b"seeker.replay.schema"] == b"1"


HEADER = (
    "underlying,underlying_last,exchange,optionroot,type,expiration,quotedate,strike,last,net,"
    "bid,ask,volume,openinterest,impliedvol,delta,gamma"
)


def _line(root: str, kind: str, strike: float, bid: str, ask: str, day: str = "07/02/2019") -> str:
    head = f"SPX,2973.01,CBOE,{root},{kind},07/05/2019,{day},{strike},0.0,0.0"
    return f"{head},{bid},{ask},5,7,0.12,0.5,0.01"


def test_each_drop_reason_is_counted(tmp_path: Path) -> None:
    lines = [
        _line("SPXW190705C02950000", "call", 2950, "1.0", "1.2"),  # kept
        _line("SPXW190705C02950000", "call", 2950, "1.0", "1.3"),  # duplicate
        _line("SPXW190705P02950000", "put", 2950, "1.5", "1.2"),  # crossed
        _line("SPXW190705P02960000", "put", 2960, "0.0", "0.0"),  # no ask
        _line("SPXW190705P02970000", "put", 2970, "-0.1", "0.5"),  # negative bid
        _line("SPXW190705X02980000", "straddle", 2980, "1.0", "1.2"),  # unknown right
        _line("SPXW190705P02990000", "put", 2990, "1.0", ""),  # no ask value (NaN)
        _line("SPXW190628P02990000", "put", 2990, "1.0", "1.1").replace("07/05/2019", "06/28/2019"),
    ]
    path = tmp_path / "SPX_20190702.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(HEADER + "\n" + "\n".join(lines) + "\n")
    report = import_chains("cboe-delayed", [path], tmp_path / "store")
    assert report.rows_in == 8 and report.rows_kept == 1
    assert report.dropped == {
        "unknown_right": 1,
        "missing_required": 1,
        "bad_value": 0,
        "expired": 1,
        "non_positive_ask": 1,
        "negative_bid": 1,
        "crossed": 1,
        "duplicate": 1,
    }
    kept = ChainStore(tmp_path / "store").load_day(date(2019, 7, 2)).to_pylist()
    assert [(r["right"], r["strike"], r["ask"]) for r in kept] == [("C", 2950.0, 1.2)]


def test_a_file_of_another_format_is_refused_naming_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("underlying,bid,ask\nSPX,1,2\n")
    with pytest.raises(ChainFormatError, match=r"missing column.*optionroot"):
        import_chains("cboe-delayed", [path], tmp_path / "store")
    assert not (tmp_path / "store").exists()


def test_a_repeated_quote_date_is_skipped(tmp_path: Path) -> None:
    src = chain_file("20190702")
    copy = tmp_path / "SPX_20190702_copy.csv.gz"
    shutil.copy(src, copy)
    report = import_chains("cboe-delayed", [copy, src], tmp_path / "store")
    assert len(report.skipped) == 1
    assert report.skipped[0].file == "SPX_20190702_copy.csv.gz"  # later in path order
    assert "already imported from SPX_20190702.csv.gz" in report.skipped[0].reason
