"""JSON read endpoints the page is built from (open on localhost: they change nothing).

``/api/status`` (what ``seeker status`` reads), ``/api/overview`` (cards, strategies, tail),
``/api/positions`` and ``/api/positions/{id}`` (legs, greeks, payoff points, touch odds,
confidence history), ``/api/summary`` (the figures of ``seeker summary``), ``/api/equity``,
``/api/journal`` (the filters of ``seeker journal``) and ``/api/config`` (the effective config).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError

from seeker.config.loading import flatten
from seeker.core.calendar import MARKET_TZ
from seeker.core.journal import to_jsonable
from seeker.ui.journal_view import JournalFilter, select
from seeker.ui.lines import describe
from seeker.ui.position import close_matches, load_position, position_ids
from seeker.web.auth import settings_of
from seeker.web.detail import detail
from seeker.web.journals import read_status
from seeker.web.overview import overview
from seeker.web.results import results

router = APIRouter(prefix="/api", tags=["read"])

JOURNAL_MAX = 2000


def parse_since(text: str | None) -> datetime | None:
    """Return a `since` filter as an aware datetime (a date: its midnight, New York time)."""
    if not text:
        return None
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=MARKET_TZ)
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", "since"),
                    "msg": "expected YYYY-MM-DD or an ISO 8601 date-time",
                    "input": text,
                }
            ]
        ) from None
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=MARKET_TZ)


@router.get("/status")
def status(request: Request) -> dict[str, Any]:
    """Return the status ``seeker status`` shows (``alive``: the run's process exists)."""
    data = read_status(settings_of(request).log_root)
    if data is None:
        return {"alive": False, "running": False, "note": "Seeker has not run in this log folder"}
    return data


@router.get("/overview")
def get_overview(request: Request) -> dict[str, Any]:
    """Return the main page's data: status, committed risk, cards, strategies, journal tail."""
    st = request.app.state
    return overview(settings_of(request), st.cache, st.facts).as_dict()


@router.get("/positions")
def positions(
    request: Request,
    include_closed: Annotated[bool, Query(description="Closed positions too.")] = False,
) -> dict[str, Any]:
    """Return the open positions as cards; with include_closed, every journaled position."""
    st = request.app.state
    view = overview(settings_of(request), st.cache, st.facts)
    out: dict[str, Any] = {"open": to_jsonable([asdict(c) for c in view.cards])}
    if include_closed:
        rows = []
        for fp in st.cache.folders():
            for pos in sorted(fp.book.positions.values(), key=lambda p: p.position_id):
                rows.append(
                    {
                        "position_id": pos.position_id,
                        "folder": fp.folder,
                        "status": pos.status,
                        "listing_id": pos.listing_id,
                        "label": pos.meta.get("label"),
                        "opened_at": pos.opened_at,
                        "closed_at": pos.closed_at,
                        "exit_rule": pos.exit_rule,
                        "pnl": pos.realized_pnl() if pos.status == "closed" else None,
                        "currency": pos.currency,
                    }
                )
        out["all"] = to_jsonable(rows)
    return out


@router.get("/positions/{position_id}")
def position(
    position_id: str,
    request: Request,
    tx: Annotated[float | None, Query(ge=0.0, le=3650.0, description="Days for T+X.")] = None,
) -> dict[str, Any]:
    """Return one position: facts, legs, greeks, touch odds, payoff points, confidence, log."""
    settings = settings_of(request)
    record = load_position(settings.log_root, position_id)
    if record is None:
        known = sorted(position_ids(settings.log_root))
        near = close_matches(position_id, known)
        hint = f"; close matches: {', '.join(near)}" if near else ""
        raise HTTPException(404, f"unknown position {position_id!r}{hint}")
    out: dict[str, Any] = to_jsonable(detail(record, settings.config, tx).as_dict())
    return out


@router.get("/summary")
def summary(request: Request) -> dict[str, Any]:
    """Return the figures of ``seeker summary`` (real and shadow apart) and the equity curves."""
    out: dict[str, Any] = to_jsonable(results(request.app.state.reports.report()))
    return out


@router.get("/equity")
def equity(request: Request) -> dict[str, Any]:
    """Return the cumulative net P&L of real trades, per currency and per strategy."""
    data = results(request.app.state.reports.report())
    out: dict[str, Any] = to_jsonable(
        {"equity": data["equity"], "equity_by_strategy": data["equity_by_strategy"]}
    )
    return out


@router.get("/journal")
def journal(
    request: Request,
    strategy: Annotated[list[str] | None, Query(description="Only these strategies.")] = None,
    event: Annotated[list[str] | None, Query(description="Only these events.")] = None,
    outcome: Annotated[str | None, Query(description="DECISION outcome.")] = None,
    blocked_by: Annotated[str | None, Query(description="DECISION refused by this agent.")] = None,
    position: Annotated[str | None, Query(description="Only lines of this position.")] = None,
    since: Annotated[str | None, Query(description="YYYY-MM-DD or ISO 8601.")] = None,
    limit: Annotated[int, Query(ge=1, le=JOURNAL_MAX, description="The last N lines.")] = 200,
) -> dict[str, Any]:
    """Return journal lines that pass the filters of ``seeker journal``, newest first."""
    items = journal_lines(request, strategy, event, outcome, blocked_by, position, since, limit)
    return {"items": to_jsonable(items)}


def journal_lines(
    request: Request,
    strategy: list[str] | None,
    event: list[str] | None,
    outcome: str | None,
    blocked_by: str | None,
    position: str | None,
    since: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Return the filtered journal lines, newest first, each with its folder and short text."""
    flt = JournalFilter(
        strategies=[s for s in strategy or [] if s],
        since=parse_since(since),
        outcome=outcome or None,
        blocked_by=blocked_by or None,
        events=[e for e in event or [] if e],
        position=position or None,
    )
    entries = select(settings_of(request).log_root, flt, limit)
    out = []
    for e in reversed(entries):
        text, _ = describe(e.line)
        out.append({"source": e.source, "text": text, "line": e.line})
    return out


@router.get("/config")
def config(request: Request) -> dict[str, Any]:
    """Return the effective config (dotted keys and values) and the file it was read from."""
    settings = settings_of(request)
    rows = flatten(settings.config)
    return {"path": str(settings.config_path), "values": dict(rows)}
