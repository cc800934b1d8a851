"""Show control (contract section 5): segments, countdowns, pins, cues, teleprompter remote, viewer socket.

Thin: each route validates its body and calls one function of `livecompanion.stream.service`.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from fastapi import APIRouter, Depends, Response, WebSocket, WebSocketDisconnect
from pydantic import ConfigDict, Field

from livecompanion.api.deps import accept_ws, authorize_ws, get_services, require, require_remote, services_of
from livecompanion.api.guards import Limits, close_socket
from livecompanion.api.schemas import CountdownStarted, CueFired, Pinned, PrompterCommand, ShowMoved, answers
from livecompanion.api.screen_frames import send_now_of
from livecompanion.errors import NotFound
from livecompanion.events.limits import MAX_TS
from livecompanion.inputs import FromOutside
from livecompanion.realtime.feed import SlowClient, serve_feed
from livecompanion.stream import cue_firing, ending, service
from livecompanion.stream.cues import MAX_TIME_SCALE
from livecompanion.wiring import Services

log = logging.getLogger(__name__)
CLOSE_SECONDS = Limits.close_seconds

router = APIRouter(tags=["show control"])
operator = [Depends(require("operator"))]
remote = [Depends(require_remote())]  # the operator, or the stream's phone remote


class _Body(FromOutside):
    model_config = ConfigDict(extra="forbid")


class Step(_Body):
    from_index: int | None = Field(
        None, description="The segment index the operator sees as live; 409 if the show has moved since."
    )


class Goto(_Body):
    index: int | None = Field(None, ge=0, description="0-based position in the script")
    id: str | None = Field(None, min_length=1, max_length=100, description="the segment's id")
    from_index: int | None = None
    ts: int | None = Field(
        None, ge=0, lt=MAX_TS,
        description="Epoch ms written on the segment event of the log instead of now: a rehearsal "
                    "(`livecompanion rehearse`) replays a recorded show's segment changes at their "
                    "recorded times, shifted. Within the ingest's window on event times. The screens' "
                    "segment clock still starts now.",
    )
    event_id: str | None = Field(
        None, min_length=1, max_length=200,
        description="The `id` of that segment event (a rehearsal's recorded one); 409 if the log has it.",
    )


class CountdownIn(_Body):
    seconds: int = Field(ge=1, le=service.MAX_COUNTDOWN_SECONDS)
    label: str | None = Field(None, max_length=200)


class PinIn(_Body):
    text: str = Field(min_length=1, max_length=service.MAX_PIN_TEXT)
    nickname: str | None = Field(None, max_length=200)


class FireIn(_Body):
    time_scale: float = Field(
        1.0, gt=0, le=MAX_TIME_SCALE, allow_inf_nan=False,
        description="Run the cue this many times faster: a countdown's `seconds` and a flash sale's or "
                    "lottery's `duration_seconds` are divided by it (whole seconds, at least 1).",
    )


class PrompterIn(_Body):
    action: Literal["play", "pause", "toggle", "speed", "faster", "slower", "back", "forward", "top",
                    "bigger", "smaller", "mirror_h", "mirror_v"]
    value: float | None = None


@router.post("/api/streams/{stream_id}/segments/next", dependencies=remote, response_model=ShowMoved,
             responses=answers(404, 409, 422))
async def next_segment(stream_id: str, body: Step | None = None,
                       services: Services = Depends(get_services)) -> dict[str, Any]:
    """Go live with the next segment; the first call starts the stream, the call after the last ends it
    (as End does). Allowed to the stream's phone remote too."""
    return await ending.next_segment(services, stream_id, body.from_index if body else None)


@router.post("/api/streams/{stream_id}/segments/previous", dependencies=operator, response_model=ShowMoved,
             responses=answers(404, 409, 422))
async def previous_segment(stream_id: str, body: Step | None = None,
                           services: Services = Depends(get_services)) -> dict[str, Any]:
    return await service.previous_segment(services, stream_id, body.from_index if body else None)


@router.post("/api/streams/{stream_id}/segments/goto", dependencies=operator, response_model=ShowMoved,
             responses=answers(404, 409, 422))
async def goto_segment(stream_id: str, body: Goto, services: Services = Depends(get_services)) -> dict[str, Any]:
    """Go live with any segment: `{"index": 3}` or `{"id": "mask-close"}`."""
    return await service.goto_segment(services, stream_id, body.index, body.id, body.from_index, body.ts,
                                       body.event_id)


@router.post("/api/streams/{stream_id}/end", dependencies=operator, response_model=ShowMoved,
             responses=answers(404, 409))
async def end_stream(stream_id: str, services: Services = Depends(get_services)) -> dict[str, Any]:
    """End the show: running sales end at once (later claims 410), countdowns and the pin are
    cleared, running lotteries draw; later next/previous/goto get 409 `ended` until `reopen`."""
    return await ending.end_show(services, stream_id)


