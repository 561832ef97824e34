"""The account's brakes as a state machine: daily loss, drawdown from the peak, errors; and the
holds a person puts on (pause, flatten).

``AccountLimits`` is plain logic, not thread-safe (the engine's account watch locks around it):
it is told each new session, each equity measurement and each error, and answers with the
changes to journal (:class:`LimitEvent`). A tripped limit stays tripped until ``resume`` — the
daily loss limit also until the next session's first measurement. Resuming re-bases what the
limits measure from (the peak, the session's reference) on the equity then, so a limit does not
fire again at once for the loss a person has just accepted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from seeker.agents.account.config import LimitAction, LimitsConfig
from seeker.agents.account.equity import AccountFigures

ALL = "*"
"""The scope of a hold on every strategy."""

Change = Literal["trip", "reset"]


@dataclass(frozen=True)
class Trip:
    """A limit that fired: when, what it does, why, with the figures that made it fire."""

    limit: str
    action: LimitAction
    at: str
    reason: str
    figures: Mapping[str, float]


@dataclass(frozen=True)
class Hold:
    """A person's pause or flatten on one strategy (or ``*``): who, when, why."""

    by: str
    at: str
    reason: str


@dataclass(frozen=True)
class LimitEvent:
    """One trip or reset to journal (a LIMIT line)."""

    change: Change
    limit: str
    action: LimitAction
    by: str
    reason: str
    figures: Mapping[str, float]


@dataclass
class LimitsState:
    """What survives a restart: the peak, today's reference, the trips and the holds."""

    peak: float | None = None
    peak_at: str | None = None
    session: str | None = None
    session_open: float | None = None
    basis: float | None = None
    trips: dict[str, Trip] = field(default_factory=dict)
    paused: dict[str, Hold] = field(default_factory=dict)
    flatten: dict[str, Hold] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return the state as JSON values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> LimitsState:
        """Rebuild a state from :meth:`as_dict`; ValueError naming a bad field."""
        try:
            return cls(
                peak=_opt_float(raw.get("peak")),
                peak_at=raw.get("peak_at"),
                session=raw.get("session"),
                session_open=_opt_float(raw.get("session_open")),
                basis=_opt_float(raw.get("basis")),
                trips={k: Trip(**v) for k, v in dict(raw.get("trips") or {}).items()},
                paused={k: Hold(**v) for k, v in dict(raw.get("paused") or {}).items()},
                flatten={k: Hold(**v) for k, v in dict(raw.get("flatten") or {}).items()},
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"account state unreadable: {exc}") from None


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


