"""The account's limits as a state machine: drawdown on equity from its peak, daily loss from the
session's first mark, the errors failsafe, a person's holds, and the state across restarts."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from seeker.agents.account import (
    ALL,
    AccountFigures,
    AccountLimits,
    Hold,
    LimitsConfig,
    load_state,
    save_state,
)
from seeker.core.calendar import MARKET_TZ

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=MARKET_TZ)

BASE: dict[str, Any] = {
    "capital_basis": "lower_of_capital_and_equity",
    "funding": "cash",
    "daily_loss_pct": 5.0,
    "daily_loss_action": "stop_entries",
    "max_drawdown_pct": 20.0,
    "max_drawdown_action": "flatten",
    "max_errors": 3,
    "error_window_minutes": 60.0,
}


def config(**changes: Any) -> LimitsConfig:
    return LimitsConfig.model_validate({**BASE, **changes})


def marks(equity: float, ts: datetime = T0, cash: float | None = None) -> AccountFigures:
    """Return figures whose equity at mid is `equity` (all of it cash unless told)."""
    c = equity if cash is None else cash
    return AccountFigures(ts, "USD", {"USD": c}, c, equity - c, equity - c - 1.0, 0.0, 0)


def test_every_key_is_required_and_checked() -> None:
    for key in BASE:
        with pytest.raises(ValidationError, match=key):
            LimitsConfig.model_validate({k: v for k, v in BASE.items() if k != key})
    for key, bad in [
        ("capital_basis", "equity"),
        ("daily_loss_action", "close"),
        ("max_drawdown_pct", 0.0),
        ("max_drawdown_pct", 101.0),
        ("max_errors", 0),
        ("error_window_minutes", float("inf")),
    ]:
        with pytest.raises(ValidationError, match=key):
            config(**{key: bad})


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(min_value=100.0, max_value=2000.0), min_size=1, max_size=40),
    st.floats(min_value=1.0, max_value=60.0),
)
def test_drawdown_trips_once_at_the_first_mark_that_far_below_the_running_peak(
    path: list[float], pct: float
) -> None:
    limits = AccountLimits(config(max_drawdown_pct=pct, daily_loss_pct=100.0))
    peak = 0.0
    expected: int | None = None
    for i, equity in enumerate(path):
        peak = max(peak, equity)
        if expected is None and peak - equity >= peak * pct / 100.0:
            expected = i
    trips = []
    for i, equity in enumerate(path):
        for e in limits.assess(marks(equity, T0 + timedelta(minutes=i))):
            trips.append((i, e))
    if expected is None:
        assert trips == [] and limits.tripped() is None
        return
    assert [i for i, _ in trips] == [expected]
    (_, event) = trips[0]
    assert event.change == "trip" and event.limit == "drawdown" and event.action == "flatten"
    assert event.figures["equity"] == round(path[expected], 2)
    assert event.figures["peak"] == round(max(path[: expected + 1]), 2)
    assert event.figures["drawdown_pct"] >= round(pct, 2) - 0.01
    assert limits.tripped() is not None and limits.flatten_reason("any") is not None


def test_the_drawdown_is_measured_on_equity_not_on_closed_trades() -> None:
    # freqtrade #8373/#11726: a limit on closed-trade profit fires early or late; ours reads the
    # marked equity, whatever is realised: 1000 → 820 unrealised is 18 %, no trip at 20 %
    limits = AccountLimits(config(daily_loss_pct=100.0))
    limits.assess(marks(1000.0))
    assert limits.assess(marks(820.0, cash=1100.0)) == []
    [trip] = limits.assess(marks(800.0, cash=1100.0))
    assert trip.figures["equity"] == 800.0 and trip.figures["cash"] == 1100.0


def test_daily_loss_measures_from_the_session_open_and_resets_next_session() -> None:
    limits = AccountLimits(config(max_drawdown_pct=90.0))
    assert limits.new_session(date(2026, 3, 2), marks(1000.0), 1000.0) == []
    assert limits.assess(marks(960.0)) == []
    [trip] = limits.assess(marks(950.0))
    assert (trip.limit, trip.action, trip.figures["day_pnl"]) == ("daily_loss", "stop_entries", -50)
    assert limits.assess(marks(900.0)) == []  # trips once
    assert limits.flatten_reason("x") is None and limits.tripped() is not None
    [reset] = limits.new_session(date(2026, 3, 3), marks(900.0), 1000.0)
    assert (reset.change, reset.limit, reset.by) == ("reset", "daily_loss", "session_open")
    assert limits.tripped() is None and limits.state.session_open == 900.0


def test_the_capital_basis_is_the_lower_of_capital_and_the_session_equity() -> None:
    lower = AccountLimits(config())
    lower.new_session(date(2026, 3, 2), marks(870.0), 1000.0)
    assert lower.state.basis == 870.0
    lower.new_session(date(2026, 3, 3), marks(1200.0), 1000.0)
    assert lower.state.basis == 1000.0
    fixed = AccountLimits(config(capital_basis="capital"))
    fixed.new_session(date(2026, 3, 2), marks(500.0), 1000.0)
    assert fixed.state.basis == 1000.0


def test_resume_resets_every_trip_and_measures_from_the_equity_then() -> None:
    limits = AccountLimits(config())
    limits.new_session(date(2026, 3, 2), marks(1000.0), 1000.0)
    limits.assess(marks(1000.0))
    tripped = limits.assess(marks(790.0))
    assert {e.limit for e in tripped} == {"daily_loss", "drawdown"}
    resets = limits.resume([], ["a", "b"], "alice", marks(790.0))
    assert {(e.change, e.limit, e.by) for e in resets} == {
        ("reset", "daily_loss", "alice"),
        ("reset", "drawdown", "alice"),
    }
    assert limits.tripped() is None and limits.state.peak == 790.0
    assert limits.assess(marks(790.0)) == []  # the accepted loss does not trip again
    assert [e.limit for e in limits.assess(marks(632.0))] == ["daily_loss", "drawdown"]


def test_resuming_named_strategies_keeps_the_account_tripped() -> None:
    limits = AccountLimits(config())
    limits.assess(marks(1000.0))
    limits.assess(marks(700.0))
    assert limits.resume(["a"], ["a", "b"], "alice", marks(700.0)) == []
    assert limits.tripped() is not None


def test_errors_trip_at_n_within_the_window_only() -> None:
    limits = AccountLimits(config(max_errors=3, error_window_minutes=60.0))
    assert limits.note_error(T0, "e1", None) == []
    assert limits.note_error(T0 + timedelta(minutes=50), "e2", None) == []
    assert limits.note_error(T0 + timedelta(minutes=70), "e3", None) == []  # e1 left the window
    [trip] = limits.note_error(T0 + timedelta(minutes=80), "order S7 rejected", marks(990.0))
    assert trip.limit == "errors" and trip.action == "stop_entries"
    assert "3 rejections or strategy errors within 60 min" in trip.reason
    assert "order S7 rejected" in trip.reason and trip.figures["equity"] == 990.0
    assert limits.note_error(T0 + timedelta(minutes=81), "e5", None) == []


def test_pauses_and_flattens_hold_until_resumed() -> None:
    limits = AccountLimits(config())
    hold = Hold("alice", T0.isoformat(), "lunch")
    assert limits.pause([], hold) == [ALL]
    assert limits.held("a") is not None and limits.held("a") == limits.held("b")
    assert "paused by alice" in (limits.held("a") or "") and "lunch" in (limits.held("a") or "")
    limits.resume(["a"], ["a", "b", "c"], "alice", None)
    assert limits.held("a") is None and limits.held("b") and limits.held("c")
    assert limits.flatten("b", hold) == "b"
    assert limits.flatten_reason("b") and limits.flatten_reason("c") is None
    assert (limits.held("b") or "").startswith("flatten by alice")
    limits.resume([], ["a", "b", "c"], "bob", None)
    assert not limits.state.paused and not limits.state.flatten
    assert limits.held("b") is None and limits.flatten_reason("b") is None


def test_a_shadow_strategy_is_flattened_by_a_person_not_by_a_limit() -> None:
    limits = AccountLimits(config())
    limits.assess(marks(1000.0))
    limits.assess(marks(700.0))
    assert limits.flatten_reason("s", trips=False) is None
    limits.flatten(None, Hold("alice", T0.isoformat(), ""))
    assert limits.flatten_reason("s", trips=False) == "flatten by alice"


def test_the_state_survives_a_restart_written_then_renamed(tmp_path: Path) -> None:
    path = tmp_path / "_seeker" / "account_state.json"
    assert load_state(path) is None
    limits = AccountLimits(config())
    limits.new_session(date(2026, 3, 2), marks(1000.0), 1000.0)
    limits.assess(marks(700.0))
    limits.pause(["a"], Hold("alice", T0.isoformat(), "why"))
    save_state(path, limits.state)
    assert [p.name for p in path.parent.iterdir()] == ["account_state.json"]
    again = AccountLimits(config(), load_state(path))
    assert again.state == limits.state
    assert again.tripped() == limits.tripped() and again.held("a") == limits.held("a")
    path.write_text(json.dumps({"version": 99}))
    with pytest.raises(ValueError, match="unsupported account state"):
        load_state(path)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="unreadable"):
        load_state(path)
