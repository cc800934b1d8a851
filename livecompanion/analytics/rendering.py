"""Reports and dashboards built off the event loop, within a time budget, cached by the stream's last event.

    body = await rendered(services, stream_id, "html")    # str; "json" gives the report dict

Issue 13 item 1: the dashboard was rendered on the event loop, so one request on a stream with many
segments froze claims, sockets and /healthz for as long as Plotly took (30 segments: 8.2 s). Now:

- the report and its rendering run in a worker thread (`asyncio.to_thread`): the loop keeps
  answering (the thread holds the GIL in slices, the loop gets its turns);
- at most `WORKERS` builds run at once in a process; the same (stream, format, inputs) asked again
  while it is being built waits for that build instead of starting another (single flight);
- a caller waits at most `BUDGET_SECONDS`, then gets 503 + Retry-After (`Unavailable`); the build
  goes on and fills the cache, so the retry is answered at once;
- results are cached by what they are built from: the stream's stored events (their count and the
  last one) and the sales and lottery records. A stream that took no new event since is answered
  from the cache (`CACHE_SIZE` entries, least recently used dropped).

Reading the events is still linear in the stream (the record is read to know its last event); the
computation and the figures are what the cache saves.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from livecompanion.analytics import exports
from livecompanion.analytics.dashboard import render_dashboard_html
from livecompanion.analytics.service import ReportInputs, report_inputs
from livecompanion.errors import Unavailable

if TYPE_CHECKING:
    from livecompanion.core import Core

__all__ = ["BUDGET_SECONDS", "FORMATS", "rendered"]

BUDGET_SECONDS = 8.0  # under common client timeouts (10 s): a 503 + Retry-After, not a hung request
WORKERS = 2
CACHE_SIZE = 32
RETRY_AFTER = 5


def _json(report: dict[str, Any]) -> dict[str, Any]:
    return report


FORMATS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "json": _json,
    "html": render_dashboard_html,
    "csv-minutes": exports.minutes_csv,
    "csv-segments": exports.segments_csv,
}

_cache: OrderedDict[tuple[str, ...], Any] = OrderedDict()
_building: dict[tuple[str, ...], asyncio.Task[Any]] = {}
_workers: dict[int, asyncio.Semaphore] = {}  # one per event loop (tests run several)


def _build(inputs: ReportInputs, fmt: str) -> Any:
    return FORMATS[fmt](inputs.compute())


async def rendered(services: Core, stream_id: str, fmt: str) -> Any:
    """The stream's report in `fmt` (a key of FORMATS). NotFound for no such stream; Unavailable
    (503 + Retry-After) when it is not built within BUDGET_SECONDS (the build goes on)."""
    inputs = await report_inputs(services, stream_id)
    key = (str(services.db.url), stream_id, fmt, inputs.marker())
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    task = _building.get(key)
    if task is None:
        task = asyncio.create_task(_run(key, services, inputs, fmt), name=f"report {stream_id} {fmt}")
        _building[key] = task
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved, even if all gave up
    try:
        # shield: a caller that gives up (budget, disconnect) does not cancel the build for the others
        return await asyncio.wait_for(asyncio.shield(task), BUDGET_SECONDS)
    except TimeoutError:
        raise Unavailable(f"the report of stream '{stream_id}' is still being built; ask again shortly",
                          retry_after=RETRY_AFTER) from None


async def _run(key: tuple[str, ...], services: Core, inputs: ReportInputs, fmt: str) -> Any:
    loop = asyncio.get_running_loop()
    workers = _workers.setdefault(id(loop), asyncio.Semaphore(WORKERS))
    try:
        inputs = await inputs.with_history(services)  # on a miss only: the history's reports cost seconds
        async with workers:
            result = await asyncio.to_thread(_build, inputs, fmt)
        _cache[key] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        return result
    finally:
        _building.pop(key, None)
