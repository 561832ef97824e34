"""An immutable snapshot of a running Seeker, built for the dashboard a few times a second.

Only thread-safe reads go in: each strategy's published ``StrategyView`` (an immutable object
swapped atomically after each poll), its state, ``Services.recent`` (copied, never iterated while
strategy threads append), the Risk Guard's locked exposure, the clock, the broker's connection
state and the calendars. No strategy's live position book is ever touched from here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from seeker.core.calendar import MARKET_TZ, MarketCalendars
from seeker.engine.account_view import AccountView
from seeker.engine.cycle import PublishedPosition

T = TypeVar("T")

TAIL_EVENTS = frozenset(
    {"DECISION", "ORDER", "ORDER_STATUS", "FILL", "RISK", "POST_TRADE", "RUN", "LIMIT", "CONTROL"}
)
"""Journal events the decision tail shows (CONFIDENCE lines feed the cards instead)."""


@dataclass(frozen=True)
class StrategyRow:
    """One strategy's state line."""

    name: str
    state: str
    shadow: bool
    last_poll: datetime | None
    open_positions: int
    max_open_positions: int | None
    entries_today: int | None
    error: str | None


@dataclass(frozen=True)
class Snapshot:
    """Everything one dashboard frame shows; immutable."""

    broker: str
    connection: str
    market_data: str
    clock: datetime
    simulated: bool
    session: str
    capital: float
    capital_currency: str
    committed: float
    budget: float
    shadow_committed: float
    by_currency: Mapping[str, float]
    strategies: tuple[StrategyRow, ...]
    positions: tuple[tuple[str, PublishedPosition], ...]
    tail: tuple[tuple[str, Mapping[str, Any]], ...]
    messages: tuple[str, ...] = ()
    title: str = "Seeker"
    account: AccountView | None = None
    """Equity, today's P&L and the distance to each limit (None: not measured)."""
    progress: str = ""
    """How far a ``--days`` run has gone (empty otherwise), shown in the footer."""


def copy_recent(recent: deque[T]) -> list[T]:
    """Return a list copy of a deque other threads append to (retry if it moved meanwhile)."""
    for _ in range(5):
        try:
            return list(recent)
        except RuntimeError:  # "deque mutated during iteration" (free-threaded builds)
            continue
    return []


