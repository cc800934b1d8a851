"""What the operator's console needs beyond show control: the chat feed, answered questions, notes
to the host, and the links to hand out (each with only the role its screen needs).

    GET    /api/streams/{id}/comments?after=SEQ&since_ms=MS&limit=N   viewer    newest first
    POST   /api/streams/{id}/questions/answered   {key, answered?}    operator  the `answered` section
    POST   /api/streams/{id}/notes                {text}              operator  a note on the teleprompter
    DELETE /api/streams/{id}/notes                                    operator  take it down
    GET    /api/streams/{id}/links                                    operator  URLs for OBS, tablets, phones
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from livecompanion.api.deps import get_services, require
from livecompanion.api.schemas import answers
from livecompanion.api.urls import share_urls
from livecompanion.realtime import set_op
from livecompanion.storage.streams import get_stream
from livecompanion.stream import chat, service
from livecompanion.wiring import Services

router = APIRouter(tags=["console"])
OPERATOR = [Depends(require("operator"))]


class AnsweredIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=200, description="the question group's key (`question_key`)")
    answered: bool = True


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=500)


@router.get("/api/streams/{stream_id}/comments", dependencies=[Depends(require("viewer"))],
            responses=answers(404, 422))
async def comments(stream_id: str, after: int = Query(0, ge=0), since_ms: int | None = Query(None, ge=0),
                   limit: int = Query(100, ge=1, le=chat.MAX_FEED),
                   services: Services = Depends(get_services)) -> list[dict[str, Any]]:
    """The chat feed: stored comments newer than `after` (a `seq`), newest first, spam left out,
    each with `kind` (question | intent | chitchat), `question_key` and `intents`."""
    await get_stream(services.db, stream_id)  # 404 for an unknown stream
    lines = await chat.chat_feed(services.db, stream_id, after_seq=after, since_ms=since_ms, limit=limit)
    return [line.as_dict() for line in lines]


@router.post("/api/streams/{stream_id}/questions/answered", dependencies=OPERATOR, responses=answers(404, 422))
async def answered(stream_id: str, body: AnsweredIn, services: Services = Depends(get_services)) -> dict[str, Any]:
    return {"answered": await chat.mark_answered(services, stream_id, body.key, body.answered)}


@router.post("/api/streams/{stream_id}/notes", dependencies=OPERATOR, responses=answers(404, 422))
async def note(stream_id: str, body: NoteIn, services: Services = Depends(get_services)) -> dict[str, Any]:
    """Show a note to the host on the teleprompter (never on the overlay) until the segment changes."""
    await get_stream(services.db, stream_id)
    return await service.show_note(services, stream_id, body.text.strip())


@router.delete("/api/streams/{stream_id}/notes", status_code=204, dependencies=OPERATOR, responses=answers(404))
async def clear_note(stream_id: str, services: Services = Depends(get_services)) -> Response:
    await get_stream(services.db, stream_id)
    await service.apply(services, stream_id, [set_op(["note"], None)])
    return Response(status_code=204)


@router.get("/api/streams/{stream_id}/links", dependencies=OPERATOR, responses=answers(404))
async def links(stream_id: str, services: Services = Depends(get_services)) -> dict[str, str]:
    """The pages to hand out: OBS, the teleprompter tablet and the dashboard carry the viewer token;
    the phone remote a token that only drives this stream's teleprompter (never the operator's)."""
    await get_stream(services.db, stream_id)
    return share_urls(services.settings, stream_id)
