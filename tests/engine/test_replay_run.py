"""`seeker data import` then `seeker replay` on three days of the shared SPX chains: positions
open and close, every refusal has a reason, the caps hold at every fill, a second run (in another
process) writes byte-identical journals, and `summary`, `show`, `journal` read them. The first
replay runs in a subprocess, the rest of the commands in-process through the typer app."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path
from typing import Any, get_args

import pytest
from typer.testing import CliRunner, Result

from seeker.agents.risk_guard import Caps
from seeker.agents.verdict import BlockedBy
from seeker.cli.app import app
from seeker.core.journal import read_jsonl
from seeker.reports.summary import build_report
from tests.core.replay.shared_data import chain_file
from tests.core.replay.test_replay_config import replay_spx
from tests.support import seeker, write_config

DAYS = ("20190603", "20190604", "20190605")
STRATEGIES = ("credit_spread", "broken_wing_butterfly")


def cli(*args: str) -> Result:
    """Run one seeker command in-process (the typer app) and return its result."""
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Import three days, replay them twice into two log folders; return the paths and outputs."""
    tmp = tmp_path_factory.mktemp("replay")
    imported = cli(
        "data", "import", "--format", "cboe-delayed", *[str(chain_file(d)) for d in DAYS],
        str(tmp / "store"),
    )  # fmt: skip
    assert imported.exit_code == 0, imported.output
    config = write_config(tmp, replay_spx(), "replay.toml")
    first = seeker(
        "replay", "--config", str(config), "--data", str(tmp / "store"),
        "--log-dir", str(tmp / "logs"), "--no-dashboard", *STRATEGIES, cwd=tmp,
    )  # fmt: skip
    second = cli(
        "replay", "--config", str(config), "--data", str(tmp / "store"),
        "--log-dir", str(tmp / "again"), "--no-dashboard", *STRATEGIES,
    )  # fmt: skip
    return {"tmp": tmp, "config": config, "import": imported, "first": first, "second": second}


def _lines(root: Path, name: str, file: str) -> list[dict[str, Any]]:
    return list(read_jsonl(root / name / file))


def test_the_import_reports_what_it_kept(replayed: dict[str, Any]) -> None:
    out = replayed["import"].output
    assert (
        "import (cboe-delayed): 3 files" in out
        and "quote dates: 3 (2019-06-03 → 2019-06-05)" in out
    )


def test_positions_open_and_close_and_every_refusal_says_why(replayed: dict[str, Any]) -> None:
    run = replayed["first"]
    assert run.returncode == 0, run.stderr
    assert "stopped (end of the replay) at 2019-06-05 16:00" in run.stdout
    logs: Path = replayed["tmp"] / "logs"
    fills = [f for f in _lines(logs, "credit_spread", "trades.jsonl") if f["event"] == "FILL"]
    assert {f["intent"] for f in fills if f["kind"] == "combo"} == {"open", "close"}
    assert any(f["intent"] == "open" for f in _lines(logs, "broken_wing_butterfly", "trades.jsonl"))
    agents = set(get_args(BlockedBy)) | {"generator"}
    decisions = [
        d
        for s in STRATEGIES
        for d in _lines(logs, s, "decisions.jsonl")
        if d["event"] == "DECISION"
    ]
    assert decisions
    for d in decisions:
        if d["outcome"] == "no_trade":
            assert d["blocked_by"] in agents and d["reason"], d
        else:
            assert d["outcome"] == "order" and d["position_id"]
    assert all(d["market_data"] == "historical" for d in decisions)


def test_each_quote_date_is_journaled_with_its_decision_time_and_term_check(
    replayed: dict[str, Any],
) -> None:
    lines = _lines(replayed["tmp"] / "logs", "_seeker", "replay.jsonl")
    snaps = [x for x in lines if x["event"] == "SNAPSHOT"]
    assert [s["quote_date"] for s in snaps] == ["2019-06-03", "2019-06-04", "2019-06-05"]
    assert all(s["decision_time"].endswith("T15:00:00-04:00") for s in snaps)
    assert all("replay.snapshot_time 15:00" in s["rule"] for s in snaps)
    checks = [x for x in lines if x["event"] == "REGIME_CHECK"]
    assert {c["underlying"] for c in checks} <= {"SPX", "SPXW"} and checks
    for c in checks:
        assert c["index_term"] in ("contango", "backwardation", "flat")
        assert c["agree"] == (c["index_term"] == c["chain_term"])
        assert c["vix"] > 0 and c["vix_3m"] > 0


