"""The after-stream report and dashboards (contract sections 4 and 5)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, StreamingResponse

from livecompanion.analytics import exports
from livecompanion.analytics.dashboard import render_comparison_html, render_dashboard_html
from livecompanion.analytics.service import all_reports, event_log, stream_report
from livecompanion.api.deps import get_services, require
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
            responses=answers(404, 422))
async def report(
    stream_id: str,
    format: str = Query("json", pattern="^(json|html|csv-minutes|csv-segments)$"),
    services: Services = Depends(get_services),
) -> Any:
    data = await stream_report(services, stream_id)
    if format == "html":
        return HTMLResponse(render_dashboard_html(data))
    if format == "csv-minutes":
        return PlainTextResponse(exports.minutes_csv(data), media_type="text/csv; charset=utf-8")
    if format == "csv-segments":
        return PlainTextResponse(exports.segments_csv(data), media_type="text/csv; charset=utf-8")
    return data


@router.get("/streams/{stream_id}/dashboard", response_class=HTMLResponse, include_in_schema=False,
            dependencies=viewer)
async def dashboard(stream_id: str, services: Services = Depends(get_services)) -> HTMLResponse:
    return HTMLResponse(render_dashboard_html(await stream_report(services, stream_id)))


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False, dependencies=viewer)
async def comparison(services: Services = Depends(get_services)) -> HTMLResponse:
    return HTMLResponse(render_comparison_html(await all_reports(services)))
