"""Run strategies until Ctrl+C / SIGTERM or the end of a ``--days`` run, then stop cleanly."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType
from typing import Any

from seeker.core.journal import SYSTEM_FOLDER, JournalWriteError
from seeker.engine.alerting import start_alerts
from seeker.engine.control import start_control
from seeker.engine.lifecycle import Strategy
from seeker.engine.manager import StrategyManager
from seeker.engine.recovery import recover_at_start
from seeker.engine.services import Services
from seeker.engine.status import write_status

STOP_TIMEOUT_SECONDS = 8.0
"""How long strategies get to finish their step and wind down (the process exits within 10 s)."""
ALERTS_CLOSE_SECONDS = 1.0
"""How long alerts still queued at the end may take to go out."""


@dataclass
class RunResult:
    """How a run ended."""

    reason: str
    stopped_cleanly: bool
    states: dict[str, str]
    sim_time: datetime
    faults: list[str] = field(default_factory=list)
    """Durable writes that failed (trading stopped because of them)."""
    signalled: str | None = None
    """The first signal (``SIGINT``, ``SIGTERM``) the run received, even one that came when it was
    already ending for another reason (then `reason` names that one)."""


def run_strategies(
    services: Services,
    names: Sequence[str],
    on_tick: Callable[[StrategyManager], None] | None = None,
    tick_seconds: float = 0.25,
    strategies: Mapping[str, type[Strategy]] | None = None,
) -> RunResult:
    """Start the strategies and block until they stop; handle SIGINT and SIGTERM.

    `strategies` is the registry to start them from (default: every registered strategy).
    """
    stop_event = threading.Event()
    manager = StrategyManager(services, strategies, on_all_ended=stop_event.set)
    stop_reason: list[str] = []
    signals: list[str] = []

    def handle(signum: int, _frame: FrameType | None) -> None:
        signals.append(signal.Signals(signum).name)
        if not stop_reason:
            stop_reason.append(signals[-1])
        stop_event.set()
        manager.stop()

    old: dict[int, Any] = {}
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, handle)
    system = services.journal(SYSTEM_FOLDER)
    system.write("RUN", status="started", strategies=list(names), broker=services.broker.kind)
    alerts = start_alerts(services)
    control = None
    try:
        recover_at_start(services)
        services.reconcile("start")
        manager.start(names)
        control = start_control(services, manager)
        _status(services, manager, True, "running")  # at once: `seeker status` after a crash
        last_status = time.monotonic()
        while manager.alive() and not stop_event.is_set():
            stop_event.wait(tick_seconds)
            if on_tick is not None:
                on_tick(manager)
            if services.faults:
                stop_reason.append("a durable write failed")
                break
            if time.monotonic() - last_status > 1.0:
                _status(services, manager, True, "running")
                last_status = time.monotonic()
        if not stop_reason:
            clock = services.clock
            stop_reason.append(
                getattr(clock, "end_reason", "end of the --days run")
                if getattr(clock, "reached_end", False)
                else "strategies ended"
            )
        manager.stop()
        clean = manager.join(STOP_TIMEOUT_SECONDS)
    finally:
        if control is not None:
            control.close()
        if in_main:
            for sig, handler in old.items():
                signal.signal(sig, handler)
    with contextlib.suppress(JournalWriteError):  # a failed write is a fault: the exit code says it
        services.account.flush()
    states = {name: s.value for name, s in manager.states().items()}
    detail = f"{stop_reason[0]}; states: {states}"
    if not clean:
        detail += f"; still running after {STOP_TIMEOUT_SECONDS:.0f} s: {manager.alive()}"
    if not services.faults:
        with contextlib.suppress(JournalWriteError):  # recorded as a fault: the exit code says it
            system.write("RUN", status="stopped", reason=stop_reason[0], detail=detail, clean=clean)
    _status(services, manager, False, stop_reason[0])
    if on_tick is not None:
        on_tick(manager)
    if alerts is not None:
        alerts.close(ALERTS_CLOSE_SECONDS)
    return RunResult(
        stop_reason[0],
        clean,
        states,
        services.clock.now(),
        list(services.faults),
        signals[0] if signals else None,
    )


def _status(services: Services, manager: StrategyManager, running: bool, note: str) -> None:
    """Write the status file; a failure to (disk full) never stops the run."""
    try:
        write_status(services, manager, running, note)
    except OSError as exc:
        if not services.faults:
            services.record_fault(f"cannot write the status file: {exc}")
