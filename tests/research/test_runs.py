"""Tests for seeker.research.runs: trades booked on their opening session, JSON round trips."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from seeker.research.runs import (
    RunResult,
    TradeRecord,
    annual_sharpe,
    session_sharpe,
    trades_in,
    window_pnl,
)

D0 = date(2026, 1, 5)


def trade(i: int, opened: int, pnl: float, regime: str = "range · IVR high") -> TradeRecord:
    return TradeRecord(
        position_id=f"bw-{i}",
        underlying="SLV",
        opened=D0 + timedelta(days=opened),
        closed=D0 + timedelta(days=opened + 9),
        net_pnl=pnl,
        commissions=5.2,
        currency="USD",
        regime=regime,
        exit_rule="take_profit",
    )


def test_a_window_owns_the_trades_it_opened_whenever_they_closed() -> None:
    days = [D0 + timedelta(days=k) for k in range(3)]
    trades = [trade(1, 0, 2.0), trade(2, 0, -1.0), trade(3, 2, 5.0), trade(4, 7, 100.0)]
    assert window_pnl(trades, days).tolist() == [1.0, 0.0, 5.0]
    assert [t.position_id for t in trades_in(trades, days)] == ["bw-1", "bw-2", "bw-3"]
    only_wins = window_pnl(trades, days, keep=lambda t: t.net_pnl > 0)
    assert only_wins.tolist() == [2.0, 0.0, 5.0]


def test_a_flat_series_has_a_zero_sharpe_not_an_error() -> None:
    assert session_sharpe(np.zeros(20)) == 0.0
    assert session_sharpe(np.array([3.0])) == 0.0
    series = np.array([1.0, -1.0, 2.0, 0.0])
    per = float(np.mean(series) / np.std(series, ddof=1))
    assert session_sharpe(series) == per
    assert math.isclose(annual_sharpe(series), per * math.sqrt(252))


pnl = st.floats(-500, 500, allow_nan=False).map(lambda x: round(x, 2))


@given(st.lists(st.tuples(st.integers(0, 30), pnl), max_size=8), st.integers(0, 5))
def test_runs_survive_their_json_round_trip(rows: list[tuple[int, float]], still_open: int) -> None:
    run = RunResult(
        source="sim seed 7, 10 sessions",
        trades=tuple(trade(i, d, p) for i, (d, p) in enumerate(rows)),
        open_at_end=still_open,
        stopped_cleanly=True,
        error=None,
    )
    assert RunResult.from_json(run.to_json()) == run
