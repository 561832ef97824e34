"""Disk and output faults, one Seeker per log folder, exit codes, and orders of other strategies.

Real subprocesses on the shipped config: a full disk (Seeker's own test hook, and a real file
size limit), a read-only log folder, a closed stdout, two runs on one folder. In-process: an order
id the broker gives to another strategy's order is never adopted.
"""

from __future__ import annotations

import gzip
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seeker.config.loading import validate_config
from seeker.core.execution import OrderPlan
from seeker.core.journal import read_events, read_jsonl
from seeker.core.models import ComboOrder, order_ref
from seeker.engine.folder_lock import lock_holder
from seeker.engine.wiring import build_sim_services
from seeker.strategies.iron_condor import IronCondor
from tests.crash_support import consistency_problems
from tests.support import ROOT, condor_legs, shipped, strategy_config_models

STRATEGIES = ["iron_condor", "broken_wing_butterfly"]


def command(logs: Path, *extra: str) -> list[str]:
    head = [sys.executable, "-m", "seeker", "run", *STRATEGIES, "--no-dashboard"]
    return [*head, "--log-dir", str(logs), *extra]


def env_with(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEKER_TEST_")}
    env.update(values)
    return env


def run(logs: Path, *extra: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(logs, *extra),
        cwd=ROOT,
        env=env_with(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def caps() -> object:
    return validate_config(shipped(), strategy_config_models(), ROOT / "config").caps()


def test_a_full_disk_stops_trading_with_exit_4_and_the_restart_loses_nothing(
    tmp_path: Path,
) -> None:
    logs = tmp_path / "logs"
    # the 3rd combo FILL is cut in half by ENOSPC, and nothing can be written after it
    full = run(logs, "--days", "5", SEEKER_TEST_DISK_FULL_AT="FILL:combo:3:torn")
    assert full.returncode == 4, full.stderr[-3000:]
    assert "No space left on device" in full.stderr and "trading stopped" in full.stderr
    assert "Traceback" not in full.stderr
    torn = [
        p.parent.name
        for p in logs.glob("*/trades.jsonl")
        if not p.read_bytes().endswith(b"\n")  # the torn line is there
    ]
    assert len(torn) == 1, torn
    again = run(logs, "--days", "2")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "torn" in again.stderr  # skipped with a warning
    assert consistency_problems(logs, caps()) == []  # type: ignore[arg-type]
    recovered = [f for f in read_events(logs / torn[0], ["FILL"]) if f.get("recovered")]
    assert [f["fill_id"] for f in recovered] == ["S3.1"]  # the third execution, journaled once


def _limit_file_size() -> None:
    """In the child: files may not grow past 100 kB, and a write beyond fails (EFBIG)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))


@pytest.mark.slow
def test_a_real_write_failure_ends_with_exit_4_and_a_clean_restart(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    proc = subprocess.run(
        command(logs, "--days", "10"),
        cwd=ROOT,
        env=env_with(),
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_file_size,
    )
    assert proc.returncode == 4, proc.stderr[-3000:]
    assert "File too large" in proc.stderr
    again = run(logs, "--days", "1")
    assert again.returncode == 0, again.stderr[-3000:]
    # the cut compressed journal was finished before the restart appended to it
    assert "last member was left open" in again.stderr
    for gz in logs.rglob("*.jsonl.gz"):
        gzip.decompress(gz.read_bytes())  # every member whole: the standard reader takes it
    assert consistency_problems(logs, caps()) == []  # type: ignore[arg-type]


@pytest.fixture
def read_only(tmp_path: Path) -> Path:
    """Return a folder nobody may write into (immutable for root, mode 0555 otherwise)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip("root without chattr: no way to make a folder read-only")
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("chattr +i refused here")
    else:
        folder.chmod(0o555)
    yield folder
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(folder)], check=False)
    else:
        folder.chmod(0o755)


def test_a_read_only_log_folder_exits_2_with_one_line(read_only: Path) -> None:
    res = run(read_only / "logs", "--days", "1")
    assert res.returncode == 2, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "is not writable" in lines[0], res.stderr
    assert res.stdout == ""


def test_a_second_run_on_the_same_folder_exits_2_naming_the_first(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    first = subprocess.Popen(
        command(logs, "--speed", "600"),
        cwd=ROOT,
        env=env_with(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while lock_holder(logs) is None:
            assert first.poll() is None, first.stderr.read() if first.stderr else ""
            assert time.monotonic() < deadline, "the first run never took the folder"
            time.sleep(0.1)
        assert lock_holder(logs) == first.pid
        second = run(logs, "--days", "1")
        assert second.returncode == 2
        assert f"another Seeker (pid {first.pid}) is running on the log folder" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
    assert lock_holder(logs) is None


def test_a_closed_stdout_never_stops_trading(tmp_path: Path) -> None:
    """`seeker run … | head -3`: the run goes on, manages its positions and exits 0."""
    logs = tmp_path / "logs"
    proc = subprocess.Popen(
        command(logs, "--days", "5"),
        cwd=ROOT,
        env=env_with(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    head = [proc.stdout.readline() for _ in range(3)]
    proc.stdout.close()  # what `head -3` does after three lines
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0, err[-3000:]
    assert all(head) and "Traceback" not in err and "BrokenPipe" not in err
    first_open = min(
        f["ts"]
        for name in STRATEGIES
        for f in read_events(logs / name, ["FILL"])
        if f["intent"] == "open"
    )
    closes = [
        p for name in STRATEGIES for p in read_events(logs / name, ["POST_TRADE"])
    ]  # positions opened after the pipe closed were still managed to their close
    assert closes and max(p["ts"] for p in closes) > first_open
    assert not [
        r
        for name in STRATEGIES
        for r in read_events(logs / name, ["RISK"])
        if r["rule"] == "strategy_error"
    ]
    stopped = [r for r in read_jsonl(logs / "_seeker" / "runs.jsonl") if r["status"] == "stopped"]
    assert stopped and stopped[-1]["clean"] is True


def test_another_strategys_order_under_a_known_broker_id_is_never_adopted(tmp_path: Path) -> None:
    """The journal says our order is the broker's S1, but S1 carries another strategy's orderRef:
    a RISK line, and the order is neither followed nor cancelled."""
    cfg = validate_config(shipped(), strategy_config_models(), ROOT / "config")
    logs = tmp_path / "logs"
    services = build_sim_services(cfg, logs, days=5, emit=lambda _m: None)
    try:
        clock = services.clock
        clock.sleep_until(clock.now().replace(hour=11, minute=0))
        broker = services.broker
        expiry = next(e for e in broker.expiries("IWM") if (e - clock.now().date()).days >= 35)
        spot = broker.underlying_quote("IWM").mid
        chain = broker.option_chain("IWM", [expiry], (spot * 0.8, spot * 1.2))
        legs = condor_legs(chain, expiry, spot, 0.05)
        theirs = order_ref("iron_fly", "if-20260105-001", "open")
        s1 = broker.place_order(ComboOrder(theirs, "IWM", legs, 1, -5.0))  # never fills
        assert not s1.status.is_done
        journal = services.journal("iron_condor")
        pid = "ic-20260105-001"
        plan = OrderPlan(pid, f"{pid}.1", "open", "IWM", legs, 1, (-0.5,), True, {})
        journal.write(
            "ORDER",
            order_id=plan.order_id,
            order_ref=order_ref("iron_condor", pid, "open"),
            strategy="iron_condor",
            position_id=pid,
            intent="open",
            underlying="IWM",
            legs=[
                {
                    "right": leg.contract.right,
                    "strike": leg.contract.strike,
                    "expiry": leg.contract.expiry.isoformat(),
                    "action": leg.action,
                    "ratio": 1,
                }
                for leg in legs
            ],
            qty=1,
            limit_price=-0.5,
            ladder=[-0.5],
            max_loss=45.0,
            risk=45.0,
            sector="broad_market",
            cluster="c1",
            currency="USD",
        )
        journal.write(
            "ORDER_STATUS",
            order_id=plan.order_id,
            position_id=pid,
            intent="open",
            status="submitted",
            broker_order_id=s1.order_id,
            limit_price=-0.5,
        )
        strategy = IronCondor(services, cfg.strategies.iron_condor)
        strategy.setup()
        strategy.adoption.follow_adopted()
        risk = read_events(logs / "iron_condor", ["RISK"])
        assert [r["rule"] for r in risk] == ["adoption_refused"], risk
        assert theirs in risk[0]["detail"]
        assert not broker.order_state(s1.order_id).status.is_done  # left alone
        statuses = [s["status"] for s in read_events(logs / "iron_condor", ["ORDER_STATUS"])]
        assert statuses == ["submitted", "cancelled"]  # ours is gone; theirs is not touched
        assert not read_events(logs / "iron_condor", ["FILL"])
    finally:
        services.broker.close()
        services.close_journals()
