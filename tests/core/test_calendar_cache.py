"""The sessions cache: what it gives back is exactly what exchange_calendars gives, and a process
that finds its calendars cached never imports pandas."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from seeker.core.calendar import CACHE_ENV, MARKET_TZ, MarketCalendars
from tests.support import ROOT

CODES = ("XNYS", "XTSE")
START, END = date(2018, 1, 1), date(2027, 12, 31)  # DST changes, half days, holidays


def sessions(cal: MarketCalendars) -> dict[str, list[tuple[object, ...]]]:
    out = {}
    for code in CODES:
        days = cal.sessions(code, START, END)
        out[code] = [
            (s.day, s.open, s.close, s.half_day, s.open.tzinfo is MARKET_TZ, s.open.fold)
            for s in (cal.session(code, d) for d in days)
            if s is not None
        ]
    return out


def test_cached_sessions_are_exchange_calendars_sessions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, "")
    computed = sessions(MarketCalendars(CODES, START, END))
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    first = sessions(MarketCalendars(CODES, START, END))  # computes and writes the cache
    files = sorted((tmp_path / "calendars").glob("*.json"))
    assert [f.name.split("_")[0] for f in files] == list(CODES)
    cached = sessions(MarketCalendars(CODES, START, END))  # reads it
    assert first == computed and cached == computed
    assert sum(len(v) for v in computed.values()) > 4000
    assert any(row[3] for row in computed["XNYS"])  # half days came through


def test_a_damaged_cache_file_is_computed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    good = sessions(MarketCalendars(CODES, START, END))
    for f in (tmp_path / "calendars").glob("*.json"):
        f.write_text('[["2019-01-02", "09:30')  # torn
    again = sessions(MarketCalendars(CODES, START, END))
    assert again == good
    assert "unreadable calendar cache" in caplog.text
    assert sessions(MarketCalendars(CODES, START, END)) == good  # rewritten whole


def _loads_pandas(cache: str) -> bool:
    code = (
        "import sys; from datetime import date; from seeker.core.calendar import MarketCalendars;"
        f"MarketCalendars({CODES!r}, date(2025, 1, 1), date(2026, 12, 31));"
        "print('pandas' in sys.modules)"
    )
    env_cmd = [sys.executable, "-c", code]
    res = subprocess.run(
        env_cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, CACHE_ENV: cache},
        check=True,
    )
    return res.stdout.strip() == "True"


def test_a_process_with_cached_calendars_does_not_import_pandas(tmp_path: Path) -> None:
    assert _loads_pandas("") is True  # the cache off: exchange_calendars, hence pandas
    assert _loads_pandas(str(tmp_path)) is True  # first time: computed, then cached
    assert _loads_pandas(str(tmp_path)) is False  # found in the cache