class TailKeeper:
    """Keep the latest important journal lines seen in ``Services.recent``.

    ``recent`` is shared by every journal and also carries frequent CONFIDENCE lines, so the
    keeper takes only what arrived since its last look (by object identity) and keeps its own
    bounded tail of the events worth showing.
    """

    def __init__(self, size: int = 500, events: Iterable[str] = TAIL_EVENTS) -> None:
        self.lines: deque[tuple[str, dict[str, Any]]] = deque(maxlen=size)
        self.events = frozenset(events)
        self._last: tuple[str, dict[str, Any]] | None = None

    def preload(self, lines: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Seed the tail with lines journaled before this process started (oldest first)."""
        for item in lines:
            if item[1].get("event") in self.events and not _noise(item[1]):
                self.lines.append(item)

    def skip(self, recent: deque[tuple[str, dict[str, Any]]]) -> None:
        """Mark every line now in `recent` as seen without keeping it."""
        items = copy_recent(recent)
        if items:
            self._last = items[-1]

    def consume(self, recent: deque[tuple[str, dict[str, Any]]]) -> None:
        """Take the lines appended to `recent` since the previous call."""
        items = copy_recent(recent)
        start = 0
        if self._last is not None:
            for i in range(len(items) - 1, -1, -1):
                if items[i] is self._last:
                    start = i + 1
                    break
        for item in items[start:]:
            if item[1].get("event") in self.events and not _noise(item[1]):
                self.lines.append(item)
        if items:
            self._last = items[-1]


def coalesce(
    tail: Sequence[tuple[str, Mapping[str, Any]]],
) -> list[tuple[str, Mapping[str, Any]]]:
    """Merge runs of refusals of one scan (same strategy, time and agent) into one line.

    A scan refuses many underlyings for the same cause (the regime, typically); one line
    ``10× no_trade [regime] BAC, F, PFE…`` keeps the orders and fills in view.
    """
    out: list[tuple[str, Mapping[str, Any]]] = []
    group: list[Mapping[str, Any]] = []
    source = ""

    def flush() -> None:
        if len(group) == 1:
            out.append((source, group[0]))
        elif group:
            names = list(dict.fromkeys(str(g.get("underlying", "?")) for g in group))
            merged = dict(group[0])
            if len(names) == 1:
                merged["reason"] = f"({len(group)} setups) {group[0].get('reason', '')}"
            else:
                merged["underlying"] = f"{len(group)}×"
                merged["reason"] = ", ".join(names)
            out.append((source, merged))
        group.clear()

    for src, line in tail:
        refusal = line.get("event") == "DECISION" and line.get("outcome") == "no_trade"
        same = (
            refusal
            and group
            and src == source
            and line.get("ts") == group[0].get("ts")
            and line.get("blocked_by") == group[0].get("blocked_by")
        )
        if not same:
            flush()
        if refusal:
            source = src
            group.append(line)
        else:
            out.append((src, line))
    flush()
    return out


def _noise(line: Mapping[str, Any]) -> bool:
    """Return True for lines too frequent to help a person (working-order steps)."""
    return line.get("event") == "ORDER_STATUS" and line.get("status") in ("submitted", "modified")


def session_text(calendars: MarketCalendars, now: datetime) -> str:
    """Return the market session at `now`: open until …, or closed and the next open."""
    local = now.astimezone(MARKET_TZ)
    try:
        span = calendars.union_session(local.date())
        if span is not None and span[0] <= now < span[1]:
            return f"RTH open until {span[1].astimezone(MARKET_TZ):%H:%M}"
        nxt = calendars.next_union_open(now).astimezone(MARKET_TZ)
    except (ValueError, KeyError) as exc:
        return f"session unknown ({exc})"
    when = f"{nxt:%H:%M}" if nxt.date() == local.date() else f"{nxt:%a %Y-%m-%d %H:%M}"
    return f"closed; opens {when}"


def strategy_rows(
    strategies: Mapping[str, Any],
) -> tuple[list[StrategyRow], list[tuple[str, PublishedPosition]]]:
    """Return the strategies' rows and their published positions (from ``published`` only)."""
    rows: list[StrategyRow] = []
    positions: list[tuple[str, PublishedPosition]] = []
    for name, strategy in sorted(strategies.items()):
        view = getattr(strategy, "published", None)
        state = getattr(strategy, "state", None)
        state_text = getattr(state, "value", str(state))
        if view is None:
            rows.append(
                StrategyRow(
                    name=name,
                    state=state_text,
                    shadow=bool(getattr(strategy, "shadow", False)),
                    last_poll=None,
                    open_positions=0,
                    max_open_positions=None,
                    entries_today=None,
                    error=getattr(strategy, "error", None),
                )
            )
            continue
        rows.append(
            StrategyRow(
                name=view.name,
                state=state_text,
                shadow=view.shadow,
                last_poll=view.last_poll,
                open_positions=len(view.positions),
                max_open_positions=view.max_open_positions,
                entries_today=view.entries_today,
                error=getattr(strategy, "error", None) or view.error,
            )
        )
        positions.extend((view.name, p) for p in view.positions)
    return rows, positions


def build_snapshot(
    services: Any,
    strategies: Mapping[str, Any],
    tail: TailKeeper,
    messages: Sequence[str] = (),
    title: str = "Seeker",
    progress: str = "",
) -> Snapshot:
    """Return a snapshot of the running process (safe to call from the main thread)."""
    tail.consume(services.recent)
    now = services.clock.now()
    rows, positions = strategy_rows(strategies)
    exposure = services.risk_guard.exposure()
    broker = services.broker
    try:
        connection = broker.connection_state().value
    except Exception as exc:  # a broker problem must not kill the dashboard
        connection = f"unknown ({exc})"
    account = services.config.account
    return Snapshot(
        broker=str(broker.kind),
        connection=str(connection),
        market_data=str(broker.market_data_type()),
        clock=now,
        simulated=bool(services.clock.simulated),
        session=session_text(services.calendars, now),
        capital=float(account.capital),
        capital_currency=str(account.capital_currency),
        committed=float(exposure.total),
        budget=float(services.risk_guard.caps.portfolio),
        shadow_committed=float(services.shadow_guard.exposure().total),
        by_currency=dict(services.currency_exposure()),
        strategies=tuple(rows),
        positions=tuple(positions),
        tail=tuple(tail.lines),
        messages=tuple(messages),
        title=title,
        account=_account_view(services),
        progress=progress,
    )


def _account_view(services: Any) -> AccountView | None:
    """Return the account watch's view, None before anything was measured."""
    watch = getattr(services, "account", None)
    if watch is None:
        return None
    view = watch.view()
    if not isinstance(view, AccountView) or (view.equity is None and view.problem is None):
        return None
    return view
