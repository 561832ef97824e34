"""Helpers of the web tests: journals of a short real run, settings, a client, a free port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from seeker.config.loading import load_config
from seeker.strategies import load
from seeker.web.app import create_app
from seeker.web.settings import Token, WebSettings
from tests.support import seeker, shipped, small, strategy_config_models, write_config

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RUN_DAYS = 6
CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium (``apt-get install -y chromium``); Playwright's own download is not used."""
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""Chromium's flags: headless in a container, no network of its own."""


def make_journals(folder: Path, data: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """Run the five strategies for a few simulated sessions on `data` (the small shipped config
    without it); return (config, log root)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(folder, small(shipped()) if data is None else data)
    logs = folder / "logs"
    res = seeker(
        "run",
        "--days",
        str(RUN_DAYS),
        "--no-dashboard",
        "--config",
        str(config),
        "--log-dir",
        str(logs),
        cwd=folder,
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    return config, logs


def copy_run(config: Path, logs: Path, dest: Path) -> tuple[Path, Path]:
    """Copy a run's config folder (events included) and journals into `dest`."""
    shutil.copytree(config.parent, dest, ignore=shutil.ignore_patterns("logs"))
    shutil.copytree(logs, dest / "logs")
    return dest / config.name, dest / "logs"


def settings_for(config: Path, logs: Path, token: str | None = TOKEN) -> WebSettings:
    """Return web settings over a config and a log folder (data and edits in its folder)."""
    cfg = load_config(config, strategy_config_models())
    return WebSettings(
        config_path=config.resolve(),
        config=cfg,
        log_root=logs,
        data_dir=logs / "_web",
        edits_dir=config.resolve().parent,
        token=Token(token) if token else None,
        poll_seconds=0.2,
    )


def app_for(settings: WebSettings) -> FastAPI:
    """Return the web app over `settings` with the bundled strategies."""
    return create_app(settings, dict(load()))


def client_for(settings: WebSettings) -> TestClient:
    """Return a TestClient that talks to the app as a browser on this machine would."""
    return TestClient(app_for(settings), base_url="http://127.0.0.1")


def without_token(settings: WebSettings) -> WebSettings:
    """Return the settings with no token (state-changing requests disabled)."""
    return replace(settings, token=None)


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_process(
    config: Path, logs: Path, port: int, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start `seeker serve` on 127.0.0.1:`port` in a subprocess, with the test token."""
    environ = {**os.environ, "SEEKER_WEB_TOKEN": TOKEN, **(env or {})}
    cmd = [sys.executable, "-m", "seeker", "serve", "--port", str(port), "--log-dir", str(logs)]
    if "CONFIG_PATH" not in environ:
        cmd += ["--config", str(config)]
    return subprocess.Popen(
        [*cmd, "--poll", "0.3", *extra],
        cwd=config.parent,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def run_process(config: Path, logs: Path, speed: float) -> subprocess.Popen[str]:
    """Start `seeker run` (all enabled strategies, no dashboard) at `speed` in a subprocess."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seeker",
            "run",
            "--no-dashboard",
            "--config",
            str(config),
            "--log-dir",
            str(logs),
            "--speed",
            str(speed),
        ],
        cwd=config.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_ready(base: str, proc: subprocess.Popen[str], seconds: float = 30.0) -> None:
    """Wait until the server at `base` answers /health (fail with its output if it died)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"seeker serve exited with {proc.returncode}: {out[-3000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"seeker serve did not answer on {base} within {seconds:g} s")


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM, seconds: float = 30.0) -> int:
    """Signal a process we started and return its exit code (killed if it hangs)."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"{proc.args} did not stop within {seconds:g} s") from None
    return int(proc.returncode)
