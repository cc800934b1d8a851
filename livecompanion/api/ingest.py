"""`POST /api/streams/{id}/events` and `WS /ws/streams/{id}/ingest` (contract sections 2 and 5).

POST takes a JSON array, one object, or NDJSON (`Content-Type: application/x-ndjson`, or sniffed)
and answers 200 `{"accepted", "duplicates", "rejected": [{"index", "reason"}]}` once the new
events are committed. 404: unknown stream; 413: over 5 MB or 10,000 events; 503 with
Retry-After: ingest is saturated (try again), or shutting down. The socket protocol is in
`livecompanion/ingest/socket.py`.

`GET /api/ingest/stats` (operator): this instance's writer figures (flushes, events, largest
flush, time writing and in after-commit steps, 503s), the last requests' time from submit to
answer (`answer_ms`: the server's share of an acknowledgement), live patches published and the
most commits that waited for their live numbers (`live_queue_peak`; 1000 = full, the writer waited),
and the most flushes whose orders waited for the order step (`order_queue_peak`, the same bound),
the cyclic collector's pauses per generation since start (`collector`: livecompanion/collector.py),
and how late the event loop ran (`loop_lag`: livecompanion/looplag.py).
"""

from __future__ import annotations

import asyncio
import gc
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import Response
from pydantic import TypeAdapter

from livecompanion import collector
from livecompanion.api.deps import accept_ws, authorize, authorize_ws, get_services, require, services_of
from livecompanion.api.guards import close_socket
from livecompanion.api.schemas import IngestAnswer, IngestStats, answers
from livecompanion.errors import DomainError, TooLarge
from livecompanion.ingest.service import MAX_BODY_BYTES
from livecompanion.ingest.socket import serve_ingest
from livecompanion.ingest.sources import SourceSession
from livecompanion.realtime.feed import SlowClient
from livecompanion.wiring import Services

router = APIRouter(tags=["ingest"])

EVENTS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"oneOf": [{"type": "array", "items": {"type": "object"}}, {"type": "object"}]}
            },
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
        "description": "Events (contract section 2): a JSON array, one object, or NDJSON.",
    }
}


_gc_tuned = False


def tune_gc() -> None:
    """Ingest makes a dozen short-lived objects per event, nearly all freed by reference counting,
    yet each one counts toward the cyclic collector's next pass; with the default thresholds a busy
    server spends about a third of its CPU walking the large, long-lived heap of the application.
    Freezing what exists after start-up and collecting the young generation less often cut the
    server's CPU per ingested event from ~21 to ~12 us in `scripts/bench_ingest.py`. It is
    process-wide, so it runs once; its natural home is the server's start-up."""
    global _gc_tuned
    if _gc_tuned:
        return
    _gc_tuned = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    collector.watch()


async def read_limited(request: Request, limit: int, what: str = "a request") -> bytes:
    """The body, refused with `TooLarge` as soon as it is over `limit` bytes (declared or sent)."""
    too_large = TooLarge(f"{what} may carry at most {limit:,} bytes")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


EVENTS_PATH = "/api/streams/{stream_id}/events"


@router.post(
    EVENTS_PATH, openapi_extra=EVENTS_BODY, dependencies=[Depends(require("ingest"))],
    response_model=IngestAnswer, responses=answers(400, 404, 413, 422, 503)
)
async def post_events(stream_id: str, request: Request, services: Services = Depends(get_services)) -> Any:
    await services.ingest.ensure_stream(stream_id)
    body = await read_limited(request, MAX_BODY_BYTES)
    result = await services.ingest.ingest_body(stream_id, body, request.headers.get("content-type"))
    return result.as_dict()


INGEST_ANSWER = TypeAdapter(IngestAnswer)


async def post_events_direct(request: Request) -> Response:
    """`post_events` with its dependencies resolved by hand, for `HotPathsFirst` (api/hot_paths.py):
    the role as `require("ingest")` checks it, the services as `get_services` finds them, and the
    answer validated and dumped to JSON by pydantic as FastAPI does for `response_model=IngestAnswer`
    (so a rejection without a line has `"line": null` both ways). Errors are raised, as the route
    raises them, for the caller to answer."""
    services = services_of(request.app.state)
    authorize(request, services.tokens, "ingest")
    answer = await post_events(request.path_params["stream_id"], request, services)
    return Response(INGEST_ANSWER.dump_json(INGEST_ANSWER.validate_python(answer)), media_type="application/json")


@router.get("/api/ingest/stats", dependencies=[Depends(require("operator"))], response_model=IngestStats,
            responses=answers())
async def ingest_stats(services: Services = Depends(get_services)) -> dict[str, Any]:
    """How this instance's ingest is doing (for operators and benchmarks): writer and live numbers."""
    ingest = services.ingest
    return {
        "writer": asdict(ingest.writer.stats),
        "pending_events": ingest.writer.pending_events,
        "answer_ms": ingest.writer.answer_ms(),
        "live_patches_published": ingest.live.published,
        "live_queue_peak": ingest.live_queue_peak,
        "order_queue_peak": ingest.order_queue_peak,
        "after_commit_steps": {k: round(v, 3) for k, v in ingest.step_seconds.items()},
        "collector": collector.PAUSES.as_dict(),
        "loop_lag": services.loop_lag.as_dict(),
    }


@router.websocket("/ws/streams/{stream_id}/ingest")
async def ingest_socket(websocket: WebSocket, stream_id: str) -> None:
    if not await authorize_ws(websocket, "ingest"):
        return
    services = services_of(websocket.app.state)
    ingest = services.ingest
    await accept_ws(websocket)
    try:
        await ingest.ensure_stream(stream_id)
    except DomainError as exc:  # an unknown stream (404), or shutting down (503)
        await websocket.send_json({"type": "error", "status": exc.status, "detail": exc.message})
        await close_socket(websocket, 4000 + exc.status, exc.message[:120])
        return

    async def receive() -> str | bytes:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        return text if text is not None else (message.get("bytes") or b"")

    send_timeout = services.settings.ws_send_timeout

    async def send(data: bytes) -> None:
        try:
            async with asyncio.timeout(send_timeout):  # a client that stops reading acks is dropped
                await websocket.send_text(data.decode())
        except TimeoutError:
            raise SlowClient() from None

    async def publish_source(stream: str, key: str, entry: dict[str, Any] | None) -> None:
        from livecompanion.realtime import del_op, set_op
        from livecompanion.stream import service as stream_service

        op = set_op(["sources", key], entry) if entry is not None else del_op(["sources", key])
        await stream_service.apply(services, stream, [op])

    try:
        await serve_ingest(ingest, stream_id, receive, send, source=SourceSession(stream_id, publish_source))
    except SlowClient:
        await close_socket(websocket, 1013, "not reading acks: reconnect and send what was not acknowledged")
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away; what was acknowledged is stored
