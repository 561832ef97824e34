"""The Docker quick start, as far as it can be checked without a Docker daemon.

compose.yaml is parsed and held to the spec (host 8001 → container 8000, ./config read-only at
/app/config, ./data at /app/data, CONFIG_PATH); the Dockerfile to its promises (slim Python,
non-root user, the package installed); and the image's command runs here, outside a container,
on temporary folders instead of /app/data: it serves, starts the runner, and stops both.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support import ROOT, shipped, small, write_config
from tests.web.support import TOKEN, free_port, stop, wait_ready


def dockerfile() -> list[str]:
    """Return the Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def instruction(name: str) -> list[str]:
    return [line[len(name) + 1 :] for line in dockerfile() if line.startswith(name + " ")]


def test_compose_publishes_8001_mounts_config_read_only_and_data() -> None:
    spec = yaml.safe_load((ROOT / "compose.yaml").read_text())
    svc = spec["services"]["seeker"]
    assert svc["build"]["context"] == "."
    assert svc["ports"] == ["127.0.0.1:8001:8000"]
    assert "./config:/app/config:ro" in svc["volumes"]
    assert "./data:/app/data" in svc["volumes"]
    assert svc["environment"]["CONFIG_PATH"] == "/app/config/seeker.toml"
    assert "SEEKER_WEB_TOKEN" in svc["environment"]


def test_the_dockerfile_is_slim_non_root_and_installs_the_package() -> None:
    (base,) = instruction("FROM")
    assert base.startswith("python:3.1") and base.endswith("-slim")
    (user,) = instruction("USER")
    assert user not in ("root", "0")
    assert any("pip install ." in run for run in instruction("RUN"))
    assert any("CONFIG_PATH=/app/config/seeker.toml" in env for env in instruction("ENV"))
    assert instruction("EXPOSE") == ["8000"]
    cmd = json.loads(instruction("CMD")[0])
    assert cmd[:2] == ["seeker", "serve"] and "--run" in cmd
    assert cmd[cmd.index("--port") + 1] == "8000" and cmd[cmd.index("--host") + 1] == "0.0.0.0"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", "logs", "data"} <= set(ignored)


@pytest.mark.slow
def test_the_image_command_serves_and_runs_then_stops_both(tmp_path: Path) -> None:
    """The CMD outside a container: /app/data → a temporary folder, port 8000 → a free one."""
    app = tmp_path / "app"
    (app / "data").mkdir(parents=True)
    config_dir = app / "config"
    config_dir.mkdir()
    write_config(config_dir, small(shipped()))  # the shipped config on fewer underlyings
    port = free_port()
    cmd = [
        a.replace("/app/", f"{app}/").replace("8000", str(port))
        for a in json.loads(instruction("CMD")[0])
    ]
    assert cmd[0] == "seeker"
    env = {**os.environ, "CONFIG_PATH": str(config_dir / "seeker.toml"), "SEEKER_WEB_TOKEN": TOKEN}
    proc = subprocess.Popen(
        [sys.executable, "-m", "seeker", *cmd[1:]],
        cwd=app / "data",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    runner_pid = 0
    try:
        wait_ready(base, proc)
        deadline = time.monotonic() + 90
        status: dict[str, object] = {}
        while time.monotonic() < deadline and not status.get("alive"):
            time.sleep(0.5)
            status = httpx.get(f"{base}/api/status").json()
        assert status.get("alive") is True, status
        runner_pid = int(str(status["pid"]))
        assert runner_pid != proc.pid
        assert httpx.get(f"{base}/").status_code == 200
    finally:
        code = stop(proc, signal.SIGTERM, 60)
    out = proc.stdout.read() if proc.stdout else ""
    assert code == 0, out[-3000:]
    assert "the runner stopped (exit code 0)" in out, shlex.join(cmd) + "\n" + out[-3000:]
    final = json.loads((app / "data" / "logs" / "_seeker" / "status.json").read_text())
    assert final["running"] is False and final["note"] == "SIGTERM"