class AccountLimits:
    """Decide when the account's limits trip and reset; keep the holds a person put on."""

    def __init__(self, cfg: LimitsConfig, state: LimitsState | None = None) -> None:
        self.cfg = cfg
        self.state = state if state is not None else LimitsState()
        self._errors: deque[datetime] = deque()

    # -- measurements --------------------------------------------------------------------------
    def new_session(self, day: date, figures: AccountFigures, capital: float) -> list[LimitEvent]:
        """Start a session: its reference equity, the caps' basis; the daily limit resets."""
        s = self.state
        s.session, s.session_open = day.isoformat(), figures.equity
        s.basis = (
            capital
            if self.cfg.capital_basis == "capital"
            else max(0.0, min(capital, figures.equity))
        )
        out: list[LimitEvent] = []
        trip = s.trips.pop("daily_loss", None)
        if trip is not None:
            out.append(
                LimitEvent(
                    "reset",
                    "daily_loss",
                    trip.action,
                    "session_open",
                    f"new session {day}: the daily loss limit measures from {figures.equity:.2f}",
                    self.figures(figures),
                )
            )
        return out

    def assess(self, figures: AccountFigures) -> list[LimitEvent]:
        """Record a measurement: a new peak, or a limit it trips (each trips once)."""
        s = self.state
        equity = figures.equity
        if s.peak is None or equity > s.peak:
            s.peak, s.peak_at = equity, figures.ts.isoformat()
        out: list[LimitEvent] = []
        if s.session_open is not None and "daily_loss" not in s.trips:
            loss = s.session_open - equity
            limit = s.session_open * self.cfg.daily_loss_pct / 100.0
            if loss >= limit:
                out.append(
                    self._trip(
                        "daily_loss",
                        figures,
                        f"equity {figures.equity:.2f} is {loss:.2f} below the session's "
                        f"{s.session_open:.2f} (limit {self.cfg.daily_loss_pct:g} % = "
                        f"{limit:.2f})",
                    )
                )
        if "drawdown" not in s.trips:
            drop = s.peak - equity
            limit = s.peak * self.cfg.max_drawdown_pct / 100.0
            if drop >= limit:
                out.append(
                    self._trip(
                        "drawdown",
                        figures,
                        f"equity {figures.equity:.2f} is {drop:.2f} below its peak "
                        f"{s.peak:.2f} (limit {self.cfg.max_drawdown_pct:g} % = {limit:.2f})",
                    )
                )
        return out

    def note_error(
        self, ts: datetime, what: str, figures: AccountFigures | None
    ) -> list[LimitEvent]:
        """Count one rejection or strategy error; trip the failsafe at N within M minutes."""
        window = timedelta(minutes=self.cfg.error_window_minutes)
        self._errors.append(ts)
        while self._errors and ts - self._errors[0] > window:
            self._errors.popleft()
        if "errors" in self.state.trips or len(self._errors) < self.cfg.max_errors:
            return []
        reason = (
            f"{len(self._errors)} rejections or strategy errors within "
            f"{self.cfg.error_window_minutes:g} min (limit {self.cfg.max_errors}); last: {what}"
        )
        return [self._trip("errors", figures, reason, ts)]

    def _trip(
        self,
        limit: str,
        figures: AccountFigures | None,
        reason: str,
        ts: datetime | None = None,
    ) -> LimitEvent:
        action = self.cfg.action(limit)
        at = (ts or (figures.ts if figures is not None else None)) or datetime.min
        numbers = self.figures(figures)
        self.state.trips[limit] = Trip(limit, action, at.isoformat(), reason, numbers)
        return LimitEvent("trip", limit, action, "account", reason, numbers)

    def figures(self, figures: AccountFigures | None) -> dict[str, float]:
        """Return the equity figures a LIMIT line carries (what the limits measure)."""
        s = self.state
        out: dict[str, float] = {}
        if figures is not None:
            out.update(
                equity=round(figures.equity, 2),
                equity_natural=round(figures.equity_natural, 2),
                cash=round(figures.cash, 2),
            )
        for key, value in (("peak", s.peak), ("session_open", s.session_open)):
            if value is not None:
                out[key] = round(value, 2)
        if figures is not None and s.peak:
            out["drawdown"] = round(s.peak - figures.equity, 2)
            out["drawdown_pct"] = round(100.0 * (s.peak - figures.equity) / s.peak, 2)
        if figures is not None and s.session_open is not None:
            out["day_pnl"] = round(figures.equity - s.session_open, 2)
        return out

    # -- a person's commands -----------------------------------------------------------------
    def pause(self, names: Iterable[str], hold: Hold) -> list[str]:
        """Pause entries of the named strategies (none named: all); return the scope."""
        scope = sorted(set(names)) or [ALL]
        for name in scope:
            self.state.paused[name] = hold
        return scope

    def flatten(self, name: str | None, hold: Hold) -> str:
        """Ask for every position of one strategy (None: all) to be closed; entries stop."""
        scope = name or ALL
        self.state.flatten[scope] = hold
        return scope

    def resume(
        self, names: Iterable[str], known: Iterable[str], by: str, figures: AccountFigures | None
    ) -> list[LimitEvent]:
        """Lift holds: of the named strategies, or (none named) every hold and every trip.

        Resuming everything re-bases the peak and the session's reference on the equity now.
        """
        wanted = set(names)
        s = self.state
        if wanted:
            for holds in (s.paused, s.flatten):
                if ALL in holds:
                    hold = holds.pop(ALL)
                    holds.update({n: hold for n in known if n not in wanted})
                for name in wanted:
                    holds.pop(name, None)
            return []
        s.paused.clear()
        s.flatten.clear()
        out = [
            LimitEvent(
                "reset", trip.limit, trip.action, by, f"resumed by {by}", self.figures(figures)
            )
            for trip in s.trips.values()
        ]
        s.trips.clear()
        self._errors.clear()
        if figures is not None:
            s.peak, s.peak_at = figures.equity, figures.ts.isoformat()
            if s.session_open is not None:
                s.session_open = figures.equity
        return out

    # -- queries -------------------------------------------------------------------------------
    def tripped(self) -> str | None:
        """Return why the account's limits stop every entry now (a trip), or None."""
        for trip in self.state.trips.values():
            return f"{trip.limit} limit tripped at {trip.at[:16]}: {trip.reason}"
        return None

    def held(self, strategy: str) -> str | None:
        """Return why a person stopped this strategy's entries (flatten or pause), or None."""
        s = self.state
        for holds, what in ((s.flatten, "flatten"), (s.paused, "paused")):
            hold = holds.get(strategy) or holds.get(ALL)
            if hold is not None:
                return f"{what} by {hold.by} at {hold.at[:16]}" + (
                    f": {hold.reason}" if hold.reason else ""
                )
        return None

    def flatten_reason(self, strategy: str, trips: bool = True) -> str | None:
        """Return why every position of the strategy must be closed now, or None.

        `trips`: whether the account's tripped limits apply (not to a shadow strategy).
        """
        s = self.state
        for trip in s.trips.values() if trips else ():
            if trip.action == "flatten":
                return f"{trip.limit} limit (flatten): {trip.reason}"
        hold = s.flatten.get(strategy) or s.flatten.get(ALL)
        if hold is not None:
            return f"flatten by {hold.by}" + (f": {hold.reason}" if hold.reason else "")
        return None
