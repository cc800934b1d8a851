"""The after-stream report and dashboards (contract sections 4 and 5)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, StreamingResponse

from livecompanion.analytics.dashboard import render_comparison_html
from livecompanion.analytics.rendering import rendered
from livecompanion.analytics.service import all_reports, event_log
from livecompanion.api.deps import get_services, require
from livecompanion.api.pages import refused_page
from livecompanion.api.schemas import answers
from livecompanion.wiring import Services

router = APIRouter(tags=["reports"])
viewer = [Depends(require("viewer"))]


@router.get("/api/streams/{stream_id}/events", dependencies=[Depends(require("operator"))],
            response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}},
                             "description": "The stored event log, one event a line, in the order stored."},
                       **answers(404)})
async def events(stream_id: str, services: Services = Depends(get_services)) -> StreamingResponse:
    """The stream's stored event log as NDJSON, streamed; `livecompanion report --events` reads it."""
    lines = await event_log(services, stream_id)
    return StreamingResponse(lines, media_type="application/x-ndjson", headers={
        "Content-Disposition": f'attachment; filename="{stream_id}-events.ndjson"'})


@router.get("/api/streams/{stream_id}/report", response_model=None, dependencies=viewer,
            responses=answers(404, 422, 503))
async def report(
    stream_id: str,
    format: str = Query("json", pattern="^(json|html|csv-minutes|csv-segments)$"),
    services: Services = Depends(get_services),
) -> Any:
    # Built off the event loop, within a time budget, cached by the stream's last event (rendering.py).
    body = await rendered(services, stream_id, format)
    if format == "html":
        return HTMLResponse(body)
    if format.startswith("csv-"):
        return PlainTextResponse(body, media_type="text/csv; charset=utf-8")
    return body


# The dashboards are pages: without a (good) token they answer the HTML 401/403 page, whose script
# puts back the token a reload lost (the page drops ?token= from its address after reading it).
@router.get("/streams/{stream_id}/dashboard", response_class=HTMLResponse, include_in_schema=False)
async def dashboard(stream_id: str, request: Request, services: Services = Depends(get_services)) -> HTMLResponse:
    _, refused = refused_page(request, services, "viewer", "dashboard", stream_id)
    if refused is not None:
        return refused
    return HTMLResponse(await rendered(services, stream_id, "html"))


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
async def comparison(request: Request, services: Services = Depends(get_services)) -> HTMLResponse:
    _, refused = refused_page(request, services, "viewer", "dashboard")
    if refused is not None:
        return refused
    reports = await all_reports(services)  # each computed in a worker thread
    return HTMLResponse(await asyncio.to_thread(render_comparison_html, reports))
