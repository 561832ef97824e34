"""Human control from the page: pause, resume, close, flatten — the commands the CLI sends.

Each request is checked here (its arguments, the token) and sent over the local control channel
to the running Seeker (``seeker.core.control.send_command`` on the log folder's socket); the
running process carries it out and journals it. The answer comes back as it was given:
``{"ok": true, "result": …}`` or ``{"ok": false, "error": "…"}``; "Seeker is not running" when
nothing listens (HTTP 503), a refusal by Seeker is HTTP 409, no answer in time HTTP 504.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from seeker.core.control import (
    ControlError,
    ControlNotRunning,
    ControlTimeout,
    JsonValue,
    send_command,
    socket_path_for,
)
from seeker.web.auth import TokenRequired, settings_of

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/control", tags=["control"], dependencies=[TokenRequired])

CONTROL_TIMEOUT_SECONDS = 10.0
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PauseArgs(_Args):
    """Strategies to pause (an empty list pauses them all)."""

    strategies: list[Name]


class ResumeArgs(_Args):
    """Strategies to resume (an empty list resumes them all)."""

    strategies: list[Name]


class CloseArgs(_Args):
    """The position to close and why (journaled by Seeker with the close)."""

    position_id: Name
    reason: Annotated[str, Field(min_length=1, max_length=200)]


class FlattenArgs(_Args):
    """Close every open position of one strategy (null: of every strategy)."""

    strategy: Name | None


def _send(request: Request, command: str, args: dict[str, JsonValue]) -> JSONResponse:
    root = settings_of(request).log_root
    log.info("control: %s %s", command, args)
    try:
        answer = send_command(socket_path_for(root), command, args, CONTROL_TIMEOUT_SECONDS)
    except ControlNotRunning as exc:
        return JSONResponse({"ok": False, "error": f"Seeker is not running: {exc}"}, 503)
    except ControlTimeout as exc:
        return JSONResponse({"ok": False, "error": str(exc)}, 504)
    except ControlError as exc:
        return JSONResponse({"ok": False, "error": str(exc)}, 502)
    if not answer.ok:
        return JSONResponse({"ok": False, "error": answer.error}, 409)
    body: dict[str, Any] = {"ok": True, "result": dict(answer.result or {})}
    return JSONResponse(body, 200)


@router.post("/pause")
def pause(args: PauseArgs, request: Request) -> JSONResponse:
    """Pause strategies (an empty list: all of them); Seeker says what pausing does."""
    return _send(request, "pause", {"strategies": list(args.strategies)})


@router.post("/resume")
def resume(args: ResumeArgs, request: Request) -> JSONResponse:
    """Resume paused strategies."""
    return _send(request, "resume", {"strategies": list(args.strategies)})


@router.post("/close")
def close(args: CloseArgs, request: Request) -> JSONResponse:
    """Close one position (Seeker's execution sends the closing order)."""
    return _send(request, "close", {"position_id": args.position_id, "reason": args.reason})


@router.post("/flatten")
def flatten(args: FlattenArgs, request: Request) -> JSONResponse:
    """Close every open position of a strategy, or of all strategies."""
    return _send(request, "flatten", {"strategy": args.strategy})
