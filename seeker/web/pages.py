"""The pages (server-rendered, dark): overview, position, journal, results, parameters.

Each page is a Jinja template over the same data as the JSON endpoints; ``/fragments/…`` return
the parts the page's script swaps in on a live update, and the parameter editor's preview and
result. Nothing here changes state except ``POST /parameters/write`` (token required).
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field

from seeker.config.loading import flatten
from seeker.core.calendar import MARKET_TZ
from seeker.core.clock import WallClock
from seeker.engine.registry import config_models
from seeker.ui.lines import EVENT_STYLES, short_ts
from seeker.ui.position import load_position
from seeker.web.api import journal_lines
from seeker.web.auth import TokenRequired, settings_of
from seeker.web.cards import score_level
from seeker.web.detail import confidence_plot, detail, payoff_plot
from seeker.web.overview import overview
from seeker.web.params import EDITABLE_TABLES, editable, journal_edit, new_path, preview, write_new
from seeker.web.results import equity_curves, equity_plot

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

JOURNAL_EVENTS = tuple(EVENT_STYLES)
BLOCKERS = (
    "regime",
    "generator",
    "critic",
    "event_risk",
    "liquidity",
    "risk_guard",
    "fx_router",
    "data",
    "strategy",
)


def money(value: Any, digits: int = 2) -> str:
    """Return a signed amount (``+12.30``) or ``?`` when unknown."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "?"
    return f"{value:+,.{digits}f}"


def number(value: Any, fmt: str = ".2f") -> str:
    """Return a number formatted with `fmt`, or ``?`` when unknown."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "?"
    return format(value, fmt)


templates.env.filters["money"] = money
templates.env.filters["number"] = number
templates.env.filters["short_ts"] = short_ts
templates.env.globals["score_level"] = score_level


def _page(request: Request, name: str, **context: Any) -> HTMLResponse:
    settings = settings_of(request)
    base = {
        "config_path": str(settings.config_path),
        "log_root": str(settings.log_root),
        "token_enabled": settings.token is not None,
    }
    return templates.TemplateResponse(request, name, base | context)


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    """Return the overview: status, committed risk, position cards, strategies, journal tail."""
    st = request.app.state
    view = overview(settings_of(request), st.cache, st.facts)
    return _page(request, "index.html", view=view, page="overview")


@router.get("/fragments/overview", response_class=HTMLResponse)
def overview_fragment(request: Request) -> HTMLResponse:
    """Return the overview's body alone (swapped in on a live update)."""
    st = request.app.state
    view = overview(settings_of(request), st.cache, st.facts)
    return _page(request, "_overview.html", view=view)


@router.get("/positions/{position_id}", response_class=HTMLResponse)
def position_page(
    position_id: str,
    request: Request,
    tx: Annotated[float | None, Query(ge=0.0, le=3650.0)] = None,
) -> HTMLResponse:
    """Return one position: facts, legs, greeks, touch odds, payoff chart, confidence, log."""
    settings = settings_of(request)
    record = load_position(settings.log_root, position_id)
    if record is None:
        return _page(request, "missing.html", what=f"position {position_id}", page="")
    d = detail(record, settings.config, tx)
    return _page(
        request,
        "position.html",
        d=d,
        payoff=payoff_plot(d.payoff) if d.payoff and d.payoff.prices else None,
        conf_plot=confidence_plot(d.confidence),
        page="",
    )


@router.get("/journal", response_class=HTMLResponse)
def journal_page(
    request: Request,
    strategy: str = "",
    event: str = "",
    outcome: str = "",
    blocked_by: str = "",
    position: str = "",
    since: str = "",
    limit: Annotated[int, Query(ge=1, le=2000)] = 200,
) -> HTMLResponse:
    """Return the global journal with the filters of ``seeker journal``, newest first."""
    settings = settings_of(request)
    lines = journal_lines(
        request,
        [strategy] if strategy else None,
        [event] if event else None,
        outcome,
        blocked_by,
        position,
        since,
        limit,
    )
    names = sorted(
        {
            *settings.config.strategies.enabled,
            *(f.folder for f in request.app.state.cache.folders()),
        }
    )
    filters = {
        "strategy": strategy,
        "event": event,
        "outcome": outcome,
        "blocked_by": blocked_by,
        "position": position,
        "since": since,
        "limit": limit,
    }
    return _page(
        request,
        "journal.html",
        lines=lines,
        filters=filters,
        strategies=names,
        events=JOURNAL_EVENTS,
        blockers=BLOCKERS,
        page="journal",
    )


@router.get("/results", response_class=HTMLResponse)
def results_page(request: Request) -> HTMLResponse:
    """Return the equity curve and the per-strategy results of ``seeker summary``."""
    report = request.app.state.reports.report()
    chart = equity_plot(equity_curves(report.real.trades))
    return _page(request, "results.html", report=report, equity_chart=chart, page="results")


@router.get("/parameters", response_class=HTMLResponse)
def parameters_page(request: Request) -> HTMLResponse:
    """Return the effective parameters and the editor of the hard thresholds."""
    settings = settings_of(request)
    source = settings.config_path.read_text()
    fields = editable(source)
    rows = flatten(settings.config)
    return _page(
        request,
        "parameters.html",
        fields=fields,
        tables=EDITABLE_TABLES,
        rows=rows,
        edits_dir=str(settings.edits_dir),
        page="parameters",
    )


class EditRequest(BaseModel):
    """Dotted keys and their new values as typed; `digest` (write only): the previewed text's."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    edits: dict[Annotated[str, Field(max_length=200)], Annotated[str, Field(max_length=2000)]]
    digest: str | None = None


def _preview(request: Request, edits: dict[str, str]) -> Any:
    settings = settings_of(request)
    models = config_models(request.app.state.registry)
    return preview(settings.config_path, edits, models, settings.edits_dir.resolve())


@router.post("/parameters/preview", response_class=HTMLResponse)
def parameters_preview(body: EditRequest, request: Request) -> Response:
    """Return the edit's diff, or its problems (each naming its key) with status 422."""
    p = _preview(request, body.edits)
    status = 422 if p.problems else 200
    return templates.TemplateResponse(
        request, "_edit_preview.html", {"p": p, "written": None}, status_code=status
    )


@router.post("/parameters/write", response_class=HTMLResponse, dependencies=[TokenRequired])
def parameters_write(body: EditRequest, request: Request) -> Response:
    """Write the previewed edit to a new config file and journal it (token required)."""
    settings = settings_of(request)
    p = _preview(request, body.edits)
    if not p.problems and body.digest != p.digest:
        p.problems.append(
            "the config changed since the preview (or no preview was made): preview it again"
        )
    if p.problems or not p.changes:
        if not p.changes and not p.problems:
            p.problems.append("nothing to write: no value differs from the current config")
        return templates.TemplateResponse(
            request, "_edit_preview.html", {"p": p, "written": None}, status_code=422
        )
    now: datetime = WallClock().now()
    path = new_path(settings.config_path, settings.edits_dir, now.astimezone(MARKET_TZ))
    try:
        write_new(p.text, path)
    except OSError as exc:
        p.problems.append(f"cannot write {path}: {exc.strerror or exc}")
        return templates.TemplateResponse(
            request, "_edit_preview.html", {"p": p, "written": None}, status_code=500
        )
    journal_edit(request.app.state.edits_writer, p, path, now)
    return templates.TemplateResponse(request, "_edit_preview.html", {"p": p, "written": str(path)})
