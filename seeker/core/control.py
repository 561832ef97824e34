"""A local control channel: a running Seeker takes commands from the same user over a Unix socket.

Transport only, no trading knowledge. :class:`ControlServer` listens on a Unix domain socket in the
log folder (mode 0600; on Linux the peer's uid is checked with ``SO_PEERCRED`` and other users are
refused) in one daemon thread. Each connection carries one request line and gets one answer line,
both a JSON object (see :mod:`seeker.core.control_wire`).

:func:`send_command` is the client side.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import math
import os
import pwd
import socket
import stat
import struct
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol

from seeker.core.control_wire import (
    MAX_LINE_BYTES,
    ControlAnswer,
    ControlError,
    ControlRequest,
    ControlTimeout,
    JsonValue,
    encode_line,
    error_line,
    parse_answer,
    parse_request,
    read_line,
    send_line,
)

log = logging.getLogger(__name__)

__all__ = [
    "MAX_LINE_BYTES",
    "MAX_SOCKET_PATH_BYTES",
    "SOCKET_NAME",
    "ControlAlreadyRunning",
    "ControlAnswer",
    "ControlError",
    "ControlHandler",
    "ControlNotRunning",
    "ControlRequest",
    "ControlServer",
    "ControlTimeout",
    "JsonValue",
    "check_socket_path",
    "parse_answer",
    "parse_request",
    "send_command",
    "socket_path_for",
]

SOCKET_NAME = "control.sock"
"""The control socket's file name in the log folder."""

MAX_SOCKET_PATH_BYTES = 107
"""Longest Unix socket path Linux accepts (``sun_path`` is 108 bytes with its final NUL)."""


class ControlNotRunning(ControlError):
    """Nothing listens on the control socket: Seeker is not running in that log folder."""


class ControlAlreadyRunning(ControlError):
    """A live server already answers on the control socket."""


class ControlHandler(Protocol):
    """Carry out one request and return its result (JSON values); raise to answer an error.

    Called in the server's thread, one request at a time: return within a second or two.
    """

    def __call__(self, request: ControlRequest) -> Mapping[str, JsonValue]: ...


def socket_path_for(log_dir: Path) -> Path:
    """Return the control socket's path for a log folder."""
    return log_dir / SOCKET_NAME


def check_socket_path(path: Path) -> None:
    """Raise ControlError if `path` is too long for a Unix socket."""
    size = len(os.fsencode(path))
    if size > MAX_SOCKET_PATH_BYTES:
        raise ControlError(
            f"control socket path is {size} bytes, longer than the {MAX_SOCKET_PATH_BYTES} a Unix "
            f"socket path may have: {path} (use a shorter log folder, or a relative one)"
        )


