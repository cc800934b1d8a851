"""The instance notes how late its event loop runs (livecompanion/looplag.py) and reports it in
`GET /api/ingest/stats`, so a benchmark can tell an instance's stall from the machine's."""

from __future__ import annotations

import asyncio
import time

import httpx

from livecompanion.looplag import LoopLag
from tests.conftest import ServerProcess


async def test_a_blocked_loop_is_noted_as_a_stall_with_its_time() -> None:
    lag = LoopLag()
    lag.start()
    await asyncio.sleep(0.1)  # some quiet wakes first
    before = time.time() * 1000
    time.sleep(0.15)  # noqa: ASYNC251 - the loop held by one callback, on purpose
    await asyncio.sleep(0.1)
    await lag.close()
    figures = lag.as_dict()
    assert figures["checks"] >= 3
    assert figures["over_100_ms"] >= 1 and figures["worst_ms"] >= 100
    ((at, late),) = [s for s in figures["stalls"] if s[1] > 100]
    assert before <= at <= time.time() * 1000 and 100 <= late <= 1000


def test_quiet_wakes_are_counted_but_not_kept() -> None:
    lag = LoopLag()
    for late in (0.5, 3.0, 25.0, 60.0):
        lag.note(late)
    figures = lag.as_dict()
    assert (figures["checks"], figures["over_20_ms"], figures["over_50_ms"], figures["over_100_ms"]) == (4, 2, 1, 0)
    assert [s[1] for s in figures["stalls"]] == [60.0]


def test_the_server_reports_its_loop_lag(server: ServerProcess) -> None:
    time.sleep(0.3)
    lag = httpx.get(f"{server.base_url}/api/ingest/stats", headers=server.headers("operator")).json()["loop_lag"]
    assert lag["checks"] >= 5 and isinstance(lag["stalls"], list)
