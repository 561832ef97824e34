"""The control buttons' endpoints against a real ControlServer on the log folder's socket."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from seeker.core.control import ControlRequest, ControlServer, JsonValue, socket_path_for
from tests.web.support import AUTH, client_for, settings_for


class Recorder:
    """A stand-in for the running Seeker's handler: records each request, answers or refuses."""

    def __init__(self) -> None:
        self.requests: list[ControlRequest] = []
        self.lock = threading.Lock()

    def __call__(self, request: ControlRequest) -> Mapping[str, JsonValue]:
        with self.lock:
            self.requests.append(request)
        if request.command == "close" and request.args.get("position_id") == "unknown-001":
            raise ValueError("no open position unknown-001")
        return {"command": request.command, "done": True}


@pytest.fixture
def short_logs() -> Iterator[Path]:
    # a Unix socket path must stay under 108 bytes: a short folder of its own
    logs = Path(tempfile.mkdtemp(prefix="sk-web-", dir="/tmp"))
    yield logs
    shutil.rmtree(logs, ignore_errors=True)


@pytest.fixture
def client(journals: tuple[Path, Path], short_logs: Path) -> Iterator[Any]:
    with client_for(settings_for(journals[0], short_logs)) as c:
        yield c


@pytest.fixture
def recorder(short_logs: Path) -> Iterator[Recorder]:
    rec = Recorder()
    with ControlServer(socket_path_for(short_logs), rec, connection_timeout=2.0):
        yield rec


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("pause", {"strategies": ["iron_condor"]}),
        ("pause", {"strategies": []}),
        ("resume", {"strategies": ["iron_condor", "iron_fly"]}),
        ("close", {"position_id": "ic-20260106-001", "reason": "closed from the web page"}),
        ("flatten", {"strategy": "iron_fly"}),
        ("flatten", {"strategy": None}),
    ],
)
def test_a_button_sends_its_command_and_returns_the_answer(
    client: Any, recorder: Recorder, command: str, args: dict[str, Any]
) -> None:
    res = client.post(f"/api/control/{command}", json=args, headers=AUTH)
    assert res.status_code == 200, res.text
    assert res.json() == {"ok": True, "result": {"command": command, "done": True}}
    assert len(recorder.requests) == 1
    assert recorder.requests[0].command == command and dict(recorder.requests[0].args) == args


def test_a_refusal_by_seeker_is_a_409_with_its_error(client: Any, recorder: Recorder) -> None:
    args = {"position_id": "unknown-001", "reason": "test"}
    res = client.post("/api/control/close", json=args, headers=AUTH)
    assert res.status_code == 409
    assert res.json()["ok"] is False and "no open position unknown-001" in res.json()["error"]


def test_without_a_running_seeker_the_answer_says_so(client: Any) -> None:
    res = client.post("/api/control/pause", json={"strategies": []}, headers=AUTH)
    assert res.status_code == 503
    assert res.json()["ok"] is False and "Seeker is not running" in res.json()["error"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-000000000"}])
def test_a_control_request_without_the_token_is_a_401_and_never_sent(
    client: Any, recorder: Recorder, headers: dict[str, str]
) -> None:
    for command, args in (("pause", {"strategies": []}), ("flatten", {"strategy": None})):
        assert client.post(f"/api/control/{command}", json=args, headers=headers).status_code == 401
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("command", "args", "field"),
    [
        ("pause", {}, "strategies"),
        ("pause", {"strategies": "iron_condor"}, "strategies"),
        ("close", {"position_id": "x"}, "reason"),
        ("flatten", {"strategy": None, "now": True}, "now"),
        ("pause", {"strategies": ["../etc"]}, "strategies"),
    ],
)
def test_bad_control_arguments_are_a_422_and_never_sent(
    client: Any, recorder: Recorder, command: str, args: dict[str, Any], field: str
) -> None:
    res = client.post(f"/api/control/{command}", json=args, headers=AUTH)
    assert res.status_code == 422
    assert any(field in e["loc"] for e in res.json()["detail"])
    assert recorder.requests == []
