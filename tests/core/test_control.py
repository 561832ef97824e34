"""Control channel: real Unix sockets, real threads, a server in another process; a bad request,
a failing handler or a silent client never ends the server, and every wait is bounded."""

from __future__ import annotations

import json
import os
import pwd
import select
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seeker.core.control import (
    MAX_LINE_BYTES,
    ControlAlreadyRunning,
    ControlError,
    ControlNotRunning,
    ControlRequest,
    ControlServer,
    ControlTimeout,
    JsonValue,
    send_command,
    socket_path_for,
)

WAIT = 10.0
"""Longest any step of these tests waits for the other side."""


@pytest.fixture
def log_dir() -> Iterator[Path]:
    """A short folder under /tmp (a Unix socket path may not exceed 107 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="skc", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


class Recorder:
    """A handler that records requests: echo answers, boom raises, others return odd results."""

    def __init__(self) -> None:
        self.requests: list[ControlRequest] = []

    def __call__(self, request: ControlRequest) -> Mapping[str, JsonValue]:
        self.requests.append(request)
        if request.command == "boom":
            raise RuntimeError("the engine said no")
        if request.command == "not-json":
            return {"when": object()}  # type: ignore[dict-item]
        if request.command == "nan":
            return {"x": float("nan")}
        if request.command == "list":
            return ["not", "a", "mapping"]  # type: ignore[return-value]
        return {"command": request.command, "args": dict(request.args)}


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def server(log_dir: Path, recorder: Recorder) -> Iterator[ControlServer]:
    srv = ControlServer(socket_path_for(log_dir), recorder, connection_timeout=0.5).start()
    yield srv
    srv.close()


def exchange(path: Path, data: bytes) -> dict[str, object]:
    """Send raw bytes and return the server's answer line as JSON."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(WAIT)
        sock.connect(os.fspath(path))
        sock.sendall(data)
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf)


def test_a_command_round_trips_with_who_sent_it(server: ControlServer, recorder: Recorder) -> None:
    answer = send_command(server.path, "pause", {"strategies": ["iron_condor"]}, timeout=WAIT)
    assert answer.ok and answer.error is None
    assert answer.result == {"command": "pause", "args": {"strategies": ["iron_condor"]}}
    (request,) = recorder.requests
    assert request.request_id == answer.request_id and len(request.request_id) == 32
    assert request.user == pwd.getpwuid(os.getuid()).pw_name
    if hasattr(socket, "SO_PEERCRED"):
        assert (request.peer_pid, request.peer_uid) == (os.getpid(), os.getuid())


def test_the_socket_is_private_to_the_user(server: ControlServer) -> None:
    st_ = os.stat(server.path)
    assert stat.S_ISSOCK(st_.st_mode)
    assert stat.S_IMODE(st_.st_mode) == 0o600
    assert st_.st_uid == os.getuid()


@pytest.mark.skipif(not hasattr(socket, "SO_PEERCRED"), reason="SO_PEERCRED is Linux only")
def test_another_uid_is_refused_and_the_handler_never_called(
    log_dir: Path, recorder: Recorder
) -> None:
    path = socket_path_for(log_dir)
    with ControlServer(path, recorder, allowed_uid=os.getuid() + 1):
        answer = send_command(path, "flatten", {}, timeout=WAIT)
    assert not answer.ok and answer.error is not None
    assert answer.error.startswith(f"refused: uid {os.getuid()} may not control")
    assert recorder.requests == []


