"""The read commands as a user meets them: names and filters checked, config found, CSV, version.

Journals are the hand-written ones of ``tests/reports/test_reports.py`` (real Journal lines).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from seeker.core.journal import EVENT_FILES
from tests.reports.test_reports import cli, write_journals
from tests.support import SHIPPED

STRATEGIES = "broken_wing_butterfly, credit_spread, diagonal, iron_condor, iron_fly"


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("read") / "logs"
    write_journals(root)
    return root


def errors(res: object) -> list[str]:
    """Return the non-empty lines a command wrote to stderr."""
    return [ln for ln in res.stderr.splitlines() if ln.strip()]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "args",
    [
        ("journal", "-s", "iron_condr"),
        ("summary", "iron_condr"),
        ("plot", "equity", "-s", "iron_condr"),
        ("run", "iron_condr", "--days", "1"),
    ],
)
def test_a_misspelt_strategy_is_one_line_with_the_nearest_name(logs: Path, args: tuple) -> None:
    extra = ("--log-dir", str(logs)) if args[0] != "run" else ("--log-dir", str(logs / "x"))
    res = cli(*args, *extra)
    assert res.exit_code == 2
    (line,) = errors(res)
    head = "error: unknown strategy 'iron_condr'; did you mean 'iron_condor'? (known: "
    assert line.startswith(head) and line.endswith(")")
    # the five shipped strategies (and any a test registered in this process), in order
    known = line[len(head) : -1].split(", ")
    assert set(STRATEGIES.split(", ")) <= set(known) and known == sorted(known)
    assert not (logs / "x").exists()


def test_a_strategy_name_far_from_any_lists_them_all(logs: Path) -> None:
    res = cli("journal", "-s", "nope", "--log-dir", str(logs))
    assert res.exit_code == 2
    assert errors(res) == [f"error: unknown strategy 'nope' (known: {STRATEGIES})"]


EVENTS = ", ".join(EVENT_FILES)
"""Every journal event, in the order the error lists them."""


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("--outcome", "bogus"),
            "error: --outcome 'bogus': not one of order, no_trade",
        ),
        (
            ("--outcome", "no-trade"),
            "error: --outcome 'no-trade': not one of order, no_trade; did you mean 'no_trade'?",
        ),
        (
            ("-e", "FOO"),
            f"error: --event 'FOO': not one of {EVENTS}",
        ),
        (
            ("-e", "FILLS"),
            f"error: --event 'FILLS': not one of {EVENTS}; did you mean 'FILL'?",
        ),
        (
            ("--blocked-by", "riskguard"),
            "error: --blocked-by 'riskguard': not one of account, critic, data, event_risk, "
            "fx_router, generator, liquidity, regime, risk_guard, strategy, per_trade, portfolio, "
            "sector, cluster, underlying; did you mean 'risk_guard'?",
        ),
    ],
)
def test_each_bad_journal_filter_lists_the_valid_values(
    logs: Path, args: tuple, expected: str
) -> None:
    res = cli("journal", *args, "--log-dir", str(logs))
    assert res.exit_code == 2
    assert errors(res) == [expected]


def test_every_bad_filter_is_named_at_once(logs: Path) -> None:
    res = cli("journal", "--outcome", "x", "-e", "y", "-s", "z", "--log-dir", str(logs))
    assert res.exit_code == 2
    found = errors(res)
    assert len(found) == 3 and all(line.startswith("error: ") for line in found)


def test_good_filters_pass(logs: Path) -> None:
    for args in (
        ("--blocked-by", "sector"),  # a cap that bound
        ("-e", "fill"),  # event kinds in any case
        ("-s", "iron_condor.shadow"),
        ("-s", "diagonal"),  # known, no journal yet: nothing matches, not an error
    ):
        res = cli("journal", *args, "--log-dir", str(logs))
        assert res.exit_code == 0, (args, res.stderr)


def test_summary_and_plot_check_their_choices(logs: Path) -> None:
    res = cli("summary", "--csv", "--by", "sectr", "--log-dir", str(logs))
    assert res.exit_code == 2
    assert "--by 'sectr': not one of strategy, regime" in res.stderr
    assert "did you mean 'sector'?" in res.stderr
    res = cli("plot", "equty", "--log-dir", str(logs))
    assert res.exit_code == 2 and "did you mean 'equity'?" in res.stderr
    res = cli("plot", "equity", "-o", str(logs / "x.jpg"), "--log-dir", str(logs))
    assert res.exit_code == 2 and "must end in .png or .svg" in res.stderr
    res = cli("show", "ic-Z", "--log-dir", str(logs))
    assert res.exit_code == 2 and "unknown position 'ic-Z'" in res.stderr


def test_a_missing_config_names_the_folder_and_how_to_point_at_one(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SEEKER_CONFIG"}
    for args in (("run", "--days", "1"), ("journal",), ("summary",), ("check-config",)):
        res = subprocess.run(
            [sys.executable, "-m", "seeker", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
        )
        assert res.returncode == 2, res.stderr
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, lines
        assert f"looked in {tmp_path.resolve()}/config/" in lines[0]
        assert "--config PATH" in lines[0] and "SEEKER_CONFIG=PATH" in lines[0]


def test_seeker_config_names_the_config_from_any_folder(tmp_path: Path, logs: Path) -> None:
    env = {**os.environ, "SEEKER_CONFIG": str(SHIPPED)}
    res = subprocess.run(
        [sys.executable, "-m", "seeker", "journal", "-n", "2", "--log-dir", str(logs)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert res.returncode == 0, res.stderr
    assert len(res.stdout.splitlines()) == 2
    res = subprocess.run(
        [sys.executable, "-m", "seeker", "check-config"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert res.returncode == 0 and "is valid" in res.stdout


def test_version_is_the_installed_one() -> None:
    res = cli("--version")
    assert res.exit_code == 0
    assert res.stdout.strip() == f"seeker {version('seeker')}"


def test_summary_csv_parses_back_to_the_report(logs: Path) -> None:
    report = json.loads(cli("summary", "--json", "--log-dir", str(logs)).stdout)
    res = cli("summary", "--csv", "--log-dir", str(logs))
    assert res.exit_code == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [(r["strategy"], r["currency"]) for r in rows] == [
        (r["strategy"], r["currency"]) for r in report["rows"]
    ]
    for got, want in zip(rows, report["rows"], strict=True):
        assert float(got["net_pnl"]) == want["net_pnl"]
        assert int(got["trades"]) == want["trades"]
        assert got["shadow"] == ("true" if want["shadow"] else "false")
        assert got["avg_mfe"] == ("" if want["avg_mfe"] is None else str(want["avg_mfe"]))
    ic = next(r for r in rows if r["strategy"] == "iron_condor")
    assert ic["exits"] == "stop=1;take_profit=1"
    trades = list(
        csv.DictReader(
            io.StringIO(cli("summary", "--csv", "--by", "trade", "--log-dir", str(logs)).stdout)
        )
    )
    assert sorted(t["position_id"] for t in trades) == ["cs-C", "ic-A", "ic-B", "ic-E"]
    sectors = cli("summary", "--csv", "--by", "sector", "--log-dir", str(logs)).stdout
    by_sector = list(csv.DictReader(io.StringIO(sectors)))
    assert {(r["sector"], r["shadow"]) for r in by_sector} >= {("financials", "false")}


def test_journal_csv_has_one_row_per_line(logs: Path) -> None:
    res = cli("journal", "--csv", "--log-dir", str(logs))
    assert res.exit_code == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    raw = cli("journal", "--json", "--log-dir", str(logs)).stdout.splitlines()
    assert len(rows) == len(raw)
    for row, line in zip(rows, raw, strict=True):
        obj = json.loads(line)
        assert row["event"] == obj["event"] and row["ts"] == obj["ts"]
        assert row["position_id"] == (obj.get("position_id") or "")
    fill = next(r for r in rows if r["event"] == "FILL" and r["order_id"] == "ic-A.2")
    assert float(fill["price"]) == 0.06 and fill["intent"] == "close"
    assert "close ×1 at +0.06" in fill["text"]
    empty = cli("journal", "--csv", "-p", "nothing-here", "--log-dir", str(logs))
    assert empty.exit_code == 0 and empty.stdout.splitlines() == [
        "ts,folder,event,strategy,underlying,position_id,order_id,intent,status,outcome,"
        "blocked_by,qty,price,text"
    ]
    both = cli("journal", "--csv", "--json", "--log-dir", str(logs))
    assert both.exit_code == 2 and "choose one" in both.stderr


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("seeker jo", ["journal"]),
        ("seeker run cr", ["credit_spread"]),
        ("seeker journal -s iron", ["iron_condor", "iron_fly"]),
        ("seeker journal --outcome n", ["no_trade"]),
        ("seeker plot e", ["equity"]),
    ],
)
def test_shell_completion_offers_commands_strategies_and_values(
    words: str, expected: list[str]
) -> None:
    env = {
        **os.environ,
        "_SEEKER_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
    }
    script = Path(sys.executable).parent / "seeker"  # the installed command, as a shell runs it
    res = subprocess.run([str(script)], capture_output=True, text=True, env=env, cwd=SHIPPED.parent)
    assert res.stdout.split() == expected, res.stderr