class ControlServer:
    """Serve control requests on a Unix socket from one daemon thread (start, then close)."""

    def __init__(
        self,
        socket_path: Path,
        handler: ControlHandler,
        *,
        connection_timeout: float = 5.0,
        poll_seconds: float = 0.2,
        allowed_uid: int | None = None,
    ) -> None:
        """Prepare a server (nothing is bound before :meth:`start`).

        `connection_timeout`: seconds a client has to send its line and receive its answer;
        `poll_seconds`: how often the accept loop checks for close; `allowed_uid`: the only uid
        that may send commands (this process's by default).
        """
        check_socket_path(socket_path)
        for name, seconds in (("connection_timeout", connection_timeout), ("poll", poll_seconds)):
            if not (math.isfinite(seconds) and seconds > 0):
                raise ValueError(f"{name} must be a finite number of seconds > 0, got {seconds}")
        self.path = socket_path
        self._handler = handler
        self._conn_timeout = connection_timeout
        self._poll = poll_seconds
        self._allowed_uid = os.getuid() if allowed_uid is None else allowed_uid
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._identity: tuple[int, int] | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ControlServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        """Return whether the server thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> ControlServer:
        """Bind the socket (removing a stale one) and start serving; ControlAlreadyRunning if a
        live server answers on the path."""
        if self._thread is not None:
            raise ControlError("this control server was already started")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _locked_dir(self.path.parent):
            _remove_stale(self.path)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                old_umask = os.umask(0o177)
                try:
                    sock.bind(os.fspath(self.path))
                finally:
                    os.umask(old_umask)
                os.chmod(self.path, 0o600)
                sock.listen(16)
                sock.settimeout(self._poll)
                st = os.stat(self.path)
            except BaseException:
                sock.close()
                raise
        self._sock = sock
        self._identity = (st.st_dev, st.st_ino)
        self._thread = threading.Thread(target=self._serve, name="seeker-control", daemon=True)
        self._thread.start()
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread (within about `timeout` s) and remove the socket file if still ours."""
        self._stop.set()
        if self._thread is not None:
            self._wake_accept()
            self._thread.join(timeout)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._identity is not None:
            with contextlib.suppress(FileNotFoundError):
                st = os.stat(self.path)
                if (st.st_dev, st.st_ino) == self._identity:
                    os.unlink(self.path)
            self._identity = None

    def _wake_accept(self) -> None:
        """Connect once to our own socket so that a waiting accept returns now, not at its next
        poll (up to `poll_seconds` at every close: the end of every run); it then sees the stop.

        Only while the path is still our socket (never another Seeker's); quietly, since the
        poll ends the wait anyway.
        """
        try:
            st = os.stat(self.path)
            if (st.st_dev, st.st_ino) != self._identity:
                return
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.settimeout(self._poll)
                probe.connect(os.fspath(self.path))
        except OSError:
            return

    def _serve(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                log.exception("control socket %s: accept failed", self.path)
                self._stop.wait(self._poll)
                continue
            with conn:
                if self._stop.is_set():  # the wake-up of close(), or a late client: no answer
                    return
                try:
                    self._serve_one(conn)
                except Exception:  # one bad connection must never end the server
                    log.exception("control socket %s: a connection failed", self.path)

    def _serve_one(self, conn: socket.socket) -> None:
        deadline = time.monotonic() + self._conn_timeout
        pid, uid = _peer(conn)
        if uid is not None and uid != self._allowed_uid:
            log.warning("control socket %s: refused uid %d (pid %s)", self.path, uid, pid)
            send_line(conn, error_line(f"refused: uid {uid} may not control this Seeker"))
            return
        try:
            line = read_line(conn, deadline)
        except ControlTimeout:
            send_line(conn, error_line("no complete request line in time"), deadline)
            return
        except ControlError as exc:
            send_line(conn, error_line(str(exc)), deadline)
            return
        try:
            request = parse_request(line, peer_pid=pid, peer_uid=uid)
        except ValueError as exc:
            send_line(conn, error_line(f"malformed request: {exc}"), deadline)
            return
        send_line(conn, self._handle(request), time.monotonic() + self._conn_timeout)

    def _handle(self, request: ControlRequest) -> bytes:
        try:
            result = self._handler(request)
        except Exception as exc:
            log.exception("control command %r failed", request.command)
            return error_line(f"{type(exc).__name__}: {exc}", request.request_id)
        if not isinstance(result, Mapping):
            error = f"the handler returned a {type(result).__name__}, not a mapping"
            return error_line(error, request.request_id)
        try:
            return encode_line(
                {"ok": True, "result": dict(result), "request_id": request.request_id}
            )
        except (TypeError, ValueError) as exc:
            error = f"the handler's result is not JSON: {exc}"
            return error_line(error, request.request_id)


def send_command(
    socket_path: Path,
    command: str,
    args: Mapping[str, JsonValue] | None = None,
    timeout: float = 5.0,
) -> ControlAnswer:
    """Send one command to the Seeker listening on `socket_path` and return its answer.

    Raise ControlNotRunning when nothing listens, ControlTimeout when no answer comes within
    `timeout` seconds, ControlError for anything else; ValueError if `args` are not JSON values.
    """
    check_socket_path(socket_path)
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a finite number of seconds > 0, got {timeout}")
    where = socket_path.parent
    request = {
        "command": command,
        "args": dict(args or {}),
        "request_id": uuid.uuid4().hex,
        "user": _user_name(),
    }
    line = encode_line(request)
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(os.fspath(socket_path))
        except (FileNotFoundError, ConnectionRefusedError):
            raise ControlNotRunning(
                f"Seeker is not running in {where}: nothing listens on {socket_path}"
            ) from None
        except PermissionError:
            raise ControlError(f"cannot use {socket_path}: permission denied") from None
        except (TimeoutError, BlockingIOError):
            raise ControlTimeout(f"Seeker in {where} is too busy to accept {command!r}") from None
        send_line(sock, line, deadline)
        try:
            raw = read_line(sock, deadline)
        except ControlTimeout:
            raise ControlTimeout(
                f"Seeker in {where} did not answer {command!r} within {timeout:g} s"
            ) from None
    return parse_answer(raw)


def _peer(conn: socket.socket) -> tuple[int | None, int | None]:
    """Return the peer's pid and uid (Linux ``SO_PEERCRED``), or (None, None) elsewhere."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None, None
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _gid = struct.unpack("3i", creds)
    return pid, uid


def _remove_stale(path: Path) -> None:
    """Remove a socket file nobody answers on; raise if a live server answers or it is no socket."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise ControlError(f"{path} exists and is not a socket; not replacing it")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(os.fspath(path))
        except ConnectionRefusedError:
            log.warning("removing stale control socket %s (left by a run that ended)", path)
            os.unlink(path)
            return
        except (TimeoutError, BlockingIOError):
            pass  # a live server with a full backlog
        except OSError as exc:
            raise ControlError(f"cannot probe {path}: {exc.strerror or exc}") from None
    raise ControlAlreadyRunning(
        f"Seeker is already running in {path.parent}: a live server answers on {path}"
    )


@contextlib.contextmanager
def _locked_dir(folder: Path, wait_seconds: float = 5.0) -> Iterator[None]:
    """Hold an exclusive flock on `folder` so two starting servers never race on one path."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ControlError(
                        f"another Seeker has been starting in {folder} for {wait_seconds:g} s"
                    ) from None
                time.sleep(0.05)
            except OSError as exc:  # a file system without locks: go on unlocked
                if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                break
        yield
    finally:
        os.close(fd)


def _user_name() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())
