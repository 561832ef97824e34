"""`seeker serve` as a real server: uvicorn on 127.0.0.1, live events, signals, Docker's command."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.web.support import (
    AUTH,
    free_port,
    serve_process,
    stop,
    wait_ready,
)


def first_update(base: str, seconds: float = 15.0) -> dict[str, object]:
    """Return the data of the first `update` event of /events."""
    with httpx.stream("GET", f"{base}/events", timeout=seconds) as res:
        assert res.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in res.iter_lines():
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: ") and event == "update":
                return dict(json.loads(line[len("data: ") :]))
    raise AssertionError("no update event")


@pytest.fixture
def served(journals: tuple[Path, Path]) -> Iterator[tuple[str, Path]]:
    config, logs = journals
    port = free_port()
    proc = serve_process(config, logs, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        yield base, logs
    finally:
        stop(proc)


def test_the_server_answers_on_loopback_and_streams_updates(served: tuple[str, Path]) -> None:
    base, _ = served
    assert httpx.get(f"{base}/health").json()["feature_dim"] == 8
    update = first_update(base)
    assert update["version"] == 1 and update["running"] is False
    assert str(update["clock"]).startswith("20")
    res = httpx.post(
        f"{base}/risk/evaluate",
        json={
            "proposed_risk_pct": 5.0,
            "portfolio_risk_pct": 0.0,
            "sector_risk_pct": 0.0,
            "corr_cluster_risk_pct": 0.0,
            "underlying_risk_pct": 0.0,
        },
    )
    assert res.json()["allowed"] is True
    body = {
        "features": [0.0] * 8,
        "dte": 30,
        "short_delta": 0.1,
        "distance_atr": 2.0,
        "ivr_norm": 0.5,
        "theta_captured": 0.1,
        "event_buffer": 3.0,
        "gamma_risk": 0.0,
    }
    assert httpx.post(f"{base}/decision", json=body).status_code == 401
    assert httpx.post(f"{base}/decision", json=body, headers=AUTH).status_code == 200
    items = httpx.get(f"{base}/history?limit=1").json()["items"]
    assert len(items) == 1 and items[0]["request"] == body


def test_a_new_journal_line_is_an_update_event(served: tuple[str, Path]) -> None:
    base, logs = served
    with httpx.stream("GET", f"{base}/events", timeout=15.0) as res:
        versions = []
        for line in res.iter_lines():
            if line.startswith("data: "):
                versions.append(json.loads(line[len("data: ") :])["version"])
                if len(versions) == 1:
                    with (logs / "_seeker" / "runs.jsonl").open("a") as fh:
                        fh.write('{"event":"RUN","ts":"2030-01-02T10:00:00-05:00","status":"x"}\n')
                else:
                    break
    assert versions == [1, 2]


def test_sigterm_stops_the_server_with_exit_code_0(journals: tuple[Path, Path]) -> None:
    config, logs = journals
    port = free_port()
    proc = serve_process(config, logs, port)
    wait_ready(f"http://127.0.0.1:{port}", proc)
    with httpx.stream("GET", f"http://127.0.0.1:{port}/events", timeout=10.0) as res:
        next(res.iter_lines())  # an open live stream must not hold the shutdown
        assert stop(proc, signal.SIGTERM) == 0
    out = proc.stdout.read() if proc.stdout else ""
    assert "seeker serve: stopped" in out
    assert "test-token" not in out  # the token is never logged
