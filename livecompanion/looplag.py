"""How late the instance's event loop runs: a stall on the loop is in every latency at that moment.

A task asks to wake every `PERIOD` and notes how late it woke. A late wake means the loop was busy
with other work (or the process waited for a core) for that long. `GET /api/ingest/stats` reports
the counts and the last stalls over `STALL_MS` with their wall-clock time, so a benchmark can tell
an instance's stall from the whole machine's: at ten rooms (issue 20) pins, acks and claims were
all slow in the same few seconds of a run, about 100 ms, on an instance at a third of a core.
Costs 50 wake-ups a second.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

from livecompanion.tasks import cancel_and_wait

PERIOD = 0.02
STALL_MS = 50.0  # a wake this late is kept as a stall
KEPT = 50  # the last stalls kept


class LoopLag:
    def __init__(self) -> None:
        self.checks = 0
        self.over = {20: 0, 50: 0, 100: 0}  # wakes later than this many ms
        self.worst_ms = 0.0
        self.stalls: deque[tuple[int, float]] = deque(maxlen=KEPT)  # (wall ms when it woke, ms late)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="loop-lag")

    async def close(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time()
            await asyncio.sleep(PERIOD)
            self.note((loop.time() - asked - PERIOD) * 1000)

    def note(self, late_ms: float) -> None:
        self.checks += 1
        for bound in self.over:
            if late_ms > bound:
                self.over[bound] += 1
        self.worst_ms = max(self.worst_ms, late_ms)
        if late_ms > STALL_MS:
            self.stalls.append((int(time.time() * 1000), round(late_ms, 1)))

    def as_dict(self) -> dict[str, Any]:
        return {"checks": self.checks, **{f"over_{b}_ms": n for b, n in self.over.items()},
                "worst_ms": round(self.worst_ms, 1), "stalls": [list(s) for s in self.stalls]}
