"""Entries, each poll inside the entry window: which underlyings to look at, and when.

Entries stop while the broker is disconnected (journaled once when they stop and when they
resume), while the strategy has no room (open positions or today's entries at their limits), and
per underlying between two scans (``scan_interval_minutes``) or after the regime refused it today.
Cross-listed venues of one company are considered together, so the FX Router can pick one.
"""

from __future__ import annotations

import traceback
from datetime import date, datetime, timedelta

from seeker.core.broker import ConnectionState
from seeker.core.models import DataUnavailable, Listing
from seeker.core.positions import PositionBook
from seeker.engine.context import StrategyContext
from seeker.engine.decisions import DecisionLog
from seeker.engine.ids import day_key
from seeker.engine.pipeline import EntryPipeline


def entries_today(book: PositionBook, today: date) -> int:
    """Return how many positions were opened (or are being opened) today."""
    return sum(p.status != "cancelled" for p in book.opened_on(day_key(today)))


class EntryScanner:
    """Decide which underlyings to consider now, and hand each to the pipeline."""

    def __init__(
        self, ctx: StrategyContext, pipeline: EntryPipeline, decisions: DecisionLog
    ) -> None:
        self.ctx = ctx
        self.pipeline = pipeline
        self.decisions = decisions
        self._last_scan: dict[str, datetime] = {}
        self._connected = True
        self._groups: list[list[Listing]] = []
        self._groups_of: tuple[object, object, object] | None = None
        """What `_groups` was built from (the strategy's config, the FX table, the listings)."""

    def entries(self, now: datetime) -> None:
        """Consider entries on every underlying whose turn it is."""
        ctx = self.ctx
        cfg = ctx.config
        if not self.broker_connected() or not self.window_open(now):
            return
        scan_every = timedelta(minutes=float(cfg.scan_interval_minutes))
        today = now.date()
        room: bool | None = None  # measured when needed; only a scan can change it
        for venues in self.venue_groups():
            if ctx.stop_requested():
                return
            if room is None:
                room = self.room_for_entry(now)
            if not room:
                return
            key = venues[0].symbol
            last = self._last_scan.get(key)
            if last is not None and now - last < scan_every:
                continue
            if self.pipeline.regime_refused.get(key) == today:
                continue  # the regime is daily: a refusal holds until the next session
            open_venues = [v for v in venues if ctx.in_rth(v.listing_id)]
            if not open_venues:
                continue
            self._last_scan[key] = now
            room = None  # the scan may open a position
            try:
                self.pipeline.consider(open_venues, now)
            except DataUnavailable as exc:
                self.decisions.decide(now, open_venues[0], None, [], "no_trade", "data", str(exc))
            except Exception:  # a bug in one underlying's scan must not hide the others
                self.decisions.decide(
                    now,
                    open_venues[0],
                    None,
                    [],
                    "no_trade",
                    "data",
                    "scan failed: " + traceback.format_exc().strip().splitlines()[-1],
                )
                raise

    def window_open(self, now: datetime) -> bool:
        """Return True inside the strategy's entry window (exchange time)."""
        t = now.timetz().replace(tzinfo=None)
        return self.ctx.config.entry_window_start <= t < self.ctx.config.entry_window_end

    def broker_connected(self) -> bool:
        """Return True when the broker is connected; journal once when entries stop and resume."""
        ctx = self.ctx
        state = ctx.services.broker.connection_state()
        up = state == ConnectionState.CONNECTED
        if up != self._connected:
            self._connected = up
            rule = "broker_connected" if up else "broker_disconnected"
            detail = (
                "broker connected again: entries resume"
                if up
                else f"broker {state.value}: no new entry until the connection is back"
            )
            ctx.risk_line(None, rule, detail)
            ctx.emit(f"{ctx.name}: {detail}")
        return up

    def room_for_entry(self, now: datetime) -> bool:
        """Return True while open positions and today's entries are below their limits."""
        cfg = self.ctx.config
        if len(self.ctx.book.open_positions()) >= cfg.max_open_positions:
            return False
        return entries_today(self.ctx.book, now.date()) < cfg.max_entries_per_day

    def venue_groups(self) -> list[list[Listing]]:
        """Return this strategy's underlyings grouped by company (cross-listed venues together).

        Built again only when the config or the listings it is built from are other objects.
        """
        ctx = self.ctx
        sources = (ctx.config, ctx.settings.fx, ctx.services.listings)
        built = self._groups_of
        if built is None or any(a is not b for a, b in zip(built, sources, strict=True)):
            self._groups = self._build_groups()
            self._groups_of = sources
        return self._groups

    def _build_groups(self) -> list[list[Listing]]:
        ctx = self.ctx
        fx = ctx.settings.fx
        mine = list(dict.fromkeys(ctx.config.underlyings))
        groups: list[list[Listing]] = []
        seen: set[str] = set()
        for lid in mine:
            if lid in seen:
                continue
            venues = [v for v in fx.venues_of(lid) if v in mine] or [lid]
            seen.update(venues)
            groups.append([ctx.services.listings[v] for v in venues])
        return groups
