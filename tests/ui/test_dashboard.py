"""The live dashboard, rendered through rich's recording console: what a person would read."""

from __future__ import annotations

import io
import re
from collections import deque
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from seeker.agents.confidence import Confidence
from seeker.config.loading import load_config
from seeker.engine.published import PublishedPosition
from seeker.engine.runner import run_strategies
from seeker.engine.wiring import build_sim_services
from seeker.ui.cards import short_label
from seeker.ui.dashboard import Dashboard, dashboard_enabled, render
from seeker.ui.snapshot import Snapshot, StrategyRow, TailKeeper
from tests.support import shipped, small, strategy_config_models, write_config

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 1, 20, 10, 4, tzinfo=NY)


def position(pid: str, listing: str, dte: int | None, conf: Confidence | None, **kw: Any) -> Any:
    fields: dict[str, Any] = {
        "position_id": pid,
        "listing_id": listing,
        "kind": "iron_condor",
        "label": f"IC {listing} 2026-02-20 27.5/28P 39.5/40C",
        "qty": 1,
        "currency": "USD",
        "sector": "materials",
        "cluster": "GDX/2",
        "entry_price": -0.10,
        "opened_at": NOW,
        "expiry": date(2026, 2, 20),
        "dte": dte,
        "spot": 33.2,
        "pnl_unit": 0.03,
        "pnl": 3.0,
        "max_loss": 45.2,
        "regime": "no trend, range, IVR 54 high, backwardation, skew marked",
        "iv_rank": 54.0,
        "width": 0.5,
        "manage_dte": 21,
        "confidence": conf,
    }
    fields.update(kw)
    return PublishedPosition(**fields)


def snapshot(positions: list[tuple[str, Any]], **kw: Any) -> Snapshot:
    fields: dict[str, Any] = {
        "broker": "sim",
        "connection": "connected",
        "market_data": "simulated",
        "clock": NOW,
        "simulated": True,
        "session": "RTH open until 16:00",
        "capital": 1000.0,
        "capital_currency": "USD",
        "committed": 90.4,
        "budget": 250.0,
        "shadow_committed": 0.0,
        "by_currency": {"USD": 70.4, "CAD": 20.0},
        "strategies": (
            StrategyRow("credit_spread", "error", False, None, 0, None, None, "boom: no chain"),
            StrategyRow("iron_condor", "running", False, NOW, len(positions), 3, 1, None),
        ),
        "positions": tuple(positions),
        "tail": (
            (
                "iron_condor",
                {
                    "event": "DECISION",
                    "ts": "2026-01-20T10:00:00-05:00",
                    "underlying": "IWM",
                    "outcome": "no_trade",
                    "blocked_by": "risk_guard",
                    "reason": "sector cap: 100.00 $ used",
                },
            ),
            (
                "iron_condor",
                {
                    "event": "FILL",
                    "ts": "2026-01-20T10:02:00-05:00",
                    "order_id": "ic-20260120-001.1",
                    "intent": "open",
                    "qty": 1,
                    "fill_price": -0.11,
                    "commission": 2.6,
                    "currency": "USD",
                },
            ),
        ),
        "messages": ("01-20 10:02  iron_condor: opened ic-20260120-001 x1 at -0.11",),
    }
    fields.update(kw)
    return Snapshot(**fields)


def frame(snap: Snapshot, width: int = 160, height: int = 50) -> str:
    console = Console(record=True, width=width, height=height, file=io.StringIO())
    console.print(render(snap, width, height))
    return console.export_text()


CALM = Confidence(71.0, {}, ["45 DTE", "Δ 0.15", "IVR 52"], ["TP -30%", "NFP J-3"])
WORRIED = Confidence(35.0, {}, [], ["Δ 0.28", "18 DTE"])


