"""The dashboard's header with the account: equity, today's P&L, the distance to each limit,
what holds entries — at 80×24 and at any size."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from seeker.engine.account_view import AccountView
from tests.ui.test_dashboard import CALM, frame, position, snapshot


def account(**kw: Any) -> AccountView:
    fields: dict[str, Any] = {
        "currency": "USD",
        "equity": 870.0,
        "equity_natural": 843.0,
        "day_pnl": -12.3,
        "daily_limit": 44.1,
        "daily_room": 31.8,
        "drawdown": 130.0,
        "drawdown_pct": 13.0,
        "drawdown_limit": 200.0,
        "drawdown_room": 70.0,
        "daily_loss_pct": 5.0,
        "max_drawdown_pct": 20.0,
        "tripped": (),
        "paused": (),
        "flatten": (),
        "problem": None,
    }
    fields.update(kw)
    return AccountView(**fields)


def test_80x24_header_shows_equity_today_and_the_room_to_each_limit() -> None:
    snap = snapshot([("iron_condor", position("ic-20260107-001", "SLV", 31, CALM))])
    lines = frame(snapshot(list(snap.positions), account=account()), 80, 24).splitlines()
    assert len(lines) == 24 and max(len(x) for x in lines) <= 80
    head = "\n".join(lines[:4])
    assert "equity 870.00 USD today -12.30" in head
    assert "risk " in head and "90.40 / 250.00 USD (36 %)" in head
    assert "to the limits: daily loss 31.80 · drawdown 70.00 · DD 13.0 % of 20 %" in head
    assert "capital 1,000.00" not in head  # the equity replaces the fixed reference capital
    assert lines[-1].startswith(" Ctrl+C stops cleanly")


def test_wide_header_names_the_natural_and_the_drawdown_share() -> None:
    text = frame(snapshot([], account=account()), 200, 40)
    assert "equity 870.00 USD (natural 843.00) · today -12.30" in text
    assert "to the limits: daily loss 31.80 · drawdown 70.00 · DD 13.0 % of 20 %" in text


def test_a_tripped_limit_a_pause_and_a_flatten_show() -> None:
    view = account(
        drawdown_room=0.0, tripped=("drawdown",), paused=("credit_spread",), flatten=("*",)
    )
    text = frame(snapshot([], account=view), 80, 24)
    assert "DD TRIPPED" in text and "flatten *" in text and "paused credit_spread" in text


def test_an_unknown_equity_says_why() -> None:
    text = frame(snapshot([], account=account(equity=None, problem="cannot mark XLF")), 80, 24)
    assert "equity unknown (cannot mark XLF)" in text


@settings(max_examples=30, deadline=None)
@given(width=st.integers(60, 200), height=st.integers(10, 60), n=st.integers(0, 20))
def test_every_frame_keeps_the_equity_and_the_footer(width: int, height: int, n: int) -> None:
    many = [
        ("iron_condor", position(f"ic-202601{i:02d}-001", f"U{i}", 31 - i, CALM)) for i in range(n)
    ]
    text = frame(snapshot(many, account=account()), width, height)
    lines = text.splitlines()
    assert len(lines) == height and max(len(x) for x in lines) <= width
    assert re.search(r"equity 870\.00 USD", text) and lines[-1].lstrip().startswith("Ctrl+C")


def test_account_lines_read_as_sentences_in_the_journal_views() -> None:
    from seeker.ui.lines import describe

    equity = {
        "event": "EQUITY",
        "equity": 870.0,
        "equity_natural": 843.0,
        "cash": 1097.0,
        "currency": "USD",
        "day_pnl": -3.2,
        "drawdown_pct": 13.0,
        "peak": 1000.0,
        "tripped": ["drawdown"],
    }
    assert describe(equity)[0] == (
        "equity 870.00 USD (natural 843.00), cash 1,097.00, today -3.20, drawdown 13.0 % "
        "from 1,000.00; tripped: drawdown"
    )
    assert describe({"event": "EQUITY", "equity": None, "problem": "no quote"}) == (
        "equity unknown: no quote",
        "bold red",
    )
    trip = {"event": "LIMIT", "change": "trip", "limit": "drawdown", "action": "flatten"}
    assert describe(trip | {"reason": "equity 700 …"})[0] == (
        "drawdown TRIPPED (flatten): equity 700 …"
    )
    reset = {"event": "LIMIT", "change": "reset", "limit": "drawdown", "by": "alice"}
    assert describe(reset | {"reason": "resumed by alice"})[0].startswith("drawdown reset by alice")
    close = {"event": "CONTROL", "command": "close", "user": "bob", "ok": False}
    line = close | {"args": {"position_id": "x", "reason": ""}, "error": "no open position 'x'"}
    assert describe(line)[0] == "close (position_id=x) by bob: refused: no open position 'x'"
