"""A person's commands to a running Seeker: pause, resume, close, flatten.

:class:`EngineControl` is the control server's handler (``seeker.core.control``). It runs in the
server's thread and returns at once: it checks the command, records it with the account watch
(pauses and flattens take effect at once for entries; closes are queued for the strategy that
holds the position, which acts at its next poll, in its own thread), journals who asked what and
when (a CONTROL line in ``_seeker/control.jsonl``, refused commands too) and answers.

The contract (the web dashboard sends the same)::

    pause    {"strategies": [names]}          empty = every running strategy
    resume   {"strategies": [names]}          empty = everything: every hold and every tripped limit
    close    {"position_id": str, "reason": str}
    flatten  {"strategy": str | null}         null = every strategy

answered ``{"ok": true, "result": {...}}`` or ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from seeker.core.control import (
    ControlError,
    ControlRequest,
    ControlServer,
    JsonValue,
    socket_path_for,
)
from seeker.core.journal import SYSTEM_FOLDER

if TYPE_CHECKING:
    from seeker.engine.manager import StrategyManager
    from seeker.engine.services import Services

log = logging.getLogger(__name__)

COMMANDS = ("pause", "resume", "close", "flatten")
"""The commands a running Seeker takes."""

Result = dict[str, JsonValue]


class Refused(Exception):
    """The command cannot be carried out; the message says why (the answer's error)."""


class EngineControl:
    """Carry out control commands against the running strategies (the server's handler)."""

    def __init__(self, services: Services, manager: StrategyManager) -> None:
        self.services = services
        self.manager = manager
        self._handlers: dict[str, Callable[[Mapping[str, JsonValue], str], Result]] = {
            "pause": self.pause,
            "resume": self.resume,
            "close": self.close,
            "flatten": self.flatten,
        }

    def __call__(self, request: ControlRequest) -> Mapping[str, JsonValue]:
        """Carry out one request, journal it, and return its result; Refused says why not."""
        who = request.user or "?"
        try:
            handler = self._handlers.get(request.command)
            if handler is None:
                raise Refused(f"unknown command {request.command!r} (known: {', '.join(COMMANDS)})")
            result = handler(request.args, who)
        except Refused as exc:
            self._journal(request, ok=False, error=str(exc))
            raise
        self._journal(request, ok=True, result=result)
        return result

    # -- commands ------------------------------------------------------------------------------
    def pause(self, args: Mapping[str, JsonValue], who: str) -> Result:
        """Stop entries of the named strategies (none: all); management goes on."""
        names = self._strategies(args, "pause")
        scope = self.services.account.pause(names, who, str(args.get("reason") or ""))
        self.services.emit(f"control: {who} paused entries of {', '.join(scope)}")
        return {
            "paused": list(scope),
            "note": "no new entry from each strategy's next poll; open positions are still managed",
        }

    def resume(self, args: Mapping[str, JsonValue], who: str) -> Result:
        """Lift the holds of the named strategies, or (none named) every hold and every trip."""
        names = self._strategies(args, "resume")
        account = self.services.account
        events = account.resume(names, self.running(), who)
        reset = [e.limit for e in events]
        still = account.tripped_names()
        what = ", ".join(names) if names else "everything"
        self.services.emit(
            f"control: {who} resumed {what}" + (f"; reset {', '.join(reset)}" if reset else "")
        )
        result: Result = {"resumed": list(names) or ["*"], "reset": list(reset)}
        if still:
            result["still_tripped"] = list(still)
            result["note"] = (
                "account limits stay tripped for every strategy; `seeker resume` with no name "
                "resets them"
            )
        return result

    def close(self, args: Mapping[str, JsonValue], who: str) -> Result:
        """Queue the close of one open position for the strategy that holds it."""
        _only(args, {"position_id", "reason"}, "close")
        pid = args.get("position_id")
        if not isinstance(pid, str) or not pid:
            raise Refused("close needs a position_id (a string such as ic-20260105-001)")
        reason = args.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise Refused("close: reason must be a string")
        owner = self.owner_of(pid)
        if owner is None:
            known = ", ".join(sorted(self.open_positions())) or "none"
            raise Refused(f"no open position {pid!r} (open: {known})")
        self.services.account.request_close(owner, pid, reason or "", who)
        self.services.emit(f"control: {who} asked to close {pid} ({owner})")
        return {
            "position_id": pid,
            "strategy": owner,
            "queued": True,
            "note": "closed at the strategy's next poll, limit orders on the execution ladder",
        }

    def flatten(self, args: Mapping[str, JsonValue], who: str) -> Result:
        """Close every position of one strategy (null: all) and open nothing until resumed."""
        _only(args, {"strategy", "reason"}, "flatten")
        name = args.get("strategy")
        if name is not None and not isinstance(name, str):
            raise Refused("flatten: strategy must be a name or null")
        if name is not None and name not in self.running():
            raise Refused(f"unknown strategy {name!r} (running: {', '.join(self.running())})")
        scope = self.services.account.flatten(name, who, str(args.get("reason") or ""))
        positions = sorted(
            pid for pid, owner in self.open_positions().items() if name is None or owner == name
        )
        self.services.emit(f"control: {who} flattens {name or 'every strategy'}")
        return {
            "scope": scope,
            "positions": list(positions),
            "note": "every position is closed from the next poll (limit orders); no new entry "
            "until `seeker resume`",
        }

    # -- helpers -------------------------------------------------------------------------------
    def running(self) -> list[str]:
        """Return the names of the strategies this process runs."""
        return sorted(self.manager.strategies)

    def open_positions(self) -> dict[str, str]:
        """Return each open position's id and its strategy, as the strategies last published."""
        out: dict[str, str] = {}
        for name, strategy in self.manager.strategies.items():
            view = getattr(strategy, "published", None)
            for pos in getattr(view, "positions", ()) or ():
                out[pos.position_id] = name
        return out

    def owner_of(self, position_id: str) -> str | None:
        """Return the strategy that holds an open position, None when none does."""
        return self.open_positions().get(position_id)

    def _strategies(self, args: Mapping[str, JsonValue], command: str) -> list[str]:
        _only(args, {"strategies", "reason"}, command)
        raw = args.get("strategies", [])
        if raw is None:
            raw = []
        if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
            raise Refused(f"{command}: strategies must be a list of names")
        names = [str(n) for n in raw]
        unknown = [n for n in names if n not in self.running()]
        if unknown:
            raise Refused(
                f"unknown strategy {', '.join(unknown)} (running: {', '.join(self.running())})"
            )
        return list(dict.fromkeys(names))

    def _journal(
        self,
        request: ControlRequest,
        ok: bool,
        result: Result | None = None,
        error: str | None = None,
    ) -> None:
        self.services.journal(SYSTEM_FOLDER).write(
            "CONTROL",
            command=request.command,
            args=dict(request.args),
            user=request.user,
            uid=request.peer_uid,
            pid=request.peer_pid,
            request_id=request.request_id,
            ok=ok,
            result=result,
            error=error,
        )


def _only(args: Mapping[str, JsonValue], allowed: set[str], command: str) -> None:
    extra = sorted(set(args) - allowed)
    if extra:
        raise Refused(f"{command}: unknown argument {', '.join(extra)}")


def start_control(services: Services, manager: StrategyManager) -> ControlServer | None:
    """Serve control commands on the log folder's socket; None (and a warning) if it cannot."""
    path: Path = socket_path_for(services.log_root)
    try:
        return ControlServer(path, EngineControl(services, manager)).start()
    except (ControlError, OSError) as exc:
        log.warning("control channel not started: %s", exc)
        services.emit(f"control: not available ({exc}); pause/resume/close/flatten cannot reach us")
        return None
