"""Run strategies until Ctrl+C / SIGTERM or the end of a ``--days`` run, then stop cleanly."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from seeker.core.journal import SYSTEM_FOLDER, to_jsonable
from seeker.core.manager import StrategyManager
from seeker.core.services import Services

STOP_TIMEOUT_SECONDS = 8.0
"""How long strategies get to finish their step and wind down (the process exits within 10 s)."""

STATUS_FILE = Path(SYSTEM_FOLDER) / "status.json"


@dataclass
class RunResult:
    """How a run ended."""

    reason: str
    stopped_cleanly: bool
    states: dict[str, str]
    sim_time: datetime


def write_status(services: Services, manager: StrategyManager, running: bool, note: str) -> None:
    """Write the process status that `seeker status` reads (atomically)."""
    path = services.log_root / STATUS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    snap = services.risk_guard.exposure()
    data = {
        "pid": os.getpid(),
        "running": running,
        "note": note,
        "updated_wall": datetime.now().astimezone().isoformat(),
        "clock": services.clock.now().isoformat(),
        "simulated": services.clock.simulated,
        "broker": services.broker.kind,
        "connection": services.broker.connection_state().value,
        "market_data": services.broker.market_data_type(),
        "strategies": {
            name: {
                "state": s.state.value,
                "error": s.error,
                "open_positions": len(s.book.open_positions()) if hasattr(s, "book") else 0,
            }
            for name, s in manager.strategies.items()
        },
        "risk": {
            "caps": services.risk_guard.caps.as_dict(),
            "committed": snap.total,
            "by_sector": snap.by_sector,
            "by_cluster": snap.by_cluster,
            "by_underlying": snap.by_underlying,
        },
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(to_jsonable(data), indent=1))
    os.replace(tmp, path)


def run_strategies(
    services: Services,
    names: Sequence[str],
    on_tick: Callable[[StrategyManager], None] | None = None,
    tick_seconds: float = 0.25,
) -> RunResult:
    """Start the strategies and block until they stop; handle SIGINT and SIGTERM."""
    manager = StrategyManager(services)
    stop_reason: list[str] = []
    stop_event = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        if not stop_reason:
            stop_reason.append(signal.Signals(signum).name)
        stop_event.set()
        manager.stop()

    old: dict[int, Any] = {}
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, handle)
    system = services.journal(SYSTEM_FOLDER)
    system.write("RUN", status="started", strategies=list(names), broker=services.broker.kind)
    try:
        services.reconcile("start")
        manager.start(names)
        last_status = 0.0
        while manager.alive() and not stop_event.is_set():
            stop_event.wait(tick_seconds)
            if on_tick is not None:
                on_tick(manager)
            if time.monotonic() - last_status > 1.0:
                write_status(services, manager, True, "running")
                last_status = time.monotonic()
        if not stop_reason:
            clock = services.clock
            stop_reason.append(
                "end of the --days run"
                if getattr(clock, "reached_end", False)
                else "strategies ended"
            )
        manager.stop()
        clean = manager.join(STOP_TIMEOUT_SECONDS)
    finally:
        if in_main:
            for sig, handler in old.items():
                signal.signal(sig, handler)
    states = {name: s.value for name, s in manager.states().items()}
    detail = f"{stop_reason[0]}; states: {states}"
    if not clean:
        detail += f"; still running after {STOP_TIMEOUT_SECONDS:.0f} s: {manager.alive()}"
    system.write("RUN", status="stopped", reason=stop_reason[0], detail=detail, clean=clean)
    write_status(services, manager, False, stop_reason[0])
    if on_tick is not None:
        on_tick(manager)
    return RunResult(stop_reason[0], clean, states, services.clock.now())