class ReopenIn(_Body):
    BOOLEAN_FIELDS = frozenset({"confirm"})

    confirm: Literal[True] = Field(description="must be true: reopening an ended show is deliberate")


@router.post("/api/streams/{stream_id}/reopen", dependencies=operator, response_model=ShowMoved,
             responses=answers(404, 409, 422))
async def reopen_stream(stream_id: str, body: ReopenIn, services: Services = Depends(get_services)) -> dict[str, Any]:
    """Put an ended show back on air at its last segment. The body `{"confirm": true}` is required."""
    return await service.reopen_stream(services, stream_id)


@router.post("/api/streams/{stream_id}/countdowns", status_code=201, dependencies=operator,
             response_model=CountdownStarted, responses=answers(404, 422))
async def start_countdown(stream_id: str, body: CountdownIn,
                          services: Services = Depends(get_services)) -> dict[str, Any]:
    """Start a countdown: 201 with its `id` and `ends_at` (epoch ms), the same second on every screen."""
    started = await service.start_countdown(services, stream_id, body.seconds, body.label)
    return started | {"cue": await cue_firing.tick_matching_cue(services, stream_id, "countdown", body.seconds)}


@router.delete("/api/streams/{stream_id}/countdowns/{countdown_id}", status_code=204, dependencies=operator,
               responses=answers(404))
async def cancel_countdown(stream_id: str, countdown_id: str,
                           services: Services = Depends(get_services)) -> Response:
    await service.cancel_countdown(services, stream_id, countdown_id)
    return Response(status_code=204)


@router.post("/api/streams/{stream_id}/pins", dependencies=operator, response_model=Pinned,
             responses=answers(404, 422))
async def pin(stream_id: str, body: PinIn, services: Services = Depends(get_services)) -> dict[str, Any]:
    """Pin a comment on the overlay (it replaces the pinned one)."""
    return await service.pin(services, stream_id, body.text, body.nickname)


@router.delete("/api/streams/{stream_id}/pins", status_code=204, dependencies=operator,
               responses=answers(404))
async def unpin(stream_id: str, services: Services = Depends(get_services)) -> Response:
    await service.unpin(services, stream_id)
    return Response(status_code=204)


@router.post("/api/streams/{stream_id}/cues/{segment_id}/{cue_index}/fire", dependencies=operator,
             response_model=CueFired, responses=answers(404, 409, 422, 501, 503))
async def fire_cue(stream_id: str, segment_id: str, cue_index: int, force: bool = False,
                   body: FireIn | None = None, services: Services = Depends(get_services)) -> dict[str, Any]:
    """Run a cue of the script now. A cue fires once; `?force=true` fires it again. An optional body
    `{"time_scale": N}` (N > 0, default 1) runs its countdown, sale or lottery N times faster."""
    return await cue_firing.fire_cue(services, stream_id, f"{segment_id}/{cue_index}", force,
                                  body.time_scale if body else 1.0)


@router.post("/api/streams/{stream_id}/prompter", dependencies=remote, response_model=PrompterCommand,
             responses=answers(404, 422))
async def prompter(stream_id: str, body: PrompterIn, services: Services = Depends(get_services)) -> dict[str, Any]:
    """Remote control for the stream's teleprompters (play, pause, speed 1-9, back, forward, ...)."""
    return await service.prompter_command(services, stream_id, body.action, body.value)


@router.websocket("/ws/streams/{stream_id}")
async def viewer_socket(websocket: WebSocket, stream_id: str) -> None:
    """First a snapshot, then every change as a patch with the next rev (contract section 5)."""
    if not await authorize_ws(websocket, "viewer"):
        return
    services = services_of(websocket.app.state)
    await accept_ws(websocket)  # an unknown stream is found out on the first snapshot: closed with 4404
    services.warmer.touch(stream_id)  # its traffic follows its screens: get ready for it (warm.py)

    async def receive() -> str:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise ConnectionError("the client left")
        return message.get("text") or ""

    try:
        ended = await serve_feed(services.hub, stream_id, websocket.send_text, receive,
                                 lambda: service.load_state(services, stream_id),
                                 send_timeout=services.settings.ws_send_timeout,
                                 send_now=send_now_of(websocket.scope))
    except NotFound:
        await _close(websocket, 4404, f"no stream '{stream_id}'")
    except SlowClient:
        await _close(websocket, 1013, "too slow to keep up: reconnect")
    except (ConnectionError, OSError, RuntimeError, WebSocketDisconnect) as exc:  # gone mid-send
        log.debug("viewer socket of %s closed: %s", stream_id, exc)
    else:
        if ended == "closed":
            await _close(websocket, 1012, "the service is restarting")


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    await close_socket(websocket, code, reason, CLOSE_SECONDS)