def test_header_cards_gauges_dte_bars_badges_and_tail() -> None:
    text = frame(
        snapshot(
            [
                ("iron_condor", position("ic-20260107-001", "SLV", 31, CALM)),
                ("iron_condor", position("ic-20260109-001", "INTC", 18, WORRIED, pnl=-12.0)),
            ]
        )
    )
    # header: broker and connection, clock and session, capital, risk vs budget, currencies
    assert "broker sim connected (simulated data)" in text
    assert "Tue 2026-01-20 10:04 ET (simulated clock)" in text and "RTH open until 16:00" in text
    assert "capital 1,000.00 USD" in text and "90.40 / 250.00 USD (36 %)" in text
    assert "exposure by currency (USD): CAD 20.00 · USD 70.40" in text
    # one card per position: symbol · strategy, facts, P&L
    assert "SLV · iron_condor" in text and "INTC · iron_condor" in text
    assert "DTE 31 · width 0.50 · credit 0.10 · IVR 54 · USD · materials" in text
    assert "regime: no trend, range, IVR 54 high" in text
    assert "P&L +3.00 USD" in text and "P&L -12.00 USD" in text
    # confidence gauges: 71 → 14 of 20 cells, 35 → 7 of 20
    assert "confidence " + "█" * 14 + "░" * 6 + " 71/100" in text
    assert "confidence " + "█" * 7 + "░" * 13 + " 35/100" in text
    # badges: reassuring ✓, worrying ✗
    assert "✓ 45 DTE  ✓ Δ 0.15  ✓ IVR 52" in text and "✗ TP -30%  ✗ NFP J-3" in text
    assert "✗ Δ 0.28  ✗ 18 DTE" in text
    # DTE bars 45 → 21 → 0: 24 cells, ┃ at 21 DTE (cell 13); 31 DTE → 7 cells elapsed
    assert "DTE 45 " + "█" * 7 + "░" * 6 + "┃" + "░" * 10 + " 0  31 DTE" in text
    assert "DTE 45 " + "█" * 13 + "┃" + "░" * 10 + " 0  18 DTE" in text
    assert "next: manage at 21 DTE in 10 d (2026-01-30)" in text
    assert "next: ≤ 21 DTE — manage now (close or roll)" in text
    # strategies' states, with the error
    assert "iron_condor" in text and "running" in text and "2/3" in text
    assert "credit_spread" in text and "error" in text and "boom: no chain" in text
    # the decision tail: refusals with blocked_by and reason, fills with costs
    assert (
        "01-20 10:00  iron_condor  DECISION IWM no_trade [risk_guard] sector cap: 100.00 $" in text
    )
    assert "FILL     ic-20260120-001.1 open ×1 at -0.11, commission 2.60 USD" in text
    assert "Ctrl+C stops cleanly" in text and "opened ic-20260120-001" in text


def test_unpriced_positions_as_cards_then_as_rows() -> None:
    unpriced = [
        ("iron_condor", position(f"ic-2026010{i}-001", f"U{i}", None, None, pnl=None))
        for i in range(9)
    ]
    text = frame(snapshot(unpriced[:2]))
    assert "P&L ? (not priced yet)" in text
    assert "not scored yet" in text
    # DTE from the clock when no poll priced it yet: 2026-01-20 → 2026-02-20 = 31 days
    assert "0  31 DTE" in text
    # 160×50 holds 2 columns × 3 rows of cards; 9 positions are one line each, none hidden
    text = frame(snapshot(unpriced))
    assert "open positions (9)" in text and "more open position" not in text
    for i in range(9):
        row = next(x for x in text.splitlines() if f"ic-2026010{i}-001  " in x)
        assert f"IC U{i} 02-20 27.5/28P 39.5/40C  iron_condor   31    ?     45.20" in row
        assert "░░░░░  ?  01-30" in row  # not scored yet; managed at 21 DTE on 01-30
    assert "· iron_condor" not in text  # no card


def test_80x24_keeps_capital_risk_positions_strategies_tail_and_footer() -> None:
    positions = [
        ("iron_condor", position("ic-20260107-001", "SLV", 31, CALM)),
        ("iron_condor", position("ic-20260109-001", "INTC", 18, WORRIED, pnl=-12.0)),
        ("iron_fly", position("if-20260110-001", "PFE", 40, None, pnl=None)),
    ]
    lines = frame(snapshot(positions), 80, 24).splitlines()
    assert len(lines) == 24 and max(len(x) for x in lines) <= 80
    head = "\n".join(lines[:3])
    assert "Tue 2026-01-20 10:04 ET" in head and "RTH open until 16:00" in head
    assert "capital 1,000.00 USD" in head and "90.40 / 250.00 USD (36 %)" in head
    assert "CAD 20.00 · USD 70.40" in head
    rows = {x.split()[1]: x for x in lines if re.match(r"(IC|IF) \w+ 02-20 ", x)}
    assert set(rows) == {"SLV", "INTC", "PFE"}
    assert re.search(r"40C\s+31\s+\+3\.00\s+████░ 71\s+01-30\s+✗ TP -30%", rows["SLV"])
    assert re.search(r"40C\s+18\s+-12\.00\s+██░░░ 35\s+now\s+✗ Δ 0\.28  ✗ 18 …", rows["INTC"])
    assert re.search(r"40C\s+40\s+\?\s+░░░░░\s+\?\s+01-30\s+-", rows["PFE"])
    assert any(x.startswith("cs credit_spread error") for x in lines)
    assert any("↳ boom: no chain" in x for x in lines)
    assert "01-20 10:00  ic  DECISION IWM no_trade [risk_guard] sector cap" in "\n".join(lines)
    assert lines[-1].startswith(" Ctrl+C stops cleanly") and "opened ic-20260120-001" in lines[-1]
    assert "more open position" not in "\n".join(lines)


