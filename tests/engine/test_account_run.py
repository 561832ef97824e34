"""The account's limits on real simulated runs: a drawdown that flattens, a limit that only stops
entries while exits go on, trips that survive a restart until resumed, the caps' basis."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from seeker.config.loading import validate_config
from seeker.config.root import SeekerConfig
from seeker.core.journal import SYSTEM_FOLDER, read_events, strategy_folders
from seeker.engine.account_watch import ACCOUNT_STATE_FILE
from seeker.engine.runner import RunResult, run_strategies
from seeker.engine.wiring import build_sim_services
from seeker.reports.account import caps_in_force, commissions_paid, equity_curve, read_account
from seeker.reports.audit import cap_violations
from seeker.reports.summary import build_report
from tests.support import ROOT, shipped, strategy_config_models

NAMES = ["broken_wing_butterfly", "iron_fly"]


def config(**limits: Any) -> SeekerConfig:
    data = shipped()  # the whole universe: the butterflies find their skew
    data["limits"].update(limits)
    return validate_config(data, strategy_config_models(), ROOT / "config")


def run(cfg: SeekerConfig, logs: Path, days: int, resume: bool = False) -> RunResult:
    services = build_sim_services(cfg, logs, days=days, emit=lambda _m: None)
    try:
        if resume:
            services.account.resume([], NAMES, "tester")
        return run_strategies(services, NAMES, tick_seconds=0.05)
    finally:
        services.broker.close()
        services.close_journals()


def lines(logs: Path, event: str) -> list[dict[str, Any]]:
    out = []
    for name in [*strategy_folders(logs, shadow=False), SYSTEM_FOLDER]:
        out.extend(dict(x, folder=name) for x in read_events(logs / name, [event]))
    return sorted(out, key=lambda x: str(x["ts"]))


def ts(line: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(line["ts"]))


@pytest.fixture(scope="module")
def flattened(tmp_path_factory: pytest.TempPathFactory) -> tuple[SeekerConfig, Path]:
    """Twelve sessions with a 1 % drawdown limit whose action is flatten."""
    cfg = config(max_drawdown_pct=1.0, max_drawdown_action="flatten", daily_loss_pct=100.0)
    logs = tmp_path_factory.mktemp("flat") / "logs"
    assert run(cfg, logs, 12).stopped_cleanly
    return cfg, logs


def test_the_drawdown_trips_with_the_equity_figures_journaled(
    flattened: tuple[SeekerConfig, Path],
) -> None:
    _, logs = flattened
    [trip] = [x for x in lines(logs, "LIMIT") if x["change"] == "trip"]
    assert (trip["limit"], trip["action"], trip["by"]) == ("drawdown", "flatten", "account")
    assert trip["drawdown_pct"] >= 1.0 and trip["peak"] - trip["equity"] == pytest.approx(
        trip["drawdown"], abs=0.011
    )
    assert {"equity", "equity_natural", "cash", "session_open", "day_pnl"} <= set(trip)
    marks = [x for x in lines(logs, "EQUITY") if ts(x) <= ts(trip)]
    assert marks[-1]["equity"] == trip["equity"]  # the mark that tripped it is on the curve
    assert all(x["tripped"] == ["drawdown"] for x in lines(logs, "EQUITY") if ts(x) > ts(trip))


def test_flatten_closes_every_position_with_limit_orders_and_opens_nothing(
    flattened: tuple[SeekerConfig, Path],
) -> None:
    _, logs = flattened
    trip = next(x for x in lines(logs, "LIMIT") if x["change"] == "trip")
    orders = lines(logs, "ORDER")
    assert [o for o in orders if o["intent"] == "open" and ts(o) < ts(trip)], "nothing opened"
    assert not [o for o in orders if o["intent"] == "open" and ts(o) >= ts(trip)]
    flattening = [o for o in orders if o.get("exit_rule") == "flatten"]
    assert flattening and all(ts(o) >= ts(trip) for o in flattening)
    for o in flattening:  # limit orders on the ladder: mid first, never beyond the natural
        assert o["ladder"][0] == o["limit_price"] and o["ladder"] == sorted(o["ladder"])
        assert o["ladder"][-1] <= round(o["natural"], 2) + 0.01
    # every position is closed, and the broker holds nothing
    state = json.loads((logs / SYSTEM_FOLDER / "sim_state.json").read_text())
    assert state["positions"] == []
    stopped = [x for x in lines(logs, "RISK") if x["rule"] == "entries_stopped"]
    assert {x["folder"] for x in stopped} == set(NAMES)
    assert all("drawdown limit tripped" in x["detail"] for x in stopped)


def test_the_trip_survives_a_restart_until_resumed(
    flattened: tuple[SeekerConfig, Path], tmp_path: Path
) -> None:
    cfg, first = flattened
    logs = tmp_path / "logs"
    import shutil

    shutil.copytree(first, logs)
    saved = json.loads((logs / ACCOUNT_STATE_FILE).read_text())
    assert set(saved["state"]["trips"]) == {"drawdown"}
    before = len(lines(logs, "ORDER"))
    run(cfg, logs, 3)
    assert len(lines(logs, "ORDER")) == before  # still tripped: nothing opened, nothing to close
    opened_at = len([o for o in lines(logs, "ORDER") if o["intent"] == "open"])
    run(
        cfg.model_copy(update={"limits": cfg.limits.model_copy(update={"max_drawdown_pct": 50.0})}),
        logs,
        6,
        resume=True,
    )
    resets = [x for x in lines(logs, "LIMIT") if x["change"] == "reset"]
    assert [(x["limit"], x["by"]) for x in resets] == [("drawdown", "tester")]
    assert "equity" in resets[0] and "peak" in resets[0]
    assert len([o for o in lines(logs, "ORDER") if o["intent"] == "open"]) > opened_at
    assert json.loads((logs / ACCOUNT_STATE_FILE).read_text())["state"]["trips"] == {}


def test_stop_entries_lets_exits_keep_firing(tmp_path: Path) -> None:
    # freqtrade #4837: entries stopped by a drawdown must not stop the exits
    cfg = config(max_drawdown_pct=1.0, max_drawdown_action="stop_entries", daily_loss_pct=100.0)
    logs = tmp_path / "logs"
    assert run(cfg, logs, 25).stopped_cleanly
    trip = next(x for x in lines(logs, "LIMIT") if x["change"] == "trip")
    orders = lines(logs, "ORDER")
    assert not [o for o in orders if o["intent"] == "open" and ts(o) >= ts(trip)]
    closes = [o for o in orders if o["intent"] == "close" and ts(o) >= ts(trip)]
    assert closes and all(o["exit_rule"] != "flatten" for o in closes)


def test_the_caps_follow_the_equity_basis_and_the_audit_uses_them(tmp_path: Path) -> None:
    cfg = config(
        capital_basis="lower_of_capital_and_equity", max_drawdown_pct=50.0, daily_loss_pct=100.0
    )
    logs = tmp_path / "logs"
    assert run(cfg, logs, 15).stopped_cleanly
    marks = lines(logs, "EQUITY")
    firsts: dict[str, dict[str, Any]] = {}
    for m in marks:
        firsts.setdefault(str(m["ts"])[:10], m)
    for m in firsts.values():  # the basis is the lower of capital and the day's first equity
        assert m["basis"] == pytest.approx(min(1000.0, m["session_open"]), abs=0.01)
    assert any(m["basis"] < 1000.0 for m in marks)
    decisions = [
        d for d in lines(logs, "DECISION") for v in d["verdicts"] if v["agent"] == "risk_guard"
    ]
    for d in decisions:
        guard = next(v for v in d["verdicts"] if v["agent"] == "risk_guard")
        basis = next(m["basis"] for m in reversed(marks) if ts(m) <= ts(d))
        assert guard["details"]["caps"]["per_trade"] == pytest.approx(basis * 0.10)
    at = caps_in_force(logs, cfg.risk, cfg.caps())
    assert cap_violations(logs, at) == []


def test_the_summary_reads_the_account_once_and_agrees_with_each_reader(
    flattened: tuple[SeekerConfig, Path],
) -> None:
    """build_report reads account.jsonl once and takes the commissions from its own scan: the
    figures equal those of the readers that go to the files themselves."""
    cfg, logs = flattened
    ccy = cfg.account.capital_currency
    equity = [x for x in read_events(logs / SYSTEM_FOLDER, ["EQUITY"]) if x["equity"] is not None]
    limits = read_events(logs / SYSTEM_FOLDER, ["LIMIT"])
    assert equity and limits and commissions_paid(logs)  # not vacuous: fills, a trip
    for since in (None, ts(equity[len(equity) // 2])):
        report = build_report(logs, cfg.caps(), None, since, ccy, cfg.risk)
        account = report.account
        assert account is not None
        assert account.commissions == commissions_paid(logs, since)
        assert account.end_equity_natural == equity[-1]["equity_natural"]
        assert [x["ts"] for x in account.limits] == [
            x["ts"] for x in limits if since is None or ts(x) >= since
        ]
        curve = equity_curve(logs, since)
        assert (account.start, account.end) == (curve[0].ts, curve[-1].ts)
    assert read_account(logs).curve() == equity_curve(logs)
