"""``seeker pause / resume / close / flatten``: a person's commands to the running Seeker.

Each command goes over the control socket in the log folder (``control.sock``, this user only) to
the Seeker that runs there, which journals it (``_seeker/control.jsonl``) and answers at once; the
strategies act at their next poll. Exit codes: 0 done, 1 no Seeker runs in that folder (or it did
not answer), 2 the command was refused (an unknown strategy or position…) or cancelled.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from seeker.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    LogDirOption,
    console,
    fail,
    load_checked_config,
    log_root,
)

if (
    TYPE_CHECKING
):  # the socket client is imported by the command that sends (`seeker list` starts fast)
    from seeker.core.control import ControlAnswer, JsonValue

TimeoutOption = Annotated[
    float,
    typer.Option("--timeout", min=0.1, max=60.0, help="Seconds to wait for Seeker's answer."),
]
StrategiesArgument = Annotated[
    list[str] | None, typer.Argument(help="Strategies (default: every running strategy).")
]


def _send(
    config: Path,
    log_dir: Path | None,
    command: str,
    args: dict[str, JsonValue],
    timeout: float,
) -> ControlAnswer:
    """Send one command to the Seeker of the log folder; fail with exit 1 or 2 when it cannot."""
    from seeker.core.control import ControlError, ControlNotRunning, send_command, socket_path_for

    root = log_dir if log_dir is not None else log_root(load_checked_config(config), None)
    try:
        answer = send_command(socket_path_for(root), command, args, timeout)
    except ControlNotRunning as exc:
        fail([str(exc)], code=1)
    except ControlError as exc:
        fail([f"{command}: {exc}"], code=1)
    if not answer.ok:
        fail([f"{command} refused: {_clean(answer.error or '?')}"], code=2)
    return answer


def _clean(error: str) -> str:
    """Return Seeker's error without the exception's class name the server puts first."""
    head, sep, rest = error.partition(": ")
    return rest if sep and head.isidentifier() else error


def _names(values: JsonValue) -> str:
    return ", ".join(str(v) for v in values) if isinstance(values, list) and values else "none"


def pause(
    strategies: StrategiesArgument = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (journaled).")] = "",
    config: ConfigOption = DEFAULT_CONFIG,
    log_dir: LogDirOption = None,
    timeout: TimeoutOption = 5.0,
) -> None:
    """Stop new entries of running strategies (all by default); open positions stay managed."""
    args: dict[str, JsonValue] = {"strategies": list(strategies or []), "reason": reason}
    result = _send(config, log_dir, "pause", args, timeout).result or {}
    console.print(f"paused: {_names(result.get('paused'))} — {result.get('note', '')}")


def resume(
    strategies: StrategiesArgument = None,
    config: ConfigOption = DEFAULT_CONFIG,
    log_dir: LogDirOption = None,
    timeout: TimeoutOption = 5.0,
) -> None:
    """Resume the named strategies' entries; with no name, lift every pause, flatten and limit."""
    args: dict[str, JsonValue] = {"strategies": list(strategies or [])}
    result = _send(config, log_dir, "resume", args, timeout).result or {}
    console.print(
        f"resumed: {_names(result.get('resumed'))}; limits reset: {_names(result.get('reset'))}"
    )
    if result.get("still_tripped"):
        console.print(
            f"[yellow]still tripped[/]: {_names(result.get('still_tripped'))} — "
            f"{result.get('note', '')}"
        )


def close(
    position_id: Annotated[str, typer.Argument(help="Position id, e.g. ic-20260107-001.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (journaled).")] = "",
    config: ConfigOption = DEFAULT_CONFIG,
    log_dir: LogDirOption = None,
    timeout: TimeoutOption = 5.0,
) -> None:
    """Close one open position at its strategy's next poll (limit orders, mid toward natural)."""
    args: dict[str, JsonValue] = {"position_id": position_id, "reason": reason}
    result = _send(config, log_dir, "close", args, timeout).result or {}
    console.print(
        f"closing {result.get('position_id')} ({result.get('strategy')}): {result.get('note', '')}"
    )


def flatten(
    strategy: Annotated[
        str | None, typer.Option("--strategy", "-s", help="Only this strategy (default: all).")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why (journaled).")] = "",
    config: ConfigOption = DEFAULT_CONFIG,
    log_dir: LogDirOption = None,
    timeout: TimeoutOption = 5.0,
) -> None:
    """Close every position (of one strategy, or all) and open nothing until `seeker resume`."""
    what = f"every position of {strategy}" if strategy else "every position of every strategy"
    if not yes:
        try:
            sure = typer.confirm(f"Close {what} and stop entries until `seeker resume`?")
        except typer.Abort:
            sure = False
        if not sure:
            fail(["flatten cancelled (nothing sent); --yes skips the question"], code=2)
    args: dict[str, JsonValue] = {"strategy": strategy, "reason": reason}
    result = _send(config, log_dir, "flatten", args, timeout).result or {}
    console.print(
        f"flattening {result.get('scope')}: positions {_names(result.get('positions'))} — "
        f"{result.get('note', '')}"
    )