def test_positions_are_hidden_only_when_one_line_each_does_not_fit() -> None:
    for n in range(0, 31):
        many = [
            ("iron_condor", position(f"ic-202601{i:02d}-001", f"U{i}", 31, CALM)) for i in range(n)
        ]
        text = frame(snapshot(many), 80, 24)
        lines = text.splitlines()
        shown = sum(1 for x in lines if re.match(r"IC U\d+ 02-20", x))
        found = re.search(r"\+(\d+) more open positions? not shown", text)
        hidden = int(found.group(1)) if found else 0
        assert shown + hidden == n, n
        assert "capital 1,000.00 USD" in text and lines[-1].startswith(" Ctrl+C")
        if n <= 15:  # 3 header lines, a line per position, the strategies, 2 tail lines
            assert hidden == 0 and "decision journal" in text, n
        if hidden:
            assert shown >= 15 and "decision journal" not in text, n


@settings(max_examples=40, deadline=None)
@given(width=st.integers(60, 200), height=st.integers(10, 60), n=st.integers(0, 25))
def test_every_frame_fills_the_terminal_and_accounts_for_every_position(
    width: int, height: int, n: int
) -> None:
    many = [
        ("iron_condor", position(f"ic-202601{i:02d}-001", f"U{i}", 31 - i, CALM)) for i in range(n)
    ]
    text = frame(snapshot(many), width, height)
    lines = text.splitlines()
    assert len(lines) == height and max(len(x) for x in lines) <= width
    assert "capital 1,000.00 USD" in text and lines[-1].lstrip().startswith("Ctrl+C stops")
    cards = sum(x.count("· iron_condor") for x in lines)
    rows = sum(1 for x in lines if re.search(r"IC U\d+ 02-20", x))
    found = re.search(r"\+(\d+) more open positions? not shown", text)
    assert (cards if cards else rows + (int(found.group(1)) if found else 0)) == n
    if cards:
        assert rows == 0 and found is None


def test_120x35_shows_cards_when_they_fit_and_lines_otherwise() -> None:
    few = [("iron_condor", position(f"ic-2026010{i}-001", f"U{i}", 31, CALM)) for i in range(4)]
    text = frame(snapshot(few), 120, 35)
    assert text.count("· iron_condor") == 4 and "more open position" not in text
    text = frame(snapshot(few + few[:1]), 120, 35)
    assert "open positions (5)" in text and "· iron_condor" not in text
    assert text.count("IC U") == 5 and "more open position" not in text


def test_a_calendar_card_has_no_width() -> None:
    cal = position(
        "dg-20260105-001",
        "F",
        25,
        CALM,
        kind="calendar",
        width=0.0,
        label="CAL F 2026-01-30/2026-03-20 11.5P",
    )
    text = frame(snapshot([("diagonal", cal)]))
    assert "CAL F 2026-01-30/2026-03-20 11.5P ×1" in text
    facts = next(x for x in text.splitlines() if "DTE 25 ·" in x)
    assert "DTE 25 · credit 0.10 · IVR 54" in facts and "width" not in facts


def test_empty_run_says_so() -> None:
    text = frame(snapshot([], tail=(), by_currency={}, committed=0.0))
    assert "no open position" in text and "no decision yet" in text
    assert "0.00 / 250.00 USD (0 %)" in text and "exposure by currency (USD): none" in text


