"""The control channel's wire format: one JSON object per line, each way.

request  {"command": "pause", "args": {"strategies": ["iron_condor"]},
          "request_id": "3f2a…", "user": "alice"}
answer   {"ok": true, "result": {…}, "request_id": "3f2a…"}
         {"ok": false, "error": "…", "request_id": "3f2a…"}
"""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

log = logging.getLogger(__name__)

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"

MAX_LINE_BYTES = 64 * 1024
"""Longest request or answer line, newline included."""

_COMMAND = re.compile(r"[a-z][a-z0-9_-]{0,63}")
_REQUEST_KEYS = frozenset({"command", "args", "request_id", "user"})


class ControlError(Exception):
    """The control channel cannot be used; the message says why."""


class ControlTimeout(ControlError):
    """The server did not answer in time."""


@dataclass(frozen=True)
class ControlRequest:
    """One validated command; `peer_pid` / `peer_uid` come from the kernel (None off Linux)."""

    command: str
    args: Mapping[str, JsonValue]
    request_id: str
    user: str
    peer_pid: int | None = None
    peer_uid: int | None = None


@dataclass(frozen=True)
class ControlAnswer:
    """The server's answer: `result` when ok, `error` when not."""

    ok: bool
    result: Mapping[str, JsonValue] | None
    error: str | None
    request_id: str | None


def parse_request(
    line: bytes, peer_pid: int | None = None, peer_uid: int | None = None
) -> ControlRequest:
    """Return the request a line holds; ValueError naming what is wrong."""
    obj = _decode_object(line)
    missing = sorted(_REQUEST_KEYS - obj.keys())
    unknown = sorted(obj.keys() - _REQUEST_KEYS)
    if missing or unknown:
        parts = [f"missing {', '.join(missing)}" if missing else ""]
        parts.append(f"unknown {', '.join(unknown)}" if unknown else "")
        raise ValueError("; ".join(p for p in parts if p))
    command, args, request_id, user = (obj[k] for k in ("command", "args", "request_id", "user"))
    if not isinstance(command, str) or not _COMMAND.fullmatch(command):
        raise ValueError("command must be a lower-case word (letters, digits, _ and -)")
    if not isinstance(args, dict):
        raise ValueError("args must be an object")
    if not isinstance(request_id, str) or not 0 < len(request_id) <= 128:
        raise ValueError("request_id must be a string of 1 to 128 characters")
    if not isinstance(user, str) or len(user) > 128:
        raise ValueError("user must be a string of at most 128 characters")
    return ControlRequest(command, args, request_id, user, peer_pid, peer_uid)


def parse_answer(line: bytes) -> ControlAnswer:
    """Return the answer a line holds; ControlError if it is not one."""
    try:
        obj = _decode_object(line)
    except ValueError as exc:
        raise ControlError(f"malformed answer from Seeker: {exc}") from None
    ok, request_id = obj.get("ok"), obj.get("request_id")
    if not isinstance(ok, bool) or not isinstance(request_id, (str, type(None))):
        raise ControlError("malformed answer from Seeker: no boolean 'ok'")
    result, error = obj.get("result"), obj.get("error")
    if ok and not isinstance(result, dict):
        raise ControlError("malformed answer from Seeker: ok without a result object")
    if not ok and not isinstance(error, str):
        raise ControlError("malformed answer from Seeker: not ok and no error text")
    return ControlAnswer(ok, result if ok else None, None if ok else error, request_id)


def _decode_object(line: bytes) -> dict[str, JsonValue]:
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"a JSON {type(obj).__name__}, not an object")
    return obj


def encode_line(obj: Mapping[str, JsonValue]) -> bytes:
    """Return `obj` as one compact JSON line; ValueError if it is not JSON (NaN too) or too long."""
    data = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    if len(data) >= MAX_LINE_BYTES:
        raise ValueError(f"line of {len(data)} bytes exceeds {MAX_LINE_BYTES}")
    return data + b"\n"


def error_line(error: str, request_id: str | None = None) -> bytes:
    """Return the answer line of a request that failed (the error cut to 2 000 characters)."""
    return encode_line({"ok": False, "error": error[:2000], "request_id": request_id})


def read_line(sock: socket.socket, deadline: float) -> bytes:
    """Return one line (without its newline) read before `deadline` (time.monotonic())."""
    buf = bytearray()
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ControlTimeout("timed out")
        sock.settimeout(left)
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            raise ControlTimeout("timed out") from None
        if not chunk:
            raise ControlError("connection closed before a complete line")
        buf += chunk
        if len(buf) > MAX_LINE_BYTES and b"\n" not in buf[:MAX_LINE_BYTES]:
            raise ControlError(f"line longer than {MAX_LINE_BYTES} bytes")
    return bytes(buf[: buf.index(b"\n")])


def send_line(sock: socket.socket, data: bytes, deadline: float | None = None) -> None:
    """Send a line before `deadline` (time.monotonic(); 2 s without one); a peer that hung up is
    not an error (it no longer wants the answer)."""
    sock.settimeout(max(0.001, deadline - time.monotonic()) if deadline is not None else 2.0)
    try:
        sock.sendall(data)
    except TimeoutError:
        raise ControlTimeout("timed out while sending") from None
    except (BrokenPipeError, ConnectionResetError):
        log.debug("control peer hung up before the line was sent")
