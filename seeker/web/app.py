"""The FastAPI app: pages, JSON read endpoints, the spec's API, control, live updates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from seeker.core.journal import JsonlWriter, to_jsonable
from seeker.engine.lifecycle import Strategy
from seeker.web import api, control, live, pages, spec_api
from seeker.web.journals import JournalCache
from seeker.web.params import EDITS_FILE
from seeker.web.results import ReportCache
from seeker.web.settings import LOOPBACK_HOSTS, WebSettings
from seeker.web.strategy_facts import strategy_facts

HERE = Path(__file__).parent


async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """Return a 422 whose errors name each field (a NaN given shows as null, never as NaN)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": to_jsonable(jsonable_encoder(errors))}, status_code=422)


def create_app(settings: WebSettings, registry: dict[str, type[Strategy]]) -> FastAPI:
    """Return the web app serving the journals and config of `settings`.

    `registry`: the strategies Seeker knows (``seeker.strategies.load()``), for their rules and
    config models.
    """
    decisions = JsonlWriter(settings.data_dir / spec_api.DECISIONS_FILE)
    edits = JsonlWriter(settings.data_dir / EDITS_FILE)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.loop = asyncio.get_running_loop()
        try:
            yield
        finally:
            app.state.stopping.set()
            decisions.close()
            edits.close()

    app = FastAPI(
        title="Seeker",
        description="Seeker's dashboard data and the spec's API (health, decision, risk, history).",
        version="1",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.registry = registry
    app.state.facts = strategy_facts(settings.config, registry)
    app.state.cache = JournalCache(settings.log_root)
    app.state.reports = ReportCache(settings)
    app.state.decisions_writer = decisions
    app.state.edits_writer = edits
    app.state.stopping = asyncio.Event()
    if settings.loopback:
        hosts = [*LOOPBACK_HOSTS, "[::1]"]
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(spec_api.router)
    app.include_router(api.router)
    app.include_router(control.router)
    app.include_router(live.router)
    app.include_router(pages.router)
    return app
