"""The overview the main page and ``/api/overview`` show: status, risk, cards, strategies, tail."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from seeker.core.journal import to_jsonable
from seeker.ui.journal_view import recent_entries
from seeker.ui.lines import describe, short_ts
from seeker.web.cards import Card, cards
from seeker.web.journals import JournalCache, journal_now, read_status
from seeker.web.settings import WebSettings
from seeker.web.strategy_facts import StrategyFacts

TAIL_LINES = 40
TAIL_EVENTS = ("DECISION", "ORDER", "FILL", "RISK", "POST_TRADE", "RUN")
"""Events the overview's journal tail shows (CONFIDENCE and statuses are in the details)."""


@dataclass(frozen=True)
class StrategyRow:
    """One strategy: its state (from the status file) and its open positions (journal)."""

    name: str
    state: str
    error: str | None
    open_positions: int
    shadow_positions: int
    enabled: bool


@dataclass(frozen=True)
class TailLine:
    """One journal line of the overview's tail."""

    ts: str
    source: str
    event: str
    text: str


@dataclass(frozen=True)
class Overview:
    """Everything on the main page."""

    running: bool
    status: dict[str, Any] | None
    clock: str | None
    capital: float
    capital_currency: str
    committed: float | None
    budget: float
    cards: list[Card]
    strategies: list[StrategyRow]
    tail: list[TailLine]

    def as_dict(self) -> dict[str, Any]:
        """Return the overview as JSON-ready data."""
        out: dict[str, Any] = to_jsonable(asdict(self))
        return out


def _tail(settings: WebSettings) -> list[TailLine]:
    lines = recent_entries(settings.log_root, max_bytes=64 * 1024)
    kept = [(src, line) for src, line in lines if line.get("event") in TAIL_EVENTS]
    out = []
    for src, line in kept[-TAIL_LINES:][::-1]:
        text, _ = describe(line)
        out.append(TailLine(short_ts(line.get("ts")), src, str(line.get("event")), text))
    return out


def overview(
    settings: WebSettings, cache: JournalCache, facts: Mapping[str, StrategyFacts]
) -> Overview:
    """Return the overview of the journals and status under the settings' log root."""
    status = read_status(settings.log_root)
    now = journal_now(status, settings.log_root)
    folders = cache.folders()
    cfg = settings.config
    cards_ = cards(folders, facts, now)
    states = (status or {}).get("strategies") or {}
    names = sorted(set(cfg.strategies.enabled) | set(states) | {f.strategy for f in folders})
    rows = []
    for name in names:
        s = states.get(name) or {}
        rows.append(
            StrategyRow(
                name=name,
                state=str(s.get("state", "not running")),
                error=s.get("error"),
                open_positions=sum(1 for c in cards_ if c.strategy == name and not c.shadow),
                shadow_positions=sum(1 for c in cards_ if c.strategy == name and c.shadow),
                enabled=name in cfg.strategies.enabled,
            )
        )
    committed = ((status or {}).get("risk") or {}).get("committed")
    return Overview(
        running=bool((status or {}).get("alive")),
        status=status,
        clock=now.isoformat() if now else None,
        capital=cfg.account.capital,
        capital_currency=cfg.account.capital_currency,
        committed=float(committed) if isinstance(committed, (int, float)) else None,
        budget=cfg.caps().portfolio,
        cards=cards_,
        strategies=rows,
        tail=_tail(settings),
    )
