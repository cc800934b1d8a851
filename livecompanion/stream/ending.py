"""The end of a show, across the domains (contract section 5, `POST .../end`).

    1. the stream's row goes to `ended`, its countdowns are cancelled and the pin taken down, in
       one transaction under the stream's lock (stream.service.end_stream); from here on nothing
       new starts on it (sales, countdowns, lotteries, pins, cues: 409 `ended`);
    2. every flash sale still running is stopped (later claims get 410);
    3. every lottery not drawn yet draws.

Steps 2 and 3 run after step 1 so that nothing can start between them; an End repeated after a
failure in step 2 or 3 (Redis down) runs them again before answering 409 `ended`. The `next` that
follows the last segment ends the show the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from livecompanion.errors import Conflict
from livecompanion.stream import service

if TYPE_CHECKING:
    from livecompanion.wiring import Services


async def _finish_running(services: Services, stream_id: str) -> dict[str, list[str]]:
    return {"stopped_sales": await services.sales.stop_running(stream_id),
            "drawn_lotteries": await services.lottery.draw_open(stream_id)}


async def end_show(services: Services, stream_id: str) -> dict[str, Any]:
    try:
        result = await service.end_stream(services, stream_id)
    except Conflict as exc:
        if exc.code == "ended":
            await _finish_running(services, stream_id)
        raise
    return result | await _finish_running(services, stream_id)


async def next_segment(services: Services, stream_id: str, from_index: int | None = None) -> dict[str, Any]:
    result = await service.next_segment(services, stream_id, from_index)
    if result["status"] == "ended":
        result |= await _finish_running(services, stream_id)
    return result
