"""OBS endpoints: what OBS is doing for a stream, "switch now" and "refresh overlay".

    GET  /api/streams/{id}/obs                      viewer    the stream's `obs` section (mapping, link
                                                              status, live scene, last switch)
    POST /api/streams/{id}/obs/switch               operator  {"segment_id": ...} or {"scene": ...}: 202
    POST /api/streams/{id}/obs/refresh-overlay      operator  reload the overlay browser source: 202

Both POSTs answer at once (202) with what was asked; the instance that talks to OBS does it and
the result shows in the section (`applied`, `refreshed`) and on every console through the feed.
A stream whose script has no `obs:` section answers 409 `no_obs`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from livecompanion.api.deps import get_services, require
from livecompanion.api.schemas import Answer, answers
from livecompanion.storage.streams import get_script
from livecompanion.wiring import Services

router = APIRouter(tags=["obs"])
OPERATOR = [Depends(require("operator"))]


class SwitchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segment_id: str | None = Field(None, min_length=1, max_length=100, description="switch to this segment's scene")
    scene: str | None = Field(None, min_length=1, max_length=200, description="or to this OBS scene by name")


class ObsWanted(Answer):
    id: str
    scene: str
    reason: str = Field(description="e.g. 'segment mask-close', 'cue mask-close/0 (flash_sale)', 'end'")
    at_ms: int


class ObsRefreshAsked(Answer):
    id: str
    source: str = Field(description="the browser source OBS is asked to reload")
    at_ms: int


class ObsLinkState(Answer):
    status: str = Field(description="connected | disconnected | refused | unavailable")
    detail: str | None
    live_scene: str | None = Field(description="the scene OBS reports on program (when connected)")
    since_ms: int
    instance: str | None


class ObsSectionOut(Answer):
    config: dict[str, Any] = Field(description="address, password_env, overlay_source, segments: {id: scene}, "
                                               "cues: {action: scene}, end")
    link: ObsLinkState
    wanted: ObsWanted | None
    applied: dict[str, Any] | None = Field(description="{id, scene, ok, error, at_ms}: the last switch OBS did "
                                                       "or refused")
    refresh: ObsRefreshAsked | None
    refreshed: dict[str, Any] | None = Field(description="{id, ok, error, source, at_ms}")


@router.get("/api/streams/{stream_id}/obs", dependencies=[Depends(require("viewer"))],
            response_model=ObsSectionOut, responses=answers(404, 409))
async def obs_status(stream_id: str, services: Services = Depends(get_services)) -> Any:
    return await services.obs.section(stream_id, await get_script(services.db, stream_id))


@router.post("/api/streams/{stream_id}/obs/switch", status_code=202, dependencies=OPERATOR,
             response_model=ObsWanted, responses=answers(404, 409, 422))
async def switch_now(stream_id: str, body: SwitchIn, services: Services = Depends(get_services)) -> Any:
    script = await get_script(services.db, stream_id)
    return await services.obs.switch_now(stream_id, script, body.segment_id, body.scene)


@router.post("/api/streams/{stream_id}/obs/refresh-overlay", status_code=202, dependencies=OPERATOR,
             response_model=ObsRefreshAsked, responses=answers(404, 409, 422))
async def refresh_overlay(stream_id: str, services: Services = Depends(get_services)) -> Any:
    return await services.obs.refresh_overlay(stream_id, await get_script(services.db, stream_id))
