"""End-to-end runs on the real simulated market: trades, refusals, caps at every fill, restarts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from seeker.core.journal import read_events
from seeker.engine.reconcile import mismatches
from seeker.reports.audit import cap_violations
from tests.support import ROOT, seeker, shipped, small, write_config


@pytest.fixture(scope="module")
def sixty_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run `seeker run iron_condor --days 60` on the shipped config once for this module."""
    logs = tmp_path_factory.mktemp("ic60") / "logs"
    res = seeker("run", "iron_condor", "--days", "60", "--log-dir", str(logs), cwd=ROOT)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "stopped (end of the --days run)" in res.stdout
    return logs


def test_sixty_sessions_leave_filled_opens_closes_and_refusals(sixty_days: Path) -> None:
    folder = sixty_days / "iron_condor"
    fills = read_events(folder, ["FILL"])
    intents = Counter(f["intent"] for f in fills)
    assert intents["open"] >= 5 and intents["close"] >= 3, intents
    orders = read_events(folder, ["ORDER"])
    assert all(
        o["order_ref"] == f"seeker:iron_condor:{o['position_id']}:{o['intent']}" for o in orders
    )
    assert all(o["max_loss"] > 0 and o["risk"] > 0 for o in orders)
    decisions = read_events(folder, ["DECISION"])
    refusals = [d for d in decisions if d["outcome"] == "no_trade"]
    assert refusals and all(d["reason"] and d["blocked_by"] for d in refusals)
    assert {"risk_guard", "liquidity"} <= {d["blocked_by"] for d in refusals}
    sent = [d for d in decisions if d["outcome"] == "order"]
    assert sent and all(d["position_id"] for d in sent)
    exits = {f.get("exit_rule") for f in fills if f["intent"] == "close"}
    assert exits & {"take_profit", "stop", "manage_dte", "red_line_delta", "touch"}


def test_summary_json_reports_the_run(sixty_days: Path) -> None:
    res = seeker("summary", "--json", "--log-dir", str(sixty_days), cwd=ROOT)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    rows = report["rows"]
    ic = next(r for r in rows if r["strategy"] == "iron_condor")
    assert ic["trades"] >= 3 and ic["wins"] + ic["losses"] == ic["trades"]
    assert ic["commissions"] > 0
    assert ic["net_pnl"] == pytest.approx(ic["gross_pnl"] - ic["commissions"], abs=0.02)
    assert ic["refusals"]
    assert report["real"]["trades"] == sum(r["trades"] for r in rows if not r["shadow"])
    assert report["real"]["violations"] == []


def test_no_cap_exceeded_at_any_fill(sixty_days: Path) -> None:
    from seeker.config.loading import load_config
    from tests.support import strategy_config_models

    caps = load_config(ROOT / "config" / "seeker.toml", strategy_config_models()).caps()
    assert cap_violations(sixty_days, caps) == []
    # the audit is not vacuous: the same journal against halved caps does show violations
    tight = type(caps)(*(v / 2 for v in caps.as_dict().values()))
    assert cap_violations(sixty_days, tight)


def test_a_second_run_resumes_the_paper_account(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, small(shipped()))
    logs = tmp_path / "logs"
    first = seeker(
        "run",
        "iron_condor",
        "--config",
        str(cfg),
        "--days",
        "6",
        "--log-dir",
        str(logs),
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    opened_before = {o["position_id"] for o in read_events(logs / "iron_condor", ["ORDER"])}
    second = seeker(
        "run",
        "iron_condor",
        "--config",
        str(cfg),
        "--days",
        "6",
        "--log-dir",
        str(logs),
        cwd=tmp_path,
    )
    assert second.returncode == 0, second.stderr
    assert "open position(s) from the journal" in second.stdout
    assert "RISK reconciliation" not in second.stdout
    first_end = first.stdout.strip().splitlines()[-1]
    second_start = second.stdout.strip().splitlines()[1]
    assert first_end[-16:-6] <= second_start[:10]  # simulated time went on, it did not restart
    orders = read_events(logs / "iron_condor", ["ORDER"])
    ids = [o["order_id"] for o in orders]
    assert len(ids) == len(set(ids)), "an order id was reused"
    assert opened_before <= {o["position_id"] for o in orders}
    from seeker.config.loading import load_config
    from seeker.engine.wiring import build_sim_services
    from tests.support import strategy_config_models

    services = build_sim_services(
        load_config(cfg, strategy_config_models()), logs, days=1, emit=lambda _m: None
    )
    assert mismatches(logs, ["iron_condor"], services.broker) == []


def test_all_five_strategies_side_by_side(tmp_path: Path) -> None:
    """The shipped five strategies, one thread each, share one Risk Guard for 90 sessions.

    On the market fitted to SPX's skew, a trend with a high IV rank and a put vertical worth 10 %
    of its risk first meet around the 72nd session: the credit spread's first trade closes then.
    The shipped drawdown limit (25 %) stops entries at the 67th session of this market, so the
    account's limits are lifted here (they are tested in tests/engine/test_account_run.py).
    """
    logs = tmp_path / "logs"
    data = shipped()
    data["limits"].update(max_drawdown_pct=100.0, daily_loss_pct=100.0)
    cfg = write_config(tmp_path, data)
    res = seeker("run", "--days", "90", "--config", str(cfg), "--log-dir", str(logs), cwd=ROOT)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    names = ["broken_wing_butterfly", "credit_spread", "diagonal", "iron_condor", "iron_fly"]
    report = json.loads(
        seeker("summary", "--json", "--config", str(cfg), "--log-dir", str(logs), cwd=ROOT).stdout
    )
    rows = {r["strategy"]: r for r in report["rows"]}
    assert sorted(rows) == names
    for name in names:
        assert rows[name]["trades"] >= 1, (name, rows[name])  # opened and closed
    assert report["real"]["violations"] == []
    crossed = {r["strategy_regime"].split(" · ")[0] for r in report["real"]["by_strategy_regime"]}
    assert crossed == set(names)
    from seeker.config.loading import load_config
    from tests.support import strategy_config_models

    caps = load_config(ROOT / "config" / "seeker.toml", strategy_config_models()).caps()
    assert cap_violations(logs, caps) == []
    listing = seeker("list", cwd=ROOT)
    assert all(name in listing.stdout for name in names)
