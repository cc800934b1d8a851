"""`POST /api/streams`, `GET /api/streams`, `GET /api/streams/{id}` (contract section 5)."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from livecompanion.api.deps import get_services, require
from livecompanion.api.schemas import ScriptRejected, StreamCreated, StreamState, StreamSummary, answers
from livecompanion.api.urls import stream_urls
from livecompanion.scripts import check_text
from livecompanion.storage import streams as repo
from livecompanion.wiring import Services

router = APIRouter(tags=["streams"])

MAX_SCRIPT_BYTES = 1_000_000

SCRIPT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
        "description": "A live script (contract section 1), as YAML or the same as JSON.",
    }
}


@router.post("/api/streams", status_code=201, openapi_extra=SCRIPT_BODY,
             dependencies=[Depends(require("operator"))], response_model=StreamCreated,
             responses={**answers(413), 422: {"model": ScriptRejected, "description": "the script has errors"}})
async def create_stream(request: Request, services: Services = Depends(get_services)) -> Any:
    body = await request.body()
    if len(body) > MAX_SCRIPT_BYTES:
        return JSONResponse({"detail": f"a live script may be at most {MAX_SCRIPT_BYTES:,} bytes"}, 413)
    result = check_text(body, "script")
    findings = [f.as_dict() | {"text": f.format()} for f in result.findings]
    if not result.ok or result.script is None:
        return JSONResponse({"detail": "the script has errors", "findings": findings}, 422)
    stream_id = await repo.create_stream(services.db, result.script, body.decode("utf-8-sig"))
    return {"id": stream_id, "title": result.script.title, "findings": findings,
            "urls": stream_urls(services.settings, stream_id)}


@router.get("/api/streams", dependencies=[Depends(require("viewer"))], response_model=list[StreamSummary],
            responses=answers())
async def list_streams(
    archived: bool = False,
    status: Literal["ready", "live", "ended"] | None = Query(
        None, description="only the streams in this state: `live` is what the multi-room wall (`/wall`) shows"),
    services: Services = Depends(get_services),
) -> list[dict[str, Any]]:
    """Newest first; `?archived=true` includes the archived streams; `?status=live` only the streams
    on air now (ready: not started; ended: over)."""
    return [asdict(s) for s in await repo.list_streams(services.db, archived=archived, status=status)]


@router.get("/api/streams/{stream_id}", dependencies=[Depends(require("viewer"))], response_model=StreamState,
            responses=answers(404))
async def get_stream(stream_id: str, services: Services = Depends(get_services)) -> dict[str, Any]:
    from livecompanion.stream.service import load_state

    rev, state = await load_state(services, stream_id)
    return {"id": stream_id, "rev": rev, "server_time": int(time.time() * 1000), "state": state}
