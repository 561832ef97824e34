"""SIGKILL at every kind of durable write, then a plain restart: nothing lost, nothing twice.

The process kills itself (a hook in Seeker's own writers, ``SEEKER_TEST_CRASH_AT``, see
``seeker.core.journal_faults``) right before or right after the N-th write of one kind: an ORDER,
an ORDER_STATUS, a combo FILL, a leg FILL, a POST_TRADE, the simulated broker's execution log
(EXEC), its account snapshot (STATE) or its clock (CLOCK). A second, plain run then resumes. After
it, the journals must agree with the broker (``tests/crash_support.py``): every execution
journaled exactly once, no order sent twice, journal positions equal to the broker's, no cap
exceeded, timestamps monotonic, ids unique.
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from seeker.config.loading import validate_config
from seeker.core.journal import read_events, read_jsonl
from seeker.core.journal_files import forward_lines
from tests.crash_support import consistency_problems
from tests.support import ROOT, seeker, shipped, strategy_config_models

STRATEGIES = ["iron_condor", "broken_wing_butterfly"]
"""Two strategies that open, close and settle within a few sessions of the shipped start."""


def run(logs: Path, days: int, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run seeker on the shipped config (a subprocess), with a crash point when given."""
    env = dict(os.environ)
    env.pop("SEEKER_TEST_CRASH_AT", None)
    if crash:
        env["SEEKER_TEST_CRASH_AT"] = crash
    cmd = [sys.executable, "-m", "seeker", "run", *STRATEGIES, "--days", str(days)]
    cmd += ["--no-dashboard", "--log-dir", str(logs)]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def caps() -> object:
    cfg = validate_config(shipped(), strategy_config_models(), ROOT / "config")
    return cfg.caps()


def recovered_fills(logs: Path) -> list[dict[str, object]]:
    return [
        f for name in STRATEGIES for f in read_events(logs / name, ["FILL"]) if f.get("recovered")
    ]


def derived_lines(logs: Path) -> dict[str, list[bytes]]:
    """Return the whole lines of every compressed (derived) journal under `logs`, by file."""
    out = {}
    for gz in sorted(logs.rglob("*.jsonl.gz")):
        lines = forward_lines(gz.with_name(gz.name.removesuffix(".gz")))
        out[str(gz.relative_to(logs))] = [x for x in lines if x.endswith(b"}")]
    return out


POINTS = [
    ("ORDER", 3),
    ("ORDER_STATUS", 4),
    ("FILL:combo", 4),  # the iron condor's closing fill
    ("FILL:leg", 9),
    ("POST_TRADE", 1),
    ("EXEC", 4),  # the broker booked the closing fill; Seeker has journaled nothing of it
    ("STATE", 1),  # the snapshot of the clean stop (no settlement in these sessions)
    ("CLOCK", 40),
]


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["before", "after"])
@pytest.mark.parametrize(("point", "nth"), POINTS)
def test_a_kill_at_any_write_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, point: str, nth: int, phase: str
) -> None:
    logs = tmp_path / "logs"
    first = run(logs, 3, crash=f"{point}:{nth}:{phase}")
    assert first.returncode == -signal.SIGKILL, (first.returncode, first.stderr[-2000:])
    derived = derived_lines(logs)  # the compressed journals as the kill left them (unfinished)
    assert derived
    second = run(logs, 1)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-3000:]
    assert consistency_problems(logs, caps()) == []  # type: ignore[arg-type]
    for name, lines in derived_lines(logs).items():  # the restart finished them, losing nothing
        assert lines[: len(derived[name])] == derived[name], name
        gzip.decompress((logs / name).read_bytes())  # every member finished: standard gzip
    runs = [r for r in read_jsonl(logs / "_seeker" / "runs.jsonl") if r["status"] == "started"]
    assert len(runs) == 2
    if (point, phase) in (("EXEC", "after"), ("FILL:combo", "before")):
        # the broker holds a fill the journal did not: the restart journals it, marked
        recovered = recovered_fills(logs)
        assert [f["kind"] for f in recovered if f["kind"] == "combo"] == ["combo"], recovered


def test_status_after_a_kill_says_the_run_did_not_stop_cleanly(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    first = run(logs, 5, crash="FILL:combo:2:after")
    assert first.returncode == -signal.SIGKILL
    res = seeker("status", "--log-dir", str(logs), cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert "not running (last run ended without a clean stop)" in res.stdout
    clean = run(logs, 1)
    assert clean.returncode == 0, clean.stderr[-2000:]
    res = seeker("status", "--log-dir", str(logs), cwd=ROOT)
    assert "without a clean stop" not in res.stdout and "not running" in res.stdout