def test_the_caps_hold_at_every_fill_and_the_audit_is_not_vacuous(
    replayed: dict[str, Any],
) -> None:
    logs = replayed["tmp"] / "logs"
    summary = cli("summary", "--config", str(replayed["config"]), "--log-dir", str(logs), "--json")
    assert summary.exit_code == 0, summary.output
    data = json.loads(summary.output)
    assert data["caps"]["per_trade"] == 5000.0 and data["real"]["violations"] == []
    tight = Caps(per_trade=100.0, portfolio=150.0, sector=150.0, cluster=150.0, underlying=150.0)
    assert build_report(logs, tight).real.violations


def test_a_second_run_writes_byte_identical_journals(replayed: dict[str, Any]) -> None:
    tmp: Path = replayed["tmp"]
    assert replayed["second"].exit_code == 0, replayed["second"].output
    first = sorted(p.relative_to(tmp / "logs") for p in (tmp / "logs").rglob("*.jsonl*"))
    second = sorted(p.relative_to(tmp / "again") for p in (tmp / "again").rglob("*.jsonl*"))
    assert first == second and len(first) >= 8
    for rel in first:
        assert filecmp.cmp(tmp / "logs" / rel, tmp / "again" / rel, shallow=False), rel


def test_show_and_journal_read_the_replay(replayed: dict[str, Any]) -> None:
    tmp: Path = replayed["tmp"]
    args = ("--config", str(replayed["config"]), "--log-dir", str(tmp / "logs"))
    shown = cli("show", "cs-20190603-001", *args)
    assert shown.exit_code == 0, shown.output
    assert "cs-20190603-001" in shown.output and "SPX" in shown.output
    refused = cli("journal", *args, "--blocked-by", "liquidity", "--json")
    assert refused.exit_code == 0
    lines = refused.output.splitlines()
    assert lines and all(json.loads(x)["blocked_by"] == "liquidity" for x in lines)


def test_a_replay_that_reached_its_end_is_not_run_again(replayed: dict[str, Any]) -> None:
    tmp: Path = replayed["tmp"]
    again = cli(
        "replay", "--config", str(replayed["config"]), "--data", str(tmp / "store"),
        "--log-dir", str(tmp / "logs"), "--no-dashboard", *STRATEGIES,
    )  # fmt: skip
    assert again.exit_code == 2
    assert "already reached 2019-06-05 16:00" in again.output


def test_a_candidate_overlays_its_strategy_in_a_replay(
    replayed: dict[str, Any], tmp_path: Path
) -> None:
    """`seeker replay --candidate FILE` (what `seeker optimize --export` writes) replays the
    candidate's rules: here a regime rule that also takes a medium IV rank."""
    import tomli_w

    rule = {
        "trend": ["up", "down"],
        "structure": ["range", "breakout_up", "breakout_down", "neutral"],
        "ivr": ["high", "mid"],
        "term": ["contango", "backwardation", "flat"],
        "skew": ["marked", "normal"],
    }
    candidate = tmp_path / "credit_spread-test.toml"
    candidate.write_text(
        tomli_w.dumps(
            {
                "candidate": {"strategy": "credit_spread", "study": "test", "grade": "F"},
                "strategies": {"credit_spread": {"regime": rule}},
            }
        )
    )
    tmp, config = replayed["tmp"], replayed["config"]
    common = ["--config", str(config), "--data", str(tmp / "store"), "--no-dashboard"]
    res = seeker(
        "replay", "credit_spread", "--candidate", str(candidate), *common,
        "--log-dir", str(tmp_path / "logs"), cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    assert "overlays strategies.credit_spread: regime.trend=" in res.stdout
    heads = [x for x in _lines(tmp_path / "logs", "credit_spread", "decisions.jsonl")]
    assert heads[0]["event"] == "STRATEGY" and heads[0]["regime_rule"] == rule
    shipped_rule = _lines(tmp / "logs", "credit_spread", "decisions.jsonl")[0]["regime_rule"]
    assert shipped_rule["ivr"] == ["high"]  # the config's own rule, untouched by the candidate

    other = seeker(
        "replay", "broken_wing_butterfly", "--candidate", str(candidate), *common,
        "--log-dir", str(tmp_path / "other"), cwd=tmp_path,
    )  # fmt: skip
    assert other.returncode == 2
    assert "is for credit_spread, which this run does not start" in other.stderr
