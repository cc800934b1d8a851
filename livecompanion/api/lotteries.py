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
from pydantic import ConfigDict, Field

from livecompanion.api.deps import get_services, require
from livecompanion.api.schemas import LotteryCheck, LotteryScreen, LotteryView, answers
from livecompanion.inputs import FromOutside
from livecompanion.stream.cue_firing import tick_matching_cue
from livecompanion.wiring import Services

router = APIRouter(tags=["lotteries"])


class LotteryIn(FromOutside):
    model_config = ConfigDict(extra="forbid")

    keyword: Annotated[str, Field(min_length=1, max_length=100)]
    winners: Annotated[int, Field(ge=1, le=10_000)]
    duration_seconds: Annotated[int, Field(ge=1, le=24 * 3600)]
    prize: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    exclude_user_ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]],
                                Field(max_length=10_000)] = Field(default_factory=list)


OPERATOR = [Depends(require("operator"))]


@router.post("/api/streams/{stream_id}/lotteries", status_code=201, dependencies=OPERATOR,
             response_model=LotteryScreen, responses=answers(404, 422))
async def start_lottery(stream_id: str, body: LotteryIn, services: Services = Depends(get_services)) -> Any:
    """Start a lottery; one that matches a due cue of the live segment ticks that cue off (`cue`)."""
    lottery = await services.lottery.create(stream_id, **body.model_dump())
    return lottery | {"cue": await tick_matching_cue(services, stream_id, "lottery", body.keyword)}


@router.post("/api/streams/{stream_id}/lotteries/{lottery_id}/draw", dependencies=OPERATOR,
             response_model=LotteryView, responses=answers(404))
async def draw_lottery(stream_id: str, lottery_id: str, services: Services = Depends(get_services)) -> Any:
    return await services.lottery.draw(stream_id, lottery_id)


@router.get("/api/streams/{stream_id}/lotteries", dependencies=[Depends(require("viewer"))],
            response_model=list[LotteryView], responses=answers(404))
async def list_lotteries(stream_id: str, services: Services = Depends(get_services)) -> Any:
    return await services.lottery.list_lotteries(stream_id)


@router.get("/api/streams/{stream_id}/lotteries/{lottery_id}", dependencies=[Depends(require("viewer"))],
            response_model=LotteryView, responses=answers(404))
async def get_lottery(stream_id: str, lottery_id: str, services: Services = Depends(get_services)) -> Any:
    return await services.lottery.view(stream_id, lottery_id)


@router.get("/api/streams/{stream_id}/lotteries/{lottery_id}/verify", dependencies=OPERATOR,
            response_model=LotteryCheck, responses=answers(404, 409))
async def verify_lottery(stream_id: str, lottery_id: str, services: Services = Depends(get_services)) -> Any:
    return await services.lottery.verify(stream_id, lottery_id)
