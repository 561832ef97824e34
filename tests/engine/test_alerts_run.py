"""Alerts end to end: a simulated run posts to a webhook on 127.0.0.1 for a fill, a kill-switch
trip and a strategy error; a dead webhook changes nothing in the trading journals."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from seeker.config.loading import validate_config
from seeker.core.journal import SYSTEM_FOLDER
from seeker.engine.runner import run_strategies
from seeker.engine.wiring import build_sim_services
from seeker.strategies.broken_wing_butterfly.strategy import BrokenWingButterfly
from seeker.strategies.iron_fly.strategy import IronFly
from tests.support import ROOT, shipped, strategy_config_models


class FailingFly(IronFly):
    """The iron fly with a bug: it raises at its first poll (a real strategy error)."""

    def poll_once(self) -> None:
        raise RuntimeError("boom: a bug in the fly")


STRATEGIES = {"broken_wing_butterfly": BrokenWingButterfly, "iron_fly": FailingFly}


class Hook(ThreadingHTTPServer):
    """A webhook on 127.0.0.1 that keeps every JSON body posted to it."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.posts: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server_address[1]}/seeker"


class _Handler(BaseHTTPRequestHandler):
    server: Hook

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.posts.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def dead_url() -> str:
    """Return a webhook URL on a local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"json://127.0.0.1:{port}/seeker"


def run(logs: Path, urls: list[str]) -> list[str]:
    data = shipped()  # the whole universe: the butterflies find their skew
    data["limits"].update(max_drawdown_pct=1.0, daily_loss_pct=100.0)
    data["alerts"].update(urls=urls, timeout_seconds=2.0)
    cfg = validate_config(data, strategy_config_models(), ROOT / "config")
    messages: list[str] = []
    services = build_sim_services(cfg, logs, days=6, emit=messages.append)
    try:
        result = run_strategies(
            services, list(STRATEGIES), tick_seconds=0.05, strategies=STRATEGIES
        )
    finally:
        services.broker.close()
        services.close_journals()
    assert result.states == {"broken_wing_butterfly": "stopped", "iron_fly": "error"}
    return messages


def journals(logs: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(logs)): p.read_bytes()
        for p in sorted(logs.rglob("*.jsonl*"))
        if p.parent.name != SYSTEM_FOLDER or p.name != "control.jsonl"
    }


def test_alerts_reach_a_local_webhook(hook: Hook, tmp_path: Path) -> None:
    run(tmp_path / "logs", [hook.url])
    with hook.lock:
        titles = [p["title"] for p in hook.posts]
        bodies = {p["title"]: p["message"] for p in hook.posts}
        types = {p["title"]: p["type"] for p in hook.posts}
    fills = [t for t in titles if t.startswith("Seeker fill: bw-")]
    assert fills and all(types[t] == "info" for t in fills)
    [trip] = [t for t in titles if t.startswith("Seeker kill switch: drawdown limit")]
    assert "(stop_entries)" in trip and types[trip] == "failure"
    assert "below its peak" in bodies[trip] and "equity" in bodies[trip]
    [error] = [t for t in titles if t == "Seeker strategy error: iron_fly"]
    assert "boom: a bug in the fly" in bodies[error] and types[error] == "failure"
    summaries = [t for t in titles if t.startswith("Seeker daily summary 2026-01-")]
    assert summaries and "drawdown" in bodies[summaries[0]]


def test_a_dead_webhook_changes_nothing_in_the_journals(tmp_path: Path) -> None:
    quiet = tmp_path / "quiet"
    dead = tmp_path / "dead"
    run(quiet, [])
    messages = run(dead, [dead_url()])
    assert journals(dead) == journals(quiet)
    wanted = {"_seeker/account.jsonl", "broken_wing_butterfly/trades.jsonl"}
    assert wanted | {"iron_fly/risk_events.jsonl"} <= set(journals(quiet))
    failures = [m for m in messages if m.startswith("alerts: ")]
    assert failures and all("json://127.0.0.1" in m for m in failures)