def test_tail_keeper_takes_only_new_lines_worth_showing() -> None:
    recent: deque[tuple[str, dict[str, Any]]] = deque(maxlen=5)
    keeper = TailKeeper()
    recent.append(("ic", {"event": "DECISION", "n": 1}))
    recent.append(("ic", {"event": "CONFIDENCE", "n": 2}))
    keeper.consume(recent)
    recent.append(("ic", {"event": "ORDER_STATUS", "status": "modified", "n": 3}))
    recent.append(("ic", {"event": "FILL", "n": 4}))
    keeper.consume(recent)
    keeper.consume(recent)
    for n in range(5, 12):  # more than the deque holds between two looks
        recent.append(("ic", {"event": "RISK", "n": n}))
    keeper.consume(recent)
    assert [line["n"] for _, line in keeper.lines] == [1, 4, 7, 8, 9, 10, 11]


def test_refusals_of_one_scan_are_merged_in_the_tail() -> None:
    def refusal(underlying: str, by: str = "regime", ts: str = "2026-01-20T10:00:00-05:00") -> Any:
        return {
            "event": "DECISION",
            "ts": ts,
            "underlying": underlying,
            "outcome": "no_trade",
            "blocked_by": by,
            "reason": f"{underlying}: IVR low",
        }

    fill = {"event": "FILL", "ts": "2026-01-20T10:02:00-05:00", "order_id": "ic-1.1"}
    tail = (
        *(("iron_condor", refusal(u)) for u in ("BAC", "F", "PFE")),
        ("iron_condor", refusal("XLF", by="liquidity")),
        ("iron_condor", fill),
        ("iron_condor", refusal("TD", ts="2026-01-20T10:30:00-05:00")),
    )
    text = frame(snapshot([], tail=tail))
    assert "DECISION 3× no_trade [regime] BAC, F, PFE" in text
    assert "DECISION XLF no_trade [liquidity] XLF: IVR low" in text
    assert "FILL     ic-1.1" in text and "DECISION TD no_trade [regime] TD: IVR low" in text


def test_dashboard_only_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert dashboard_enabled(False, Tty())
    assert not dashboard_enabled(True, Tty())
    assert not dashboard_enabled(False, io.StringIO())


def test_live_dashboard_on_a_real_run(tmp_path: Path) -> None:
    """Run the simulated market with the dashboard as on_tick; the last frame shows the cards."""
    cfg = load_config(
        write_config(tmp_path, small(shipped(), ["INTC", "SLV"])), strategy_config_models()
    )
    services = build_sim_services(cfg, tmp_path / "logs", days=7, emit=lambda _m: None)
    console = Console(record=True, width=160, height=50, file=io.StringIO())
    dash = Dashboard(services, ["iron_condor"], "Seeker test", console=console, screen=False)
    services.emit = dash.emit
    seen: list[Snapshot] = []

    def tick(manager: Any) -> None:
        dash.update(manager, force=True)
        seen.append(dash.snapshot(manager))

    try:
        with dash:
            result = run_strategies(services, ["iron_condor"], on_tick=tick)
    finally:
        services.broker.close()
        services.close_journals()
    assert result.stopped_cleanly and dash.frames >= 1
    last = seen[-1]
    assert last.positions, "no open position at the end of the run"
    text = frame(last)
    assert "iron_condor" in text and "Seeker test" in text
    for _, pos in last.positions:
        assert f"{pos.listing_id} · iron_condor" in text
        assert pos.confidence is not None
        assert f" {pos.confidence.score:.0f}/100" in text
        assert f"0  {pos.dte} DTE" in text
    assert "DTE 45 " in text and "confidence █" in text
    assert any(line.get("event") == "FILL" for _, line in last.tail)
    assert "DECISION " in text
    # the recording console got the final frame when the dashboard stopped
    assert "Seeker test" in console.export_text()
    # the same run in an 80×24 terminal: equity and risk, one line per position, the footer
    lines = frame(last, 80, 24).splitlines()
    assert len(lines) == 24 and max(len(x) for x in lines) <= 80
    assert last.account is not None and last.account.equity is not None
    equity = f"equity {last.account.equity:,.2f} USD today "
    assert any(x.startswith(equity) and "  risk " in x for x in lines[:3])
    assert any(x.startswith("to the limits: daily loss ") for x in lines[:4])
    for _, pos in last.positions:  # one line each, or a card when the frame has room for it
        card = f"{pos.listing_id} · iron_condor"
        assert any(x.startswith(short_label(pos)) or card in x for x in lines), short_label(pos)
    assert lines[-1].startswith(" Ctrl+C stops cleanly")
