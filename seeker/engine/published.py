"""What a strategy publishes after each poll for supervisors (dashboard, status)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from seeker.agents.confidence import Confidence


@dataclass(frozen=True)
class PublishedPosition:
    """What a supervisor may read of one open position (immutable, made by its strategy)."""

    position_id: str
    listing_id: str
    kind: str
    label: str
    qty: int
    currency: str
    sector: str
    cluster: str
    entry_price: float
    opened_at: datetime | None
    expiry: date
    dte: int | None
    spot: float | None
    pnl_unit: float | None
    pnl: float | None
    max_loss: float
    regime: str | None
    iv_rank: float | None
    width: float | None
    manage_dte: int
    confidence: Confidence | None


@dataclass(frozen=True)
class StrategyView:
    """A strategy's state as published after each poll (read by the dashboard and status)."""

    name: str
    state: str
    shadow: bool
    last_poll: datetime | None
    positions: tuple[PublishedPosition, ...]
    entries_today: int
    max_open_positions: int
    error: str | None