def test_a_handler_exception_is_an_error_answer_and_the_server_goes_on(
    server: ControlServer,
) -> None:
    answer = send_command(server.path, "boom", {}, timeout=WAIT)
    assert (answer.ok, answer.result) == (False, None)
    assert answer.error == "RuntimeError: the engine said no"
    for command, error in [
        ("not-json", "the handler's result is not JSON"),
        ("nan", "the handler's result is not JSON"),
        ("list", "the handler returned a list, not a mapping"),
    ]:
        bad = send_command(server.path, command, {}, timeout=WAIT)
        assert not bad.ok and bad.error is not None and bad.error.startswith(error)
    assert send_command(server.path, "resume", {}, timeout=WAIT).ok


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b"pause everything\n", "malformed request: not JSON"),
        (b"[1, 2]\n", "malformed request: a JSON list, not an object"),
        (b'{"command": "pause"}\n', "malformed request: missing args, request_id, user"),
        (
            b'{"command": "pause", "args": {}, "request_id": "r", "user": "u", "sudo": true}\n',
            "malformed request: unknown sudo",
        ),
        (
            b'{"command": "Pause!", "args": {}, "request_id": "r", "user": "u"}\n',
            "malformed request: command must be a lower-case word",
        ),
        (
            b'{"command": "pause", "args": [], "request_id": "r", "user": "u"}\n',
            "malformed request: args must be an object",
        ),
        (
            b'{"command": "pause", "args": {}, "request_id": "", "user": "u"}\n',
            "malformed request: request_id must be a string of 1 to 128",
        ),
        (b"\xff\xfe\n", "malformed request: not JSON"),
        (b"x" * (MAX_LINE_BYTES + 10), f"line longer than {MAX_LINE_BYTES} bytes"),
    ],
)
def test_a_malformed_request_gets_an_error_and_the_server_goes_on(
    server: ControlServer, recorder: Recorder, line: bytes, error: str
) -> None:
    answer = exchange(server.path, line)
    assert answer["ok"] is False and str(answer["error"]).startswith(error)
    assert recorder.requests == []
    assert send_command(server.path, "resume", {}, timeout=WAIT).ok


def test_a_silent_client_is_dropped_and_the_next_one_served(server: ControlServer) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.settimeout(WAIT)
        silent.connect(os.fspath(server.path))
        # queued behind the silent client: served once the server gives up on it
        assert send_command(server.path, "resume", {}, timeout=WAIT).ok
        answer = json.loads(silent.recv(4096))
    assert answer == {"ok": False, "error": "no complete request line in time", "request_id": None}


def test_a_second_server_on_the_same_path_is_refused(
    server: ControlServer, recorder: Recorder
) -> None:
    with pytest.raises(ControlAlreadyRunning, match="Seeker is already running in /tmp/skc"):
        ControlServer(server.path, recorder).start()
    assert send_command(server.path, "resume", {}, timeout=WAIT).ok  # the first is untouched


def test_a_stale_socket_file_is_removed_at_start(log_dir: Path, recorder: Recorder) -> None:
    path = socket_path_for(log_dir)
    crashed = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    crashed.bind(os.fspath(path))
    crashed.close()  # the file stays, nobody listens on it
    assert stat.S_ISSOCK(os.lstat(path).st_mode)
    with pytest.raises(ControlNotRunning):
        send_command(path, "resume", {}, timeout=WAIT)
    with ControlServer(path, recorder):
        assert send_command(path, "resume", {}, timeout=WAIT).ok


def test_a_file_that_is_not_a_socket_is_never_replaced(log_dir: Path, recorder: Recorder) -> None:
    path = socket_path_for(log_dir)
    path.write_text("keep me")
    with pytest.raises(ControlError, match="exists and is not a socket"):
        ControlServer(path, recorder).start()
    assert path.read_text() == "keep me"


def test_close_stops_the_thread_and_removes_only_its_own_socket(
    log_dir: Path, recorder: Recorder
) -> None:
    path = socket_path_for(log_dir)
    first = ControlServer(path, recorder).start()
    os.unlink(path)  # someone removed it; a new server takes the path
    second = ControlServer(path, recorder).start()
    first.close()
    assert not first.running and path.exists()
    assert send_command(path, "resume", {}, timeout=WAIT).ok
    second.close()
    assert not second.running and not path.exists()
    with pytest.raises(ControlNotRunning, match=f"Seeker is not running in {log_dir}"):
        send_command(path, "resume", {}, timeout=WAIT)


