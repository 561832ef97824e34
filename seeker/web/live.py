"""Live updates: server-sent events whenever a journal or the status file changes.

``GET /events`` streams ``event: update`` with ``{"version": n, "clock": …}`` each time the files
under the log root change (checked every ``poll_seconds``), and a comment every
``HEARTBEAT_SECONDS`` so proxies keep the connection. The page then fetches the parts it shows.
The stream ends when the client goes away or the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from seeker.web.auth import settings_of
from seeker.web.journals import journal_now, read_status, signature

router = APIRouter(tags=["live"])

HEARTBEAT_SECONDS = 15.0


async def updates(request: Request) -> AsyncIterator[str]:
    """Yield SSE messages: one ``update`` at once, then one per change of the journals."""
    settings = settings_of(request)
    stopping: asyncio.Event = request.app.state.stopping
    root = settings.log_root
    last = None
    version = 0
    idle = 0.0
    yield "retry: 2000\n\n"
    while not stopping.is_set() and not await request.is_disconnected():
        sig = await asyncio.to_thread(signature, root)
        if sig != last:
            last = sig
            version += 1
            status = await asyncio.to_thread(read_status, root)
            now = journal_now(status, root)
            data = {
                "version": version,
                "clock": now.isoformat() if now else None,
                "running": bool((status or {}).get("alive")),
            }
            yield f"event: update\ndata: {json.dumps(data)}\n\n"
            idle = 0.0
        elif idle >= HEARTBEAT_SECONDS:
            yield ": keep-alive\n\n"
            idle = 0.0
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), settings.poll_seconds)
        idle += settings.poll_seconds


@router.get("/events", response_class=StreamingResponse)
async def events(request: Request) -> StreamingResponse:
    """Stream an ``update`` event whenever the journals or the status change."""
    return StreamingResponse(
        updates(request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
