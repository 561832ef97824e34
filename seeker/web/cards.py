"""Portfolio cards: one per open position, with its gauge, badges and DTE bar (spec "Interface").

A card holds the spec's facts (symbol, strategy, DTE, width, credit, IVR, regime, sector,
currency), the confidence score 0–100 with its reassuring / worrying badges, and the DTE bar
45 → manage_dte → 0 with the next management reminder — read from the journals only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from seeker.core.calendar import MARKET_TZ
from seeker.core.positions import Position
from seeker.ui.widgets import DTE_START
from seeker.web.journals import FolderPositions, days_between
from seeker.web.strategy_facts import StrategyFacts


@dataclass(frozen=True)
class DteBar:
    """The DTE bar 45 → manage_dte → 0: shares of its length (0..1) and a colour level."""

    dte: int | None
    elapsed: float
    manage_at: float | None
    level: str
    """"ok" before manage_dte, "warn" at or after it, "alarm" in the last week, "unknown"."""


@dataclass(frozen=True)
class Card:
    """One open position as the page shows it (money in the position's currency)."""

    position_id: str
    folder: str
    strategy: str
    shadow: bool
    listing_id: str
    underlying: str
    label: str
    qty: int
    currency: str
    sector: str
    cluster: str
    expiry: date
    dte: int | None
    width: float | None
    credit: float
    iv_rank: float | None
    regime: str | None
    pnl: float | None
    pnl_unit: float | None
    max_loss: float
    score: float | None
    scored_at: str | None
    reassuring: tuple[str, ...]
    worrying: tuple[str, ...]
    manage_dte: int | None
    bar: DteBar
    reminder: str
    reminder_level: str


def score_level(score: float | None) -> str:
    """Return the gauge colour: good ≥ 65, fair ≥ 40, poor below (as the terminal dashboard)."""
    if score is None:
        return "unknown"
    if score >= 65:
        return "good"
    if score >= 40:
        return "fair"
    return "poor"


def dte_bar(dte: int | None, manage_dte: int | None, start: int = DTE_START) -> DteBar:
    """Return the DTE bar of a position (time runs left to right from `start` DTE to 0)."""
    manage_at = (
        (start - manage_dte) / start
        if manage_dte is not None and 0 <= manage_dte <= start
        else None
    )
    if dte is None:
        return DteBar(None, 0.0, manage_at, "unknown")
    elapsed = (start - min(max(dte, 0), start)) / start
    if manage_dte is not None and dte <= manage_dte:
        level = "alarm" if dte <= 7 else "warn"
    else:
        level = "alarm" if dte <= 7 else "ok"
    return DteBar(dte, elapsed, manage_at, level)


def reminder(dte: int | None, manage_dte: int | None, expiry: date) -> tuple[str, str]:
    """Return the next management reminder and its level (as the terminal card says it)."""
    if dte is None:
        return "next: not priced yet", "unknown"
    if manage_dte is None:
        return f"next: expiry {expiry:%Y-%m-%d} in {dte} d (manage DTE unknown)", "unknown"
    if dte > manage_dte:
        day = expiry - timedelta(days=manage_dte)
        return f"next: manage at {manage_dte} DTE in {dte - manage_dte} d ({day:%Y-%m-%d})", "ok"
    if dte > 0:
        return f"next: ≤ {manage_dte} DTE — manage now (close or roll)", "warn"
    return "next: expiry day — close before the bell", "alarm"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _iv_rank(score: Mapping[str, Any] | None) -> float | None:
    comps = (score or {}).get("components") or {}
    ivr = comps.get("ivr") if isinstance(comps, Mapping) else None
    return _number(ivr.get("measure")) if isinstance(ivr, Mapping) else None


def card(
    fp: FolderPositions, pos: Position, facts: StrategyFacts | None, now: datetime | None
) -> Card:
    """Return the card of one open position of a folder."""
    score = fp.scores.get(pos.position_id)
    meta = pos.meta
    dte_value = (score or {}).get("dte")
    dte = (
        int(dte_value)
        if isinstance(dte_value, int) and not isinstance(dte_value, bool)
        else days_between(now.astimezone(MARKET_TZ).date() if now else None, pos.expiry)
    )
    manage_dte = facts.manage_dte if facts is not None else None
    pnl_unit = _number((score or {}).get("pnl_unit"))
    text, level = reminder(dte, manage_dte, pos.expiry)
    width = _number(meta.get("width"))
    return Card(
        position_id=pos.position_id,
        folder=fp.folder,
        strategy=fp.strategy,
        shadow=fp.shadow,
        listing_id=pos.listing_id,
        underlying=pos.underlying,
        label=str(meta.get("label", pos.position_id)),
        qty=pos.open_qty,
        currency=pos.currency,
        sector=pos.sector,
        cluster=pos.cluster,
        expiry=pos.expiry,
        dte=dte,
        width=width if width else None,
        credit=-pos.entry_price,
        iv_rank=_iv_rank(score),
        regime=str(meta["regime"]) if meta.get("regime") else None,
        pnl=None if pnl_unit is None else pnl_unit * pos.multiplier * pos.open_qty,
        pnl_unit=pnl_unit,
        max_loss=pos.max_loss_unit * pos.open_qty,
        score=_number((score or {}).get("score")),
        scored_at=str(score["ts"]) if score and score.get("ts") else None,
        reassuring=tuple(str(b) for b in (score or {}).get("reassuring") or ()),
        worrying=tuple(str(b) for b in (score or {}).get("worrying") or ()),
        manage_dte=manage_dte,
        bar=dte_bar(dte, manage_dte),
        reminder=text,
        reminder_level=level,
    )


def cards(
    folders: list[FolderPositions], facts: Mapping[str, StrategyFacts], now: datetime | None
) -> list[Card]:
    """Return the cards of every open position, real ones first, then by folder and id."""
    out = [
        card(fp, pos, facts.get(fp.strategy), now) for fp in folders for pos in fp.open_positions()
    ]
    return sorted(out, key=lambda c: (c.shadow, c.folder, c.position_id))
