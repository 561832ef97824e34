"""What supervisors read of the account (dashboard, status.json, the web): made from a copy of
the account watch's knowledge, never from its live state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from seeker.agents.account import AccountFigures, LimitsConfig, LimitsState


@dataclass(frozen=True)
class AccountReading:
    """A copy of the account watch's knowledge: its limits' state, the last figures (and their
    EQUITY line's fields), why the equity is unknown."""

    state: LimitsState
    figures: AccountFigures | None
    line: Mapping[str, Any] | None
    problem: str | None


@dataclass(frozen=True)
class AccountView:
    """The account as a supervisor shows it (immutable): equity, today's P&L, the distance to
    each limit ($ of further loss before it trips; 0 once tripped), what holds entries."""

    currency: str
    equity: float | None
    equity_natural: float | None
    day_pnl: float | None
    daily_limit: float | None
    daily_room: float | None
    drawdown: float | None
    drawdown_pct: float | None
    drawdown_limit: float | None
    drawdown_room: float | None
    daily_loss_pct: float
    max_drawdown_pct: float
    tripped: tuple[str, ...]
    paused: tuple[str, ...]
    flatten: tuple[str, ...]
    problem: str | None


def account_view(r: AccountReading, cfg: LimitsConfig, currency: str) -> AccountView:
    """Return the view of a reading: the room left to each limit from the equity at mid."""
    state, f = r.state, r.figures
    equity = None if f is None else f.equity
    day = daily_limit = daily_room = None
    drawdown = drawdown_pct = drawdown_limit = drawdown_room = None
    if equity is not None and state.session_open is not None:
        day = equity - state.session_open
        daily_limit = state.session_open * cfg.daily_loss_pct / 100.0
        tripped = "daily_loss" in state.trips
        daily_room = 0.0 if tripped else max(0.0, daily_limit + day)
    if equity is not None and state.peak:
        drawdown = state.peak - equity
        drawdown_pct = 100.0 * drawdown / state.peak
        drawdown_limit = state.peak * cfg.max_drawdown_pct / 100.0
        tripped = "drawdown" in state.trips
        drawdown_room = 0.0 if tripped else max(0.0, drawdown_limit - drawdown)
    return AccountView(
        currency=currency,
        equity=equity,
        equity_natural=None if f is None else f.equity_natural,
        day_pnl=day,
        daily_limit=daily_limit,
        daily_room=daily_room,
        drawdown=drawdown,
        drawdown_pct=drawdown_pct,
        drawdown_limit=drawdown_limit,
        drawdown_room=drawdown_room,
        daily_loss_pct=cfg.daily_loss_pct,
        max_drawdown_pct=cfg.max_drawdown_pct,
        tripped=tuple(sorted(state.trips)),
        paused=tuple(sorted(state.paused)),
        flatten=tuple(sorted(state.flatten)),
        problem=r.problem,
    )


def account_status(r: AccountReading, cfg: LimitsConfig) -> dict[str, Any]:
    """Return the account's figures, limits and holds as status.json carries them."""
    state = r.state
    out: dict[str, Any] = {
        "equity_known": r.problem is None and r.figures is not None,
        "problem": r.problem,
        "basis": state.basis,
        "capital_basis": cfg.capital_basis,
        "funding": cfg.funding,
        "limits": {
            "daily_loss_pct": cfg.daily_loss_pct,
            "daily_loss_action": cfg.daily_loss_action,
            "max_drawdown_pct": cfg.max_drawdown_pct,
            "max_drawdown_action": cfg.max_drawdown_action,
            "max_errors": cfg.max_errors,
            "error_window_minutes": cfg.error_window_minutes,
        },
        "trips": {k: asdict(v) for k, v in state.trips.items()},
        "paused": {k: asdict(v) for k, v in state.paused.items()},
        "flatten": {k: asdict(v) for k, v in state.flatten.items()},
    }
    if r.line is not None:
        out["figures"] = dict(r.line)
    return out
