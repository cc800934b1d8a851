"""OBS endpoints: what OBS is doing for a stream, "switch now" and "refresh overlay".

    GET  /api/streams/{id}/obs                      viewer    the stream's `obs` section (mapping, link
                                                              status, live scene, last switch)
    POST /api/streams/{id}/obs/switch               operator  {"segment_id": ...} or {"scene": ...}: 202
    POST /api/streams/{id}/obs/refresh-overlay      operator  reload the overlay browser source: 202

Both POSTs answer at once (202) with what was asked; the instance that talks to OBS does it and
the result shows in the section (`applied`, `refreshed`) and on every console through the feed.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from livecompanion.api.deps import get_services, require
from livecompanion.api.services import Services
from livecompanion.errors import DomainError
from livecompanion.obs.service import obs_of
from livecompanion.storage.streams import get_script

router = APIRouter(tags=["obs"])
T = TypeVar("T")


class SwitchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segment_id: str | None = Field(None, min_length=1, max_length=100, description="switch to this segment's scene")
    scene: str | None = Field(None, min_length=1, max_length=200, description="or to this OBS scene by name")


async def _answer(call: Awaitable[T], status: int = 200) -> Any:
    # Until api/errors.py maps domain errors in one place (issue 11), this router maps its own.
    try:
        result = await call
    except DomainError as exc:
        return JSONResponse(exc.body(), exc.status, headers=exc.headers())
    return JSONResponse(result, status) if status != 200 else result


@router.get("/api/streams/{stream_id}/obs", dependencies=[Depends(require("viewer"))])
async def obs_status(stream_id: str, services: Services = Depends(get_services)) -> Any:
    script = await get_script(services.db, stream_id)
    return await _answer(obs_of(services).section(stream_id, script))


@router.post("/api/streams/{stream_id}/obs/switch", dependencies=[Depends(require("operator"))])
async def switch_now(stream_id: str, body: SwitchIn, services: Services = Depends(get_services)) -> Any:
    script = await get_script(services.db, stream_id)
    return await _answer(obs_of(services).switch_now(stream_id, script, body.segment_id, body.scene), 202)


@router.post("/api/streams/{stream_id}/obs/refresh-overlay", dependencies=[Depends(require("operator"))])
async def refresh_overlay(stream_id: str, services: Services = Depends(get_services)) -> Any:
    script = await get_script(services.db, stream_id)
    return await _answer(obs_of(services).refresh_overlay(stream_id, script), 202)


async def on_startup(services: Services) -> None:
    obs_of(services)  # starts the scan: streams with `obs:` get their worker without waiting for a move


async def on_shutdown(services: Services) -> None:
    service = services.extras.pop("obs", None)
    if service is not None:
        await service.close()
