"""Daily index history for replay: the data README's spot values, warm-up, bad files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from seeker.core.replay.history import load_index_history, read_daily_csv

from .shared_data import shared_data


def _files() -> tuple[Path, Path]:
    base = shared_data() / "index-history"
    return base / "spx_daily.csv", base / "vix_daily.csv"


def test_spot_values_of_the_data_readme() -> None:
    spx, vix = _files()
    h = load_index_history("SPX", spx, vix, date(2019, 4, 25), date(2019, 7, 22), 400)
    at = {d: i for i, d in enumerate(h.dates)}
    for day, close in ((date(2018, 2, 5), 2648.94), (date(2018, 12, 24), 2351.10)):
        assert h.close[at[day]] == pytest.approx(close, abs=1e-9)
    assert h.close[at[date(2019, 4, 30)]] == pytest.approx(2945.83, abs=1e-9)
    # VIX in points → implied volatility per 1.00
    for day, points in (
        (date(2018, 2, 5), 37.32),
        (date(2018, 12, 24), 36.07),
        (date(2019, 5, 13), 20.55),
    ):
        assert h.iv[at[day]] == pytest.approx(points / 100.0, abs=1e-12)
    assert np.isfinite(h.iv).all()


def test_day_one_has_the_warm_up_before_it() -> None:
    spx, vix = _files()
    first, last = date(2019, 4, 25), date(2019, 7, 22)
    h = load_index_history("SPX", spx, vix, first, last, 252)
    before = [d for d in h.dates if d < first]
    assert len(before) == 252
    assert h.dates[-1] == last and h.listing_id == "SPX"
    assert list(h.dates) == sorted(set(h.dates))
    with pytest.raises(ValueError, match="sessions before 2005-05-02"):
        load_index_history("SPX", spx, vix, date(2005, 5, 2), last, 252)


def test_a_session_without_volatility_stays_unknown(tmp_path: Path) -> None:
    idx = tmp_path / "idx.csv"
    vol = tmp_path / "vol.csv"
    idx.write_text(
        "date,open,high,low,close\n"
        "2019-01-02,10,11,9,10.5\n2019-01-03,10.5,12,10,11\n2019-01-04,11,11.5,10.5,11.2\n"
    )
    vol.write_text("date,open,high,low,close\n2019-01-02,20,21,19,20.5\n2019-01-04,22,23,21,22\n")
    h = load_index_history("X", idx, vol, date(2019, 1, 3), date(2019, 1, 4), 1)
    assert h.dates == (date(2019, 1, 2), date(2019, 1, 3), date(2019, 1, 4))
    assert h.iv[0] == pytest.approx(0.205) and np.isnan(h.iv[1]) and h.iv[2] == pytest.approx(0.22)


def test_a_bad_bar_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,open,high,low,close\n2019-01-02,10,11,9,10.5\n2019-01-03,10,9,9.5,10\n")
    with pytest.raises(ValueError, match="2019-01-03"):
        read_daily_csv(bad)
    unordered = tmp_path / "unordered.csv"
    unordered.write_text("date,open,high,low,close\n2019-01-03,10,11,9,10\n2019-01-02,10,11,9,10\n")
    with pytest.raises(ValueError, match="not strictly increasing at 2019-01-02"):
        read_daily_csv(unordered)
    # a volatility index file whose open lies outside its range is still read for its close
    vix3m = read_daily_csv(shared_data() / "index-history" / "vix3m_daily.csv", ohlc_checked=False)
    assert len(vix3m.dates) > 4000
