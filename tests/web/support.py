"""Helpers of the web tests: journals of a short real run, settings, a client, a free port."""

from __future__ import annotations

import shutil
import socket
from dataclasses import replace
from pathlib import Path

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


def make_journals(folder: Path) -> tuple[Path, Path]:
    """Run the five strategies for a few simulated sessions; return (config, log root)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(folder, small(shipped()))
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