def test_close_wakes_the_waiting_accept_instead_of_waiting_for_its_poll(
    log_dir: Path, recorder: Recorder
) -> None:
    """close() ends the thread now, whatever `poll_seconds` (every run ends with a close): with a
    10-minute poll, a close that only waited for the poll would find the thread alive."""
    srv = ControlServer(socket_path_for(log_dir), recorder, poll_seconds=600.0).start()
    assert send_command(srv.path, "resume", {}, timeout=WAIT).ok  # served; accept waits again
    srv.close(timeout=WAIT)
    assert not srv.running and not srv.path.exists()
    assert [r.command for r in recorder.requests] == ["resume"]  # the wake-up is no command


def test_a_server_that_never_answers_times_the_client_out(log_dir: Path) -> None:
    path = socket_path_for(log_dir)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as mute:
        mute.bind(os.fspath(path))
        mute.listen(1)  # connections queue, nobody accepts nor answers
        with pytest.raises(ControlTimeout, match=r"did not answer 'pause' within 0\.3 s"):
            send_command(path, "pause", {}, timeout=0.3)


def test_a_path_too_long_for_a_unix_socket_is_refused(recorder: Recorder) -> None:
    path = Path("/tmp") / ("x" * 100) / "control.sock"
    with pytest.raises(ControlError, match="longer than the 107 a Unix socket path may have"):
        ControlServer(path, recorder)
    with pytest.raises(ControlError, match="longer than the 107"):
        send_command(path, "resume", {}, timeout=WAIT)


SERVER_SCRIPT = """
import os, sys
from pathlib import Path
from seeker.core.control import ControlServer
server = ControlServer(Path(sys.argv[1]), lambda r: {"pid": os.getpid(), "command": r.command})
server.start()
print("ready", flush=True)
sys.stdin.read()  # serve until the test closes stdin or kills this process
server.close()
"""


def start_server_process(path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER_SCRIPT, os.fspath(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 30.0)
    assert ready and proc.stdout.readline().strip() == "ready"
    return proc


def test_commands_reach_another_process_and_its_crash_leaves_a_stale_socket(
    log_dir: Path, recorder: Recorder
) -> None:
    path = socket_path_for(log_dir)
    proc = start_server_process(path)
    try:
        answer = send_command(path, "flatten", {"strategy": "iron_condor"}, timeout=WAIT)
        assert answer.ok and answer.result == {"pid": proc.pid, "command": "flatten"}
        with pytest.raises(ControlAlreadyRunning):
            ControlServer(path, recorder).start()
        proc.kill()  # a crash: no close(), the socket file stays
        proc.wait(timeout=WAIT)
    finally:
        proc.kill()
        proc.wait(timeout=WAIT)
    assert stat.S_ISSOCK(os.lstat(path).st_mode)
    with pytest.raises(ControlNotRunning):
        send_command(path, "resume", {}, timeout=WAIT)
    with ControlServer(path, recorder):
        assert send_command(path, "resume", {}, timeout=WAIT).ok
    assert [r.command for r in recorder.requests] == ["resume"]


def test_another_process_that_closes_removes_its_socket(log_dir: Path) -> None:
    path = socket_path_for(log_dir)
    proc = start_server_process(path)
    try:
        assert send_command(path, "resume", {}, timeout=WAIT).ok
        assert proc.stdin is not None
        proc.stdin.close()
        assert proc.wait(timeout=WAIT) == 0
    finally:
        proc.kill()
        proc.wait(timeout=WAIT)
    assert not path.exists()


def test_concurrent_clients_all_get_their_own_answer(server: ControlServer) -> None:
    answers: dict[int, object] = {}

    def client(i: int) -> None:
        answers[i] = send_command(server.path, "echo", {"i": i}, timeout=WAIT).result

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert answers == {i: {"command": "echo", "args": {"i": i}} for i in range(8)}


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(args=st.dictionaries(st.text(max_size=10), json_values, max_size=5))
def test_any_json_args_arrive_unchanged(server: ControlServer, args: dict[str, JsonValue]) -> None:
    answer = send_command(server.path, "echo", args, timeout=WAIT)
    assert answer.ok and answer.result == {"command": "echo", "args": args}
