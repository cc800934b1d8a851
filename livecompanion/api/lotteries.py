"""Lottery endpoints (contract section 5, plus reads and the verification).

    POST /api/streams/{id}/lotteries                       operator  start: 201 {id, ends_at, ...}
    POST /api/streams/{id}/lotteries/{lottery}/draw        operator  draw now (once; later calls
                                                                     return the same result)
    GET  /api/streams/{id}/lotteries[/{lottery}]           viewer    entrants count, seed, winners
    GET  /api/streams/{id}/lotteries/{lottery}/verify      operator  re-run the draw from the
                                                                     recorded entrants and seed
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from livecompanion.api.deps import get_services, require
from livecompanion.api.services import Services
from livecompanion.lottery.service import lotteries_of

router = APIRouter(tags=["lotteries"])


class LotteryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keyword: Annotated[str, Field(min_length=1, max_length=100)]
    winners: Annotated[int, Field(ge=1, le=10_000)]
    duration_seconds: Annotated[int, Field(ge=1, le=24 * 3600)]
    prize: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    exclude_user_ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]],
                                Field(max_length=10_000)] = []


OPERATOR = [Depends(require("operator"))]


@router.post("/api/streams/{stream_id}/lotteries", status_code=201, dependencies=OPERATOR)
async def start_lottery(stream_id: str, body: LotteryIn, services: Services = Depends(get_services)) -> Any:
    """Start a lottery; one that matches a due cue of the live segment ticks that cue off."""
    from livecompanion.stream.service import tick_matching_cue

    try:
        lottery = await lotteries_of(services).create(stream_id, **body.model_dump())
    except ValueError as exc:
        return JSONResponse({"detail": str(exc)}, 422)
    return lottery | {"cue": await tick_matching_cue(services, stream_id, "lottery", body.keyword)}


@router.post("/api/streams/{stream_id}/lotteries/{lottery_id}/draw", dependencies=OPERATOR)
async def draw_lottery(stream_id: str, lottery_id: str, services: Services = Depends(get_services)) -> Any:
    return await lotteries_of(services).draw(stream_id, lottery_id)


@router.get("/api/streams/{stream_id}/lotteries", dependencies=[Depends(require("viewer"))])
async def list_lotteries(stream_id: str, services: Services = Depends(get_services)) -> Any:
    from livecompanion.lottery.records import lottery_rows
    from livecompanion.storage.streams import get_stream

    await get_stream(services.db, stream_id)  # 404 for an unknown stream
    service = lotteries_of(services)
    return [await service.view(stream_id, row.id) for row in await lottery_rows(services.db, stream_id)]


@router.get("/api/streams/{stream_id}/lotteries/{lottery_id}", dependencies=[Depends(require("viewer"))])
async def get_lottery(stream_id: str, lottery_id: str, services: Services = Depends(get_services)) -> Any:
    return await lotteries_of(services).view(stream_id, lottery_id)


@router.get("/api/streams/{stream_id}/lotteries/{lottery_id}/verify", dependencies=OPERATOR)
async def verify_lottery(stream_id: str, lottery_id: str, services: Services = Depends(get_services)) -> Any:
    try:
        return await lotteries_of(services).verify(stream_id, lottery_id)
    except ValueError as exc:
        return JSONResponse({"detail": str(exc)}, 409)


async def on_startup(services: Services) -> None:
    lotteries_of(services)  # starts the draw timer and the screen pusher


async def on_shutdown(services: Services) -> None:
    service = services.extras.pop("lottery", None)
    if service is not None:
        await service.close()
