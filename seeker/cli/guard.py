"""What ``seeker run`` and ``seeker replay`` check before they start and say when they end: the
strategies chosen, the folder, the exit code."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from seeker.cli import exit_codes
from seeker.cli.common import err, fail

if TYPE_CHECKING:
    from seeker.config.root import SeekerConfig
    from seeker.engine.folder_lock import FolderLock
    from seeker.engine.runner import RunResult


def chosen_strategies(
    cfg: SeekerConfig, names: Sequence[str] | None, config: Path, registry: Mapping[str, object]
) -> tuple[list[str], list[str]]:
    """Return the strategies to start (default: ``strategies.enabled``) and why each bad one
    cannot start (unknown, not enabled, no table)."""
    from seeker.ui.choices import unknown_name

    chosen = list(dict.fromkeys(names or cfg.strategies.enabled))
    problems = []
    for name in chosen:
        if name not in registry:
            problems.append(unknown_name("strategy", name, registry))
        elif name not in cfg.strategies.enabled:
            problems.append(f"strategy {name!r} is not in strategies.enabled of {config}")
        elif cfg.strategies.table(name) is None:
            problems.append(f"strategies.{name}: required key is missing in {config}")
    if not chosen:
        problems.append("no strategy to run (strategies.enabled is empty)")
    return chosen, problems


def claim_log_folder(root: Path) -> FolderLock:
    """Check the log folder is writable and take its lock; fail with exit 2 otherwise."""
    from seeker.engine.folder_lock import FolderLock, FolderLocked, writable_problem

    problem = writable_problem(root)
    if problem:
        fail([problem])
    lock = FolderLock(root)
    try:
        lock.acquire()
    except FolderLocked as exc:
        fail([f"{exc}; stop it first, or use another --log-dir"])
    except OSError as exc:
        fail([f"cannot lock the log folder {root}: {exc}"])
    return lock


def run_exit_code(result: RunResult, faults: Sequence[str]) -> int:
    """Say on stderr what went wrong, and return the exit code of a run that ended."""
    errors = [n for n, s in result.states.items() if s == "error"]
    code = exit_codes.OK
    if not result.stopped_cleanly:
        code = exit_codes.UNREACHABLE
    if errors and not faults:
        _warn(f"strategies that failed: {', '.join(errors)} (see their risk_events.jsonl)")
        code = exit_codes.STRATEGY_ERROR
    if faults:
        _warn(
            f"trading stopped: {faults[0]}; no new order was sent after it and working entries "
            "were cancelled; the next start journals what the broker did meanwhile"
        )
        code = exit_codes.WRITE_FAILED
    return code


def _warn(text: str) -> None:
    with contextlib.suppress(OSError):
        err.print(f"[bold red]seeker[/]: {text}", highlight=False, soft_wrap=True)
