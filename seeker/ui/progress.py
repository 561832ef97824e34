"""How far a ``--days`` run has gone, and what ``seeker run`` shows while it runs.

:class:`RunProgress` counts the sessions done of the N the run simulates (the one under way
counts by the share of its hours gone), the simulated date, the positions opened and trades
closed (``Services.order_log``) and an ETA from the wall time so far. :func:`run_display`
picks what the terminal shows:

* a terminal with the dashboard: the dashboard, the progress in its footer;
* a terminal with ``--no-dashboard``: the plain log lines, a rich progress bar below them;
* piped or redirected output: the plain log lines only.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from seeker.core.tz import MARKET_TZ

if TYPE_CHECKING:
    from seeker.engine.services import Services


class RunProgress:
    """Progress of a run of `sessions` simulated sessions from the clock's time at creation."""

    def __init__(self, services: Services, sessions: int) -> None:
        self.services = services
        self.total = sessions
        start = services.clock.now()
        cal = services.calendars
        first = cal.next_union_open(start).astimezone(MARKET_TZ).date()
        days = cal.union_sessions(first, first + timedelta(days=sessions * 2 + 30))[:sessions]
        self.spans: list[tuple[datetime, datetime]] = [
            span for span in map(cal.union_session, days) if span is not None
        ]
        self._t0 = time.monotonic()

    def done(self, now: datetime | None = None) -> float:
        """Return the sessions done (a session under way counts by the share of its hours)."""
        t = now if now is not None else self.services.clock.now()
        count = 0.0
        for opens, closes in self.spans:
            if t >= closes:
                count += 1
            elif t > opens:
                count += (t - opens) / (closes - opens)
                break
            else:
                break
        return min(count, float(self.total))

    def eta_seconds(self) -> float | None:
        """Return the wall seconds left at the pace so far, None before any progress."""
        done = self.done()
        if done <= 0:
            return None
        elapsed = time.monotonic() - self._t0
        return elapsed * (self.total - done) / done

    def fields(self) -> dict[str, str]:
        """Return the simulated date and the trades as text (for the bar's columns)."""
        log = self.services.order_log
        now = self.services.clock.now().astimezone(MARKET_TZ)
        return {
            "date": f"{now:%Y-%m-%d}",
            "trades": f"{log.opened} opened, {log.closed} closed",
        }

    def text(self) -> str:
        """Return one line: ``session 12/60 · 2026-02-20 · 4 opened, 3 closed · ETA 0:31``."""
        f = self.fields()
        eta = self.eta_seconds()
        left = "ETA –" if eta is None else f"ETA {_clock(eta)}"
        return f"session {int(self.done())}/{self.total} · {f['date']} · {f['trades']} · {left}"


def _clock(seconds: float) -> str:
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


class ProgressBar:
    """A rich progress bar under the plain log lines (which still print, above it)."""

    def __init__(self, progress: RunProgress, console: Console | None = None) -> None:
        self.progress = progress
        self.bar = Progress(
            TextColumn("[bold]sessions"),
            BarColumn(),
            TextColumn("{task.completed:.0f}/{task.total:.0f}"),
            TextColumn("· {task.fields[date]} · {task.fields[trades]} · ETA"),
            TimeRemainingColumn(),
            console=console,
            redirect_stdout=True,
            redirect_stderr=True,
            refresh_per_second=4,
        )
        self.task = self.bar.add_task("run", total=progress.total, **progress.fields())

    def start(self) -> None:
        """Show the bar."""
        self.bar.start()

    def update(self, _manager: Any = None) -> None:
        """Move the bar to the sessions done (the runner's on_tick)."""
        self.bar.update(self.task, completed=self.progress.done(), **self.progress.fields())

    def stop(self) -> None:
        """Draw the final state and leave the bar on the terminal."""
        self.update()
        self.bar.stop()


class RunDisplay:
    """What ``seeker run`` shows: ``start()``, ``on_tick`` for the runner, then ``stop()``."""

    def __init__(
        self,
        start: Callable[[], None] | None = None,
        on_tick: Callable[[Any], None] | None = None,
        stop: Callable[[], None] | None = None,
    ) -> None:
        self._start = start
        self.on_tick = on_tick
        self._stop = stop

    def start(self) -> None:
        """Take the terminal (nothing for plain lines)."""
        if self._start is not None:
            self._start()

    def stop(self) -> None:
        """Give the terminal back, leaving the final state."""
        if self._stop is not None:
            self._stop()


def is_terminal(stream: IO[str] | None = None) -> bool:
    """Return True when `stream` (stdout by default) is a terminal."""
    out = stream if stream is not None else sys.stdout
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):
        return False


def run_display(
    services: Services,
    names: Sequence[str],
    days: int | None,
    no_dashboard: bool,
    stream: IO[str] | None = None,
) -> RunDisplay:
    """Return the display for a run (see the module docstring); set ``services.emit`` for it."""
    from seeker.ui.dashboard import Dashboard

    terminal = is_terminal(stream)
    progress = RunProgress(services, days) if days else None
    if terminal and not no_dashboard:
        dash = Dashboard(services, names, progress=progress.text if progress else None)
        services.emit = dash.emit
        return RunDisplay(dash.start, dash.update, dash.stop)
    if terminal and progress is not None:
        bar = ProgressBar(progress)
        return RunDisplay(bar.start, bar.update, bar.stop)
    return RunDisplay()
