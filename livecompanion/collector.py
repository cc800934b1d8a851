"""How long the cyclic garbage collector held the event loop, per generation (issue 20).

A collection runs on whatever code allocated at that moment, so its pause lands in the latency of
whatever the loop was doing: a full (generation 2) collection walks every tracked object that was
not frozen at start (`api/ingest.tune_gc`). `GET /api/ingest/stats` reports these figures, so a
benchmark's tail can be set against the collector's pauses of the same run.
"""

from __future__ import annotations

import gc
import time
from typing import Any


class CollectorPauses:
    """Collections per generation: how many, their total and longest time (ms)."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.total_ms = [0.0, 0.0, 0.0]
        self.longest_ms = [0.0, 0.0, 0.0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = info["generation"]
        took = (time.perf_counter() - self._started) * 1000
        self.count[generation] += 1
        self.total_ms[generation] += took
        self.longest_ms[generation] = max(self.longest_ms[generation], took)

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {f"generation {g}": {"collections": self.count[g], "total_ms": round(self.total_ms[g], 1),
                                    "longest_ms": round(self.longest_ms[g], 1)} for g in range(3)}


PAUSES = CollectorPauses()


def watch() -> None:
    """Time every collection from now on (once a process)."""
    if PAUSES not in gc.callbacks:
        gc.callbacks.append(PAUSES)
