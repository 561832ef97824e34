"""``seeker optimize`` and ``seeker run --candidate`` as a user runs them, in subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seeker.cli.candidates import check_candidate_run
from seeker.research.candidate import Candidate
from tests.research.tiny import LISTINGS, SPACE, STRATEGY, write_space
from tests.support import ROOT, seeker, shipped, write_config

TINY = [
    "--sampler",
    "grid",
    "--sessions",
    "10",
    "--seeds",
    "1",
    "--folds",
    "2",
    "--underlyings",
    ",".join(LISTINGS),
    "--batch",
    "2",
]


def test_a_space_with_hard_constraints_exits_2_naming_each_key(tmp_path: Path) -> None:
    res = seeker(
        "optimize",
        "iron_condor",
        "--space",
        "tests/research/spaces/forbidden.toml",
        "--log-dir",
        str(tmp_path / "logs"),
        cwd=ROOT,
    )
    assert res.returncode == 2, res.stdout + res.stderr
    assert "params.risk.max_per_trade_pct: can never be searched: risk caps" in res.stderr
    assert "params.quantity: can never be searched" in res.stderr
    assert not (tmp_path / "logs").exists(), "nothing is stored for a refused space"


def test_usage_problems_exit_2(tmp_path: Path) -> None:
    space = write_space(tmp_path)
    logs = ["--log-dir", str(tmp_path / "logs")]
    cases = [
        (["optimize", "iron_condor"], "give --space FILE to search"),
        (
            ["optimize", "iron_condor", "--space", str(space), *logs],
            "strategy: the space is for 'broken_wing_butterfly', not 'iron_condor'",
        ),
        (["optimize", STRATEGY, "--report", "nosuch", *logs], "no study 'nosuch' under"),
    ]
    for args, message in cases:
        res = seeker(*args, cwd=ROOT)
        assert res.returncode == 2, (args, res.stdout, res.stderr)
        assert message in res.stderr, (args, res.stderr)


@pytest.mark.slow
def test_a_study_reports_exports_and_its_candidate_runs(tmp_path: Path) -> None:
    config = write_config(tmp_path, shipped())
    before = config.read_bytes()
    space = write_space(tmp_path)
    logs = tmp_path / "logs"
    res = seeker(
        "optimize",
        STRATEGY,
        "--space",
        str(space),
        "--trials",
        "2",
        *TINY,
        "--no-stability",
        "--report",
        "cli",
        "--export",
        "--config",
        str(config),
        "--log-dir",
        str(logs),
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    assert "study cli of broken_wing_butterfly" in out and "trials 2/2" in out
    for name in ("oos_sharpe", "consistency", "oos_is_ratio", "dsr", "stability"):
        assert name in out
    report = logs / "_research" / "cli" / "report.html"
    assert f"report written to {report}" in out and report.is_file()
    candidate = tmp_path / "candidates" / f"{STRATEGY}-cli.toml"
    assert f"written to {candidate}" in out and candidate.is_file()
    assert config.read_bytes() == before  # the config is never edited

    again = seeker(
        "optimize",
        STRATEGY,
        "--report",
        "cli",
        "--out",
        str(tmp_path / "r.html"),
        "--config",
        str(config),
        "--log-dir",
        str(logs),
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stderr
    assert "trials" not in again.stdout.split("study cli")[0]  # a report makes no run
    assert (tmp_path / "r.html").read_text() == report.read_text()

    run = seeker(
        "run",
        STRATEGY,
        "--candidate",
        str(candidate),
        "--days",
        "2",
        "--no-dashboard",
        "--config",
        str(config),
        "--log-dir",
        str(tmp_path / "run"),
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"overlays strategies.{STRATEGY}: " in run.stdout
    other = seeker(
        "run",
        "iron_condor",
        "--candidate",
        str(candidate),
        "--days",
        "1",
        "--config",
        str(config),
        "--log-dir",
        str(tmp_path / "x"),
        cwd=tmp_path,
    )
    assert other.returncode == 2
    assert f"is for {STRATEGY}, which this run does not start" in other.stderr


def test_a_candidate_runs_on_a_broker_only_in_shadow_mode() -> None:
    cand = Candidate(Path("c.toml"), "iron_condor", "s", "F", {"take_profit_pct": 40.0})
    assert check_candidate_run(cand, ["iron_condor"], "sim", shadow=False) == []
    assert check_candidate_run(cand, ["iron_condor"], "ibkr", shadow=True) == []
    refused = check_candidate_run(cand, ["iron_condor"], "ibkr", shadow=False)
    assert refused and "add --shadow" in refused[0]


@pytest.mark.slow
def test_sigterm_stops_a_study_cleanly_and_the_same_command_resumes_it(tmp_path: Path) -> None:
    space = write_space(tmp_path, SPACE)
    args = [
        sys.executable,
        "-m",
        "seeker",
        "optimize",
        STRATEGY,
        "--space",
        str(space),
        "--trials",
        "3",
        *TINY,
        "--batch",
        "1",
        "--no-stability",
        "--study",
        "stop",
        "--log-dir",
        str(tmp_path / "logs"),
    ]
    proc = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # bounded by the study's own end
        if line.startswith("trials 1/3"):
            proc.send_signal(signal.SIGTERM)
            break
    rest = finish(proc)
    assert proc.returncode == 0
    assert "study stop interrupted; its completed trials are stored" in rest
    done = seeker(*args[3:], cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "trials 3/3" in done.stdout
    assert "study stop · broken_wing_butterfly · 3 trials completed" in done.stdout
    # the trial the stop cut short is not a failure: it is said so, and its point ran again
    assert "0 failed, 1 interrupted (their points run again)" in done.stdout


def finish(proc: subprocess.Popen[str], timeout: float = 120.0) -> str:
    """Return the rest of a stopping study's output; kill its process group and fail if it has
    not ended within `timeout` seconds (a hang fails the test, never the suite)."""
    try:
        rest, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        rest, _ = proc.communicate()
        pytest.fail(f"the study did not end within {timeout:.0f} s of its stop:\n{rest[-3000:]}")
    return rest


def running_trials(tmp: Path) -> set[str]:
    """Return the runs' temporary folders under `tmp` where the strategy is journaling."""
    return {p.parents[1].name for p in tmp.glob(f"seeker-trial-*/{STRATEGY}/*")}


