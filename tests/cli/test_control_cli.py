"""``seeker pause / resume / close / flatten`` against a real ``seeker run`` process on the
simulated market (high ``--speed``): the commands' answers, the CONTROL lines (who, what, when),
the strategies' journals and the broker's positions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from seeker.core.journal import SYSTEM_FOLDER, read_events
from seeker.core.positions import load_book
from tests.crash_support import broker_positions
from tests.support import ROOT, seeker, shipped, write_config

NAMES = ["broken_wing_butterfly", "iron_fly"]
WAIT_SECONDS = 90.0


def wait_for(what: str, check: Callable[[], Any], timeout: float = WAIT_SECONDS) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def open_positions(logs: Path, name: str) -> list[str]:
    book, _ = load_book(logs / name)
    return [p.position_id for p in book.open_positions()]


def control_lines(logs: Path) -> list[dict[str, Any]]:
    return read_events(logs / SYSTEM_FOLDER, ["CONTROL"])


def ts(line: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(line["ts"]))


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Path, Path, subprocess.Popen[str]]]:
    """A `seeker run` of two strategies at speed 1500 until stopped (SIGINT at the end), on the
    paper account of a first `--days 5` run on the whole universe (it leaves butterflies open)."""
    cfg = write_config(tmp_path, shipped())
    logs = tmp_path / "logs"
    first = seeker(
        "run", *NAMES, "--config", str(cfg), "--log-dir", str(logs), "--days", "5", cwd=ROOT
    )
    assert first.returncode == 0, first.stderr
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seeker",
            "run",
            *NAMES,
            "--config",
            str(cfg),
            "--log-dir",
            str(logs),
            "--speed",
            "1500",
            "--no-dashboard",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for("the control socket", lambda: (logs / "control.sock").exists(), 30.0)
        yield cfg, logs, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cli(
    *args: str, cfg: Path, logs: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seeker", *args, "--config", str(cfg), "--log-dir", str(logs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        input=stdin,
    )


@pytest.mark.slow
def test_pause_close_resume_flatten_a_running_seeker(
    running: tuple[Path, Path, subprocess.Popen[str]],
) -> None:
    cfg, logs, proc = running
    user = os.environ.get("USER") or ""
    # something to work on: the butterflies the first run left open
    assert len(open_positions(logs, "broken_wing_butterfly")) >= 2

    # pause one strategy: its entries stop at its next poll, the other goes on
    res = cli("pause", "iron_fly", "--reason", "too many flies", cfg=cfg, logs=logs)
    assert res.returncode == 0, res.stderr + res.stdout
    assert "paused: iron_fly" in res.stdout
    [pause] = control_lines(logs)
    assert (pause["command"], pause["ok"], pause["args"]["strategies"]) == (
        "pause",
        True,
        ["iron_fly"],
    )
    assert pause["pid"] and pause["uid"] == os.getuid() and pause["request_id"]
    if user:
        assert pause["user"] == user
    wait_for(
        "iron_fly's entries_stopped line",
        lambda: [
            x for x in read_events(logs / "iron_fly", ["RISK"]) if x["rule"] == "entries_stopped"
        ],
    )

    # close one position by hand: its strategy closes it at its next poll (exit rule manual)
    pid = open_positions(logs, "broken_wing_butterfly")[-1]
    res = cli("close", pid, "--reason", "I do not like it", cfg=cfg, logs=logs)
    assert res.returncode == 0, res.stderr + res.stdout
    assert f"closing {pid} (broken_wing_butterfly)" in res.stdout

    def closed_by_hand() -> list[dict[str, Any]]:
        fills = read_events(logs / "broken_wing_butterfly", ["FILL"])
        return [f for f in fills if f["position_id"] == pid and f.get("exit_rule") == "manual"]

    wait_for(
        f"{pid} closed by hand", lambda: pid not in open_positions(logs, "broken_wing_butterfly")
    )
    orders = [
        o
        for o in read_events(logs / "broken_wing_butterfly", ["ORDER"])
        if o["position_id"] == pid and o.get("exit_rule") == "manual"
    ]
    assert (
        orders and "closed by" in orders[0]["reason"] and "I do not like it" in orders[0]["reason"]
    )
    assert closed_by_hand()

    # refused commands: an unknown position (exit 2), flatten without confirmation (nothing sent)
    res = cli("close", "ic-20990101-001", cfg=cfg, logs=logs)
    assert res.returncode == 2 and "no open position 'ic-20990101-001'" in res.stderr
    n = len(control_lines(logs))
    res = cli("flatten", cfg=cfg, logs=logs, stdin="n\n")
    assert res.returncode == 2 and "flatten cancelled" in res.stderr
    assert len(control_lines(logs)) == n  # nothing reached Seeker
    assert control_lines(logs)[-1]["ok"] is False  # the refused close is journaled too

    # resume the paused strategy
    res = cli("resume", "iron_fly", cfg=cfg, logs=logs)
    assert res.returncode == 0 and "resumed: iron_fly" in res.stdout
    wait_for(
        "iron_fly's entries_resumed line",
        lambda: [
            x for x in read_events(logs / "iron_fly", ["RISK"]) if x["rule"] == "entries_resumed"
        ],
    )
    paused_at, resumed_at = ts(pause), ts(control_lines(logs)[-1])
    opened = [
        o
        for o in read_events(logs / "iron_fly", ["ORDER"])
        if o["intent"] == "open" and paused_at < ts(o) < resumed_at
    ]
    assert opened == []

    # flatten everything: every position closed with limit orders, the broker holds nothing
    res = cli("flatten", "--yes", "--reason", "going fishing", cfg=cfg, logs=logs)
    assert res.returncode == 0, res.stderr + res.stdout
    flat = control_lines(logs)[-1]
    assert flat["command"] == "flatten" and flat["args"]["strategy"] is None

    def broker_flat() -> bool:
        return not broker_positions(logs) and not any(open_positions(logs, n) for n in NAMES)

    wait_for("every position closed and the broker flat", broker_flat)
    for name in NAMES:
        orders = read_events(logs / name, ["ORDER"])
        assert not [o for o in orders if o["intent"] == "open" and ts(o) > ts(flat)]
        flattening = [o for o in orders if o.get("exit_rule") == "flatten"]
        assert all(o["ladder"][0] == o["limit_price"] for o in flattening)

    def flatten_hold() -> dict[str, Any] | None:  # the status file is rewritten every poll
        status = json.loads((logs / SYSTEM_FOLDER / "status.json").read_text())
        hold: dict[str, Any] | None = status["account"]["flatten"].get("*")
        return hold

    hold = wait_for("the flatten hold in the status file", flatten_hold)
    assert hold["reason"] == "going fishing"

    # Ctrl+C: a clean stop, the socket gone, a command then finds nobody
    proc.send_signal(signal.SIGINT)
    assert proc.wait(20) == 0
    assert not (logs / "control.sock").exists()
    res = cli("pause", cfg=cfg, logs=logs)
    assert res.returncode == 1 and "not running" in res.stderr
    res = cli("status", cfg=cfg, logs=logs)
    assert res.returncode == 0 and "equity: " in res.stdout
    assert f"flatten: every strategy by {flat['user']}" in res.stdout


def test_a_command_without_a_running_seeker_says_so(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, shipped())
    res = seeker("resume", "--config", str(cfg), "--log-dir", str(tmp_path / "logs"), cwd=ROOT)
    assert res.returncode == 1
    assert "Seeker is not running in" in res.stderr and "nothing listens" in res.stderr
