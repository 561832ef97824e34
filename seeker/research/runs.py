"""What one real run of a strategy left behind, reduced to what a study grades: its closed trades.

A run is one simulated (or replayed) stretch of sessions of one strategy with one parameter point.
Its trades are read back from its journals (by ``seeker.reports.trials``); a study keeps them as
`TradeRecord`s, JSON-ready, so a study resumed later, a report or a Dask worker's answer all carry
the same figures. Money is in each trade's own currency, after commissions ($ per trade).

A window of sessions owns the trades *opened* in it: a trade's P&L is booked on the session of its
opening fill (its decision), whatever day it closed. `window_pnl` turns a run's trades into one
P&L per session of a window (0 on sessions without an entry), the return series whose Sharpe ratio
the study ranks, deflates and grades.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import TypedDict

import numpy as np

SESSIONS_PER_YEAR = 252
"""Sessions a year, to annualise per-session Sharpe ratios."""


class TradeJson(TypedDict):
    """A `TradeRecord` as stored in a study (JSON)."""

    position_id: str
    underlying: str
    opened: str
    closed: str
    net_pnl: float
    commissions: float
    currency: str
    regime: str
    exit_rule: str


class RunJson(TypedDict):
    """A `RunResult` as stored in a study (JSON)."""

    source: str
    trades: list[TradeJson]
    open_at_end: int
    stopped_cleanly: bool
    error: str | None


@dataclass(frozen=True)
class TradeRecord:
    """One closed trade of a run: when it opened and closed (New York session dates) and its P&L.

    `regime` is the regime class at entry (the ORDER's ``meta.regime_labels``, as
    ``seeker.reports.summary.regime_class`` names it, e.g. ``range · IVR high``).
    """

    position_id: str
    underlying: str
    opened: date
    closed: date
    net_pnl: float
    commissions: float
    currency: str
    regime: str
    exit_rule: str

    def to_json(self) -> TradeJson:
        """Return the trade as JSON-ready data."""
        data = asdict(self)
        data["opened"] = self.opened.isoformat()
        data["closed"] = self.closed.isoformat()
        return TradeJson(**data)  # type: ignore[typeddict-item]

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> TradeRecord:
        """Return the trade stored as `data`."""
        return cls(
            position_id=str(data["position_id"]),
            underlying=str(data["underlying"]),
            opened=date.fromisoformat(str(data["opened"])),
            closed=date.fromisoformat(str(data["closed"])),
            net_pnl=float(data["net_pnl"]),  # type: ignore[arg-type]
            commissions=float(data["commissions"]),  # type: ignore[arg-type]
            currency=str(data["currency"]),
            regime=str(data["regime"]),
            exit_rule=str(data["exit_rule"]),
        )


@dataclass(frozen=True)
class RunResult:
    """The closed trades of one run on one market source, and how the run ended.

    `open_at_end` counts positions still open when the run stopped (their P&L is not counted);
    `error` names a strategy that failed (the run's trades are then not graded).
    """

    source: str
    trades: tuple[TradeRecord, ...]
    open_at_end: int
    stopped_cleanly: bool
    error: str | None = None

    def to_json(self) -> RunJson:
        """Return the run as JSON-ready data."""
        return RunJson(
            source=self.source,
            trades=[t.to_json() for t in self.trades],
            open_at_end=self.open_at_end,
            stopped_cleanly=self.stopped_cleanly,
            error=self.error,
        )

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> RunResult:
        """Return the run stored as `data`."""
        trades = data["trades"]
        assert isinstance(trades, list)
        error = data.get("error")
        return cls(
            source=str(data["source"]),
            trades=tuple(TradeRecord.from_json(t) for t in trades),
            open_at_end=int(data["open_at_end"]),  # type: ignore[call-overload]
            stopped_cleanly=bool(data["stopped_cleanly"]),
            error=None if error is None else str(error),
        )


TradeFilter = Callable[[TradeRecord], bool]


def window_pnl(
    trades: Iterable[TradeRecord], days: Sequence[date], keep: TradeFilter | None = None
) -> np.ndarray:
    """Return the P&L booked on each session of `days` ($), a trade on the session it opened.

    Trades opened outside `days` are left out, and so are those `keep` refuses.
    """
    index = {d: i for i, d in enumerate(days)}
    out = np.zeros(len(days))
    for t in trades:
        i = index.get(t.opened)
        if i is not None and (keep is None or keep(t)):
            out[i] += t.net_pnl
    return out


def trades_in(
    trades: Iterable[TradeRecord], days: Sequence[date], keep: TradeFilter | None = None
) -> list[TradeRecord]:
    """Return the trades opened on one of `days` (and kept by `keep`), in opening order."""
    inside = set(days)
    found = [t for t in trades if t.opened in inside and (keep is None or keep(t))]
    return sorted(found, key=lambda t: (t.opened, t.closed, t.position_id))


def session_sharpe(series: np.ndarray) -> float:
    """Return the per-session Sharpe ratio of a P&L series; 0 when it is flat (no evidence)."""
    if series.size < 2:
        return 0.0
    std = float(np.std(series, ddof=1))
    if std == 0.0 or not math.isfinite(std):
        return 0.0
    return float(np.mean(series)) / std


def annual_sharpe(series: np.ndarray) -> float:
    """Return the annual Sharpe ratio of a per-session P&L series (0 when flat)."""
    return session_sharpe(series) * math.sqrt(SESSIONS_PER_YEAR)