@pytest.mark.slow
def test_sigterm_stops_a_study_on_worker_processes_without_a_traceback(tmp_path: Path) -> None:
    """`kill PID` while both workers are inside a run: the parent stops the study and terminates
    the workers, which end quietly (they used to print a traceback each)."""
    space = write_space(tmp_path, SPACE)
    args = [sys.executable, "-m", "seeker", "optimize", STRATEGY, "--space", str(space)]
    args += ["--trials", "4", *TINY, "--sessions", "40", "--workers", "2", "--no-stability"]
    args += ["--study", "term", "--log-dir", str(tmp_path / "logs")]
    trials = tmp_path / "tmp"  # each run journals into a temporary folder: here, to be seen
    trials.mkdir()
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, "TMPDIR": str(trials)},
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # bounded by the study's own end
        if line.startswith("trials 0/4"):
            # the workers have started and are inside their 40-session runs: two runs' folders
            # hold the strategy's journals at once
            deadline = time.monotonic() + 60.0
            while len(running_trials(trials)) < 2:
                if time.monotonic() > deadline or proc.poll() is not None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    pytest.fail(f"two runs never ran at once; running: {running_trials(trials)}")
                time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            break
    rest = finish(proc)
    assert proc.returncode == 0, rest
    assert "study term interrupted; its completed trials are stored" in rest
    assert "Traceback" not in rest, rest


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in (ROOT / "config" / "search").glob("*.toml"))
)
def test_every_shipped_space_checks_against_its_strategy(name: str) -> None:
    """`<strategy>.toml` for the simulated market, `<strategy>-<market>.toml` for another."""
    from seeker.engine.registry import config_models
    from seeker.research.searchable import load_space
    from seeker.strategies import load

    strategy = name.split("-")[0]
    space = load_space(ROOT / "config" / "search" / f"{name}.toml", config_models(load())[strategy])
    assert space.strategy == strategy and len(space.params) >= 5
