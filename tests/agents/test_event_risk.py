"""Event Risk: strict CSV parsing, coverage, buffers counted in sessions, rules, shipped files."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from seeker.agents.event_risk import Event, EventCalendar, EventRisk, EventsConfig
from seeker.core.calendar import MARKET_TZ, MarketCalendars
from seeker.core.models import DataUnavailable, Listing
from tests.support import ROOT

Row = tuple[str, str, str, str]

IWM = Listing("IWM", "IWM", "ARCA", "USD", "broad_market", "etf", 0.01, 0.5, "XNYS")
TD = Listing("TD", "TD", "NYSE", "USD", "financials", "stock", 0.04, 0.5, "XNYS")
TD_TO = Listing("TD.TO", "TD", "TSE", "CAD", "financials", "stock", 0.04, 1.0, "XTSE")
BAC = Listing("BAC", "BAC", "NYSE", "USD", "financials", "stock", 0.025, 0.5, "XNYS")

# Events listed far enough out that every trade in these tests is covered.
COVER: list[Row] = [
    ("2027-06-04", "08:30", "NFP", "*"),
    ("2027-06-10", "08:30", "CPI", "*"),
    ("2027-06-16", "14:00", "FOMC", "*"),
]
COVER_EARNINGS: list[Row] = [("2027-06-01", "07:00", "EARNINGS", "TD")]
EXPIRY = date(2026, 12, 18)

BASE: dict[str, Any] = {
    "macro_file": "macro.csv",
    "earnings_file": "earnings.csv",
    "macro_kinds": ["CPI", "FOMC", "NFP"],
    "macro_buffer_days": 1,
    "earnings_buffer_days": 3,
    "entry_rule": "avoid",
    "reduce_fraction": 0.5,
    "position_rule": "reduce",
    "avoid_half_days": True,
    "prefer_etfs": True,
}


@pytest.fixture(scope="module")
def cals() -> MarketCalendars:
    return MarketCalendars(["XNYS", "XTSE"], date(2025, 12, 1), date(2028, 6, 30))


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=MARKET_TZ)


def write_csv(path: Path, rows: Iterable[Row], header: bool = True) -> Path:
    lines = ["date,time,kind,symbol"] if header else []
    lines += [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + ("\n" if lines else ""))
    return path


def make(
    tmp_path: Path,
    cals: MarketCalendars,
    macro: Iterable[Row] = (),
    earnings: Iterable[Row] = (),
    cover: bool = True,
    **overrides: Any,
) -> EventRisk:
    write_csv(tmp_path / "macro.csv", [*macro, *(COVER if cover else [])])
    write_csv(tmp_path / "earnings.csv", [*earnings, *(COVER_EARNINGS if cover else [])])
    cfg = EventsConfig.model_validate({**BASE, **overrides}, context={"base_dir": tmp_path})
    return EventRisk(cfg, cfg.load_calendar(), cals)


# ---------------------------------------------------------------------------- parsing


def test_parse_sorts_and_localises(tmp_path: Path) -> None:
    macro = write_csv(
        tmp_path / "m.csv",
        [("2026-03-18", "14:00", "FOMC", "*"), ("2026-03-11", "08:30", "CPI", "*")],
    )
    earn = write_csv(tmp_path / "e.csv", [("2026-02-26", "07:00", "EARNINGS", "TD")])
    cal = EventCalendar.load(macro, earn)
    assert [e.kind for e in cal.events] == ["EARNINGS", "CPI", "FOMC"]
    cpi = cal.events[1]
    assert cpi.at == datetime(2026, 3, 11, 8, 30, tzinfo=MARKET_TZ)
    assert cpi.at.utcoffset() == timedelta(hours=-4)  # DST began 2026-03-08
    assert cpi.symbol == "*" and cal.events[0].symbol == "TD"
    assert cal.last("FOMC") is not None and cal.last("FOMC").day == date(2026, 3, 18)  # type: ignore[union-attr]
    assert cal.last("EARNINGS", "BAC") is None


@pytest.mark.parametrize(
    ("macro_lines", "why"),
    [
        (["date,time,kind"], "header must be"),
        (["date,time,kind,symbol", "2026-03-11,08:30,CPI"], "expected 4 fields"),
        (["date,time,kind,symbol", "2026/03/11,08:30,CPI,*"], "not YYYY-MM-DD"),
        (["date,time,kind,symbol", "2026-02-30,08:30,CPI,*"], "not a calendar date"),
        (["date,time,kind,symbol", "2026-03-11,8:30,CPI,*"], "not HH:MM"),
        (["date,time,kind,symbol", "2026-03-11,24:00,CPI,*"], "not HH:MM"),
        (["date,time,kind,symbol", "2026-03-11,08:30,CIP,*"], "not a macro kind"),
        (["date,time,kind,symbol", "2026-03-11,08:30,EARNINGS,TD"], "not a macro kind"),
        (["date,time,kind,symbol", "2026-03-11,08:30,CPI,SPY"], "symbol must be '*'"),
        (
            ["date,time,kind,symbol", "2026-03-11,08:30,CPI,*", "2026-03-11,08:30,CPI,*"],
            "duplicate of line 2",
        ),
    ],
)
def test_bad_macro_line_names_file_and_line(
    tmp_path: Path, macro_lines: list[str], why: str
) -> None:
    macro = tmp_path / "macro.csv"
    macro.write_text("\n".join(macro_lines) + "\n")
    earn = write_csv(tmp_path / "earnings.csv", [])
    with pytest.raises(ValueError, match=why) as err:
        EventCalendar.load(macro, earn)
    assert f"macro.csv:{len(macro_lines)}:" in str(err.value)


@pytest.mark.parametrize(
    ("row", "why"),
    [
        ("2026-02-26,07:00,CPI,TD", "kind must be EARNINGS"),
        ("2026-02-26,07:00,EARNINGS,*", "not a ticker"),
        ("2026-02-26,07:00,EARNINGS,", "not a ticker"),
    ],
)
def test_bad_earnings_line(tmp_path: Path, row: str, why: str) -> None:
    macro = write_csv(tmp_path / "macro.csv", [])
    earn = tmp_path / "earnings.csv"
    earn.write_text(f"date,time,kind,symbol\n{row}\n")
    with pytest.raises(ValueError, match=f"earnings.csv:2: .*{why}"):
        EventCalendar.load(macro, earn)


def test_empty_files_are_valid_but_cover_nothing(tmp_path: Path, cals: MarketCalendars) -> None:
    (tmp_path / "macro.csv").write_text("")
    write_csv(tmp_path / "earnings.csv", [])  # header only
    cfg = EventsConfig.model_validate(BASE, context={"base_dir": tmp_path})
    cal = cfg.load_calendar()
    assert cal.events == ()
    v = EventRisk(cfg, cal, cals).entry_verdict(IWM, at(2026, 3, 2), date(2026, 4, 17))
    assert not v.allowed
    assert "does not cover the trade" in v.reason
    assert "no CPI listed" in v.reason and "no FOMC listed" in v.reason
    assert v.details["uncovered"] == ["CPI", "FOMC", "NFP"]
    assert "missing_data" not in v.details  # blocked_by "event_risk", not "data"


# ---------------------------------------------------------------------------- coverage


def test_coverage_needs_an_event_strictly_after_the_last_expiry(
    tmp_path: Path, cals: MarketCalendars
) -> None:
    rows: list[Row] = [
        ("2026-06-05", "08:30", "NFP", "*"),
        ("2026-06-10", "08:30", "CPI", "*"),
        ("2026-06-17", "14:00", "FOMC", "*"),
    ]
    er = make(tmp_path, cals, macro=rows, cover=False)
    now = at(2026, 4, 20)
    assert er.entry_verdict(IWM, now, date(2026, 6, 4)).allowed
    v = er.entry_verdict(IWM, now, date(2026, 6, 5))  # NFP on the expiry day: not after it
    assert not v.allowed
    assert v.reason == (
        "event calendar does not cover the trade (lives to 2026-06-05): last NFP listed 2026-06-05"
    )
    assert v.details["coverage"] == {"CPI": "2026-06-10", "FOMC": "2026-06-17", "NFP": "2026-06-05"}
    v = er.entry_verdict(IWM, now, date(2026, 6, 12))
    assert v.details["uncovered"] == ["CPI", "NFP"]


def test_only_watched_kinds_need_coverage(tmp_path: Path, cals: MarketCalendars) -> None:
    rows: list[Row] = [("2026-06-17", "14:00", "FOMC", "*")]
    er = make(tmp_path, cals, macro=rows, cover=False, macro_kinds=["FOMC"])
    assert er.entry_verdict(IWM, at(2026, 4, 20), date(2026, 6, 5)).allowed


def test_stock_needs_earnings_coverage_etf_does_not(tmp_path: Path, cals: MarketCalendars) -> None:
    er = make(tmp_path, cals, earnings=[("2026-05-28", "07:00", "EARNINGS", "TD")], cover=True)
    now = at(2026, 4, 20)
    # TD is covered by COVER_EARNINGS (2027-06-01); BAC has no line at all.
    assert er.entry_verdict(TD, now, date(2026, 6, 19)).allowed
    v = er.entry_verdict(BAC, now, date(2026, 6, 19))
    assert not v.allowed and "no BAC earnings listed" in v.reason
    assert er.entry_verdict(IWM, now, date(2026, 6, 19)).allowed


# ---------------------------------------------------------------------------- buffers


@pytest.mark.parametrize(
    ("now", "allowed", "away"),
    [
        (at(2026, 3, 6, 15, 0), True, 3),  # Friday: Mon, Tue, Wed
        (at(2026, 3, 9), True, 2),  # Monday: J-2
        (at(2026, 3, 10), False, 1),  # Tuesday: J-1, the boundary
        (at(2026, 3, 11, 8, 0), False, 0),  # Wednesday before the 08:30 release: J0
    ],
)
def test_macro_buffer_boundaries(
    tmp_path: Path, cals: MarketCalendars, now: datetime, allowed: bool, away: int
) -> None:
    er = make(tmp_path, cals, macro=[("2026-03-11", "08:30", "CPI", "*")])
    v = er.entry_verdict(IWM, now, EXPIRY)
    assert v.allowed is allowed
    if not allowed:
        assert v.reason == f"CPI on 2026-03-11 is J-{away} (buffer 1 session)"
    first = v.details["next_events"][0]
    assert (first["kind"], first["date"], first["sessions_away"]) == ("CPI", "2026-03-11", away)


def test_event_already_past_does_not_count(tmp_path: Path, cals: MarketCalendars) -> None:
    er = make(tmp_path, cals, macro=[("2026-03-11", "08:30", "CPI", "*")])
    v = er.entry_verdict(IWM, at(2026, 3, 11, 9, 45), EXPIRY)
    assert v.allowed
    assert all(e["date"] != "2026-03-11" for e in v.details["next_events"])


def test_zero_buffer_refuses_only_the_event_session(tmp_path: Path, cals: MarketCalendars) -> None:
    er = make(tmp_path, cals, macro=[("2026-03-18", "14:00", "FOMC", "*")], macro_buffer_days=0)
    assert er.entry_verdict(IWM, at(2026, 3, 17, 15, 59), EXPIRY).allowed
    v = er.entry_verdict(IWM, at(2026, 3, 18, 13, 0), EXPIRY)
    assert not v.allowed and v.reason == "FOMC on 2026-03-18 is J-0 (buffer 0 sessions)"


def test_monday_event_after_a_holiday(tmp_path: Path, cals: MarketCalendars) -> None:
    # Good Friday 2026-04-03 is closed on XNYS and XTSE: Thursday is J-1 of Monday.
    er = make(tmp_path, cals, macro=[("2026-04-06", "10:00", "CPI", "*")])
    assert er.entry_verdict(IWM, at(2026, 4, 1), EXPIRY).allowed  # Wed: Thu, Mon → J-2
    v = er.entry_verdict(TD_TO, at(2026, 4, 2), EXPIRY)
    assert not v.allowed and v.reason == "CPI on 2026-04-06 is J-1 (buffer 1 session)"


def test_event_on_a_holiday_belongs_to_the_next_session(
    tmp_path: Path, cals: MarketCalendars
) -> None:
    # NFP is released on Good Friday 2026-04-03 while the exchanges are shut: J0 is Monday.
    er = make(tmp_path, cals, macro=[("2026-04-03", "08:30", "NFP", "*")])
    nxt = er.next_event(IWM, at(2026, 4, 2))
    assert nxt is not None
    event, away = nxt
    assert (event.kind, event.day, away) == ("NFP", date(2026, 4, 3), 1)
    assert er.next_event(IWM, at(2026, 4, 1)) == (event, 2)


def test_sessions_follow_the_listing_calendar(tmp_path: Path, cals: MarketCalendars) -> None:
    # TD reports Wed 2026-10-14; Canadian Thanksgiving (Mon 10-12) shuts XTSE, not XNYS.
    er = make(tmp_path, cals, earnings=[("2026-10-14", "07:00", "EARNINGS", "TD")])
    now = at(2026, 10, 8)  # Thursday
    v_us = er.entry_verdict(TD, now, EXPIRY)  # Fri, Mon, Tue, Wed → J-4
    v_ca = er.entry_verdict(TD_TO, now, EXPIRY)  # Fri, Tue, Wed → J-3
    assert v_us.allowed
    assert not v_ca.allowed
    assert v_ca.reason == (
        "TD earnings on 2026-10-14 is J-3 (buffer 3 sessions): single stock refused, ETFs preferred"
    )


def test_td_earnings_apply_to_both_listings_and_not_to_etfs(
    tmp_path: Path, cals: MarketCalendars
) -> None:
    er = make(tmp_path, cals, earnings=[("2026-02-26", "07:00", "EARNINGS", "TD")])
    for listing in (TD, TD_TO):
        assert not er.entry_verdict(listing, at(2026, 2, 23), EXPIRY).allowed  # Mon: J-3
        assert er.entry_verdict(listing, at(2026, 2, 20), EXPIRY).allowed  # Fri: J-4
    assert er.entry_verdict(IWM, at(2026, 2, 23), EXPIRY).allowed
    etf_named_td = Listing("TDX", "TD", "ARCA", "USD", "financials", "etf", 0.0, 0.5, "XNYS")
    assert er.entry_verdict(etf_named_td, at(2026, 2, 25), EXPIRY).allowed


def test_half_day(tmp_path: Path, cals: MarketCalendars) -> None:
    er = make(tmp_path, cals)
    v = er.entry_verdict(IWM, at(2026, 11, 27), EXPIRY)  # day after Thanksgiving: XNYS 13:00
    assert not v.allowed
    assert v.reason == "2026-11-27 is an early-close session (XNYS closes 13:00): no opening"
    assert er.entry_verdict(TD_TO, at(2026, 11, 27), EXPIRY).allowed  # a full XTSE session
    relaxed = make(tmp_path, cals, avoid_half_days=False)
    v = relaxed.entry_verdict(IWM, at(2026, 11, 27), EXPIRY)
    assert v.allowed and v.details["half_day"] is True


def test_reduce_rule(tmp_path: Path, cals: MarketCalendars) -> None:
    macro: list[Row] = [("2026-03-11", "08:30", "CPI", "*")]
    earnings: list[Row] = [("2026-03-12", "07:00", "EARNINGS", "TD")]
    er = make(tmp_path, cals, macro=macro, earnings=earnings, entry_rule="reduce")
    v = er.entry_verdict(IWM, at(2026, 3, 10), EXPIRY)
    assert v.allowed and v.details["qty_factor"] == 0.5
    assert v.reason == "CPI on 2026-03-11 is J-1 (buffer 1 session): size reduced to 50%"
    v = er.entry_verdict(TD, at(2026, 3, 10), EXPIRY)  # prefer_etfs: earnings still refuse
    assert not v.allowed and "single stock refused, ETFs preferred" in v.reason
    assert "qty_factor" not in v.details
    er = make(
        tmp_path,
        cals,
        macro=macro,
        earnings=earnings,
        entry_rule="reduce",
        prefer_etfs=False,
        reduce_fraction=0.25,
    )
    v = er.entry_verdict(TD, at(2026, 3, 10), EXPIRY)
    assert v.allowed and v.details["qty_factor"] == 0.25
    assert "TD earnings on 2026-03-12 is J-2 (buffer 3 sessions)" in v.reason
    assert er.entry_verdict(TD, at(2026, 3, 5), EXPIRY).details.get("qty_factor") is None


def test_avoid_without_prefer_etfs_refuses_earnings_plainly(
    tmp_path: Path, cals: MarketCalendars
) -> None:
    er = make(
        tmp_path, cals, earnings=[("2026-03-12", "07:00", "EARNINGS", "TD")], prefer_etfs=False
    )
    v = er.entry_verdict(TD, at(2026, 3, 10), EXPIRY)
    assert not v.allowed and v.reason == "TD earnings on 2026-03-12 is J-2 (buffer 3 sessions)"


def test_calendar_range_too_short_is_missing_data(tmp_path: Path) -> None:
    short = MarketCalendars(["XNYS"], date(2026, 1, 1), date(2026, 3, 10))
    er = make(tmp_path, short, macro=[("2026-03-11", "08:30", "CPI", "*")])
    v = er.entry_verdict(IWM, at(2026, 3, 10), EXPIRY)  # J-1 or not? the range ends 03-10
    assert not v.allowed and v.details["missing_data"] is True
    assert v.reason.startswith("event risk cannot be assessed: 2026-03-11 is beyond the loaded")
    with pytest.raises(DataUnavailable):
        er.next_event(IWM, at(2026, 3, 9))
    # One session before the range's end, the event is at least J-2: safely outside the buffer.
    v = er.entry_verdict(IWM, at(2026, 3, 9), EXPIRY)
    assert v.allowed and v.details["next_events"][0]["sessions_away"] is None


# ---------------------------------------------------------------------------- positions


def test_position_action(tmp_path: Path, cals: MarketCalendars) -> None:
    macro: list[Row] = [("2026-03-18", "14:00", "FOMC", "*")]
    earnings: list[Row] = [("2026-03-12", "16:30", "EARNINGS", "TD")]
    er = make(tmp_path, cals, macro=macro, earnings=earnings)
    exp = date(2026, 4, 17)
    assert er.position_action(IWM, at(2026, 3, 17), exp) == (
        "reduce",
        "FOMC on 2026-03-18 is J-1 (buffer 1 session) before expiry 2026-04-17: reduce",
    )
    assert er.position_action(IWM, at(2026, 3, 16), exp) is None  # J-2
    assert er.position_action(IWM, at(2026, 3, 17), date(2026, 3, 17)) is None  # after expiry
    assert er.position_action(IWM, at(2026, 3, 18, 14, 0), exp) is None  # just past
    # Earnings: stocks only, J-3 on Monday 03-09.
    action = er.position_action(TD_TO, at(2026, 3, 9), exp)
    assert action is not None and action[0] == "reduce" and "TD earnings" in action[1]
    assert er.position_action(IWM, at(2026, 3, 9), exp) is None
    closer = make(tmp_path, cals, macro=macro, position_rule="close")
    assert closer.position_action(IWM, at(2026, 3, 17), exp)[0] == "close"  # type: ignore[index]
    holder = make(tmp_path, cals, macro=macro, position_rule="hold")
    assert holder.position_action(IWM, at(2026, 3, 17), exp) is None


def test_next_event_picks_the_nearest_relevant(tmp_path: Path, cals: MarketCalendars) -> None:
    macro: list[Row] = [("2026-03-18", "14:00", "FOMC", "*")]
    earnings: list[Row] = [("2026-03-12", "16:30", "EARNINGS", "TD")]
    er = make(tmp_path, cals, macro=macro, earnings=earnings)
    ev, away = er.next_event(TD, at(2026, 3, 10))  # type: ignore[misc]
    assert (ev.kind, ev.symbol, away) == ("EARNINGS", "TD", 2)
    ev, away = er.next_event(IWM, at(2026, 3, 10))  # type: ignore[misc]
    assert (ev.kind, away) == ("FOMC", 6)
    assert make(tmp_path, cals, cover=False).next_event(IWM, at(2026, 3, 10)) is None


# ---------------------------------------------------------------------------- config


def test_config_errors_name_the_key(tmp_path: Path) -> None:
    write_csv(tmp_path / "macro.csv", COVER)
    write_csv(tmp_path / "earnings.csv", [])
    ctx = {"context": {"base_dir": tmp_path}}
    with pytest.raises(ValidationError) as err:
        EventsConfig.model_validate({**BASE, "macro_file": "nope.csv"}, **ctx)
    assert err.value.errors()[0]["loc"] == ("macro_file",)
    assert "does not exist" in str(err.value)
    with pytest.raises(ValidationError, match="is not a file"):
        EventsConfig.model_validate({**BASE, "earnings_file": "."}, **ctx)
    bad: list[dict[str, Any]] = [
        {"reduce_fraction": 1.0},
        {"reduce_fraction": 0.0},
        {"macro_buffer_days": -1},
        {"entry_rule": "skip"},
        {"position_rule": "roll"},
        {"macro_kinds": ["CPI", "BOC"]},
        {"macro_kinds": ["CPI", "CPI"]},
        {"macro_kinds": []},
        {"extra": 1},
    ]
    for override in bad:
        with pytest.raises(ValidationError):
            EventsConfig.model_validate({**BASE, **override}, **ctx)
    for key in BASE:
        with pytest.raises(ValidationError, match="Field required"):
            EventsConfig.model_validate({k: v for k, v in BASE.items() if k != key}, **ctx)
    (tmp_path / "macro.csv").write_text("date,time,kind,symbol\n2026-13-01,08:30,CPI,*\n")
    with pytest.raises(ValidationError, match=r"macro\.csv:2: "):
        EventsConfig.model_validate(BASE, **ctx)


def test_snippet_validates_against_the_shipped_files() -> None:
    with (ROOT / "config" / "seeker.toml").open("rb") as fh:
        data = tomllib.load(fh)
    cfg = EventsConfig.model_validate(data["events"], context={"base_dir": ROOT / "config"})
    assert cfg.macro_file == ROOT / "config" / "events" / "macro.csv"
    assert (cfg.macro_buffer_days, cfg.earnings_buffer_days) == (1, 3)


# ---------------------------------------------------------------------------- shipped files


@pytest.fixture(scope="module")
def shipped(cals: MarketCalendars) -> EventRisk:
    with (ROOT / "config" / "seeker.toml").open("rb") as fh:
        data = tomllib.load(fh)["events"]
    cfg = EventsConfig.model_validate(data, context={"base_dir": ROOT / "config"})
    return EventRisk(cfg, cfg.load_calendar(), cals)


def test_shipped_files_parse(shipped: EventRisk) -> None:
    events = shipped.calendar.events
    in_2026 = [e for e in events if e.day.year == 2026 and e.symbol == "*"]
    assert {k: sum(e.kind == k for e in in_2026) for k in ("CPI", "NFP", "FOMC")} == {
        "CPI": 12,
        "NFP": 12,
        "FOMC": 8,
    }
    assert shipped.calendar.of("CPI")[1].at == datetime(2026, 2, 13, 8, 30, tzinfo=MARKET_TZ)
    assert {e.symbol for e in events if e.kind == "EARNINGS"} == {
        "BAC",
        "ENB",
        "F",
        "INTC",
        "PFE",
        "SOFI",
        "TD",
    }


def test_shipped_files_cover_45_dte_trades_opened_in_2026(
    shipped: EventRisk, cals: MarketCalendars
) -> None:
    stocks = [TD, TD_TO, BAC]
    for day in cals.sessions("XNYS", date(2026, 1, 2), date(2026, 12, 31)):
        now = at(day.year, day.month, day.day)
        for listing in (IWM, *stocks):
            v = shipped.entry_verdict(listing, now, day + timedelta(days=45))
            assert v.details["uncovered"] == [], (day, listing.listing_id, v.reason)


def test_shipped_files_refuse_a_trade_past_the_last_fomc(shipped: EventRisk) -> None:
    v = shipped.entry_verdict(IWM, at(2027, 11, 1), date(2027, 12, 17))
    assert not v.allowed
    assert "last FOMC listed 2027-12-08" in v.reason
    assert "does not cover the trade" in v.reason
    assert "FOMC" in v.details["uncovered"]


def test_shipped_nfp_on_good_friday(shipped: EventRisk) -> None:
    v = shipped.entry_verdict(IWM, at(2026, 4, 2), date(2026, 5, 15))
    assert not v.allowed and v.reason == "NFP on 2026-04-03 is J-1 (buffer 1 session)"


_minutes = st.integers(min_value=0, max_value=60 * 24 * 60)
_T0 = datetime(2026, 1, 2, 8, 30, tzinfo=MARKET_TZ)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["CPI", "FOMC", "NFP"]), _minutes), unique=True, max_size=25
    ),
    _minutes,
)
def test_upcoming_is_every_event_strictly_after_now(
    rows: list[tuple[str, int]], now_minutes: int
) -> None:
    """The bisected lookup returns exactly the events a full scan keeps, oldest first."""
    events = [Event(kind, _T0 + timedelta(minutes=m), "*") for kind, m in rows]
    calendar = EventCalendar(events)
    now = _T0 + timedelta(minutes=now_minutes)
    for kind in ("CPI", "FOMC", "NFP", "EARNINGS"):
        want = tuple(sorted((e for e in events if e.kind == kind and e.at > now), key=_at))
        assert calendar.upcoming(kind, "*", now) == want


def _at(e: Event) -> datetime:
    return e.at


def test_event_day_and_texts_follow_its_time() -> None:
    e = Event("CPI", datetime(2026, 3, 11, 23, 30, tzinfo=UTC), "*")  # 19:30 in New York
    assert (e.day, e.iso_day) == (date(2026, 3, 11), "2026-03-11")
    later = replace(e, at=datetime(2026, 3, 12, 5, 0, tzinfo=UTC))  # 01:00 in New York
    assert (later.day, later.as_dict()["at"]) == (date(2026, 3, 12), "2026-03-12T05:00:00+00:00")
    assert e == Event("CPI", e.at, "*") and hash(e) == hash(Event("CPI", e.at, "*"))


def test_a_new_config_changes_the_buffers(tmp_path: Path, cals: MarketCalendars) -> None:
    er = make(tmp_path, cals, earnings=[("2026-10-14", "07:00", "EARNINGS", "TD")])
    now = at(2026, 10, 8)  # TD earnings are J-4 on XNYS
    assert er.entry_verdict(TD, now, EXPIRY).allowed  # buffer 3
    er.cfg = er.cfg.model_copy(update={"earnings_buffer_days": 4})
    assert not er.entry_verdict(TD, now, EXPIRY).allowed


def test_sessions_away_is_counted_from_each_today(tmp_path: Path, cals: MarketCalendars) -> None:
    er = make(tmp_path, cals)
    fomc = date(2026, 3, 18)
    assert er.sessions_away("XNYS", date(2026, 3, 16), fomc) == 2
    assert er.sessions_away("XNYS", date(2026, 3, 17), fomc) == 1
    assert er.sessions_away("XNYS", date(2026, 3, 16), fomc) == 2
    assert er.sessions_away("XTSE", date(2026, 3, 16), fomc) == 2
