"""Progress of a --days run: sessions done on the real simulated clock, the bar on a terminal,
the dashboard's footer, and nothing extra when the output is piped."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from seeker.config.loading import validate_config
from seeker.core.tz import MARKET_TZ
from seeker.engine.wiring import build_sim_services
from seeker.ui.progress import RunProgress, run_display
from tests.support import ROOT, shipped, strategy_config_models
from tests.ui.test_dashboard import frame, snapshot

ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


def test_sessions_done_follow_the_simulated_clock(tmp_path: Path) -> None:
    cfg = validate_config(shipped(), strategy_config_models(), ROOT / "config")
    services = build_sim_services(cfg, tmp_path / "logs", days=5, emit=lambda _m: None)
    progress = RunProgress(services, 5)
    assert progress.done() == 0 and progress.eta_seconds() is None
    opens, closes = progress.spans[1]
    half = opens + (closes - opens) / 2
    assert progress.done(half) == 1.5
    assert services.clock.sleep_until(closes)  # the second session's close
    assert progress.done() == 2
    text = progress.text()
    day = closes.astimezone(MARKET_TZ)
    assert text.startswith(f"session 2/5 · {day:%Y-%m-%d} · 0 opened, 0 closed · ETA ")
    assert progress.done(progress.spans[-1][1]) == 5
    assert len(progress.spans) == 5 and all(a < b for a, b in progress.spans)


def test_the_footer_shows_the_progress_before_the_latest_message() -> None:
    snap = snapshot([], progress="session 12/60 · 2026-01-21 · 3 opened, 2 closed · ETA 0:31")
    last = frame(snap, 80, 24).splitlines()[-1]
    assert last.startswith(" Ctrl+C stops cleanly   session 12/60 · 2026-01-21 · 3 opened")
    wide = frame(snap, 160, 50).splitlines()[-1]
    assert "ETA 0:31  01-20 10:02  iron_condor: opened ic-20260120-001" in wide


def test_piped_output_gets_no_display(tmp_path: Path) -> None:
    cfg = validate_config(shipped(), strategy_config_models(), ROOT / "config")
    services = build_sim_services(cfg, tmp_path / "logs", days=5, emit=print)
    display = run_display(services, ["iron_condor"], 5, True, stream=io.StringIO())
    assert display.on_tick is None and services.emit is print


def test_a_days_run_on_a_terminal_draws_the_bar_under_the_plain_lines(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    args = ["run", "iron_condor", "--days", "6", "--no-dashboard", "--log-dir", str(tmp_path)]
    env = {**os.environ, "COLUMNS": "120"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "seeker", *args],
        cwd=ROOT,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 1 << 16)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=120) == 0
    os.close(leader)
    text = ANSI.sub("", b"".join(chunks).decode(errors="replace")).replace("\r", "\n")
    bars = [ln for ln in text.splitlines() if ln.startswith("sessions ")]
    assert bars and re.search(r"6/6 · 2026-01-\d\d · \d+ opened, \d+ closed · ETA", bars[-1])
    assert "iron_condor: opening ic-" in text  # the plain lines still print above it
    piped = subprocess.run(
        [sys.executable, "-m", "seeker", *args[:-1], str(tmp_path / "piped")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert piped.returncode == 0 and "sessions " not in piped.stdout
    assert "\x1b[" not in piped.stdout
