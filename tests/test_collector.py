"""The collector's pauses are counted per generation (livecompanion/collector.py), and the server
reports them in `GET /api/ingest/stats` beside the writer's figures."""

from __future__ import annotations

import gc

import httpx

from livecompanion.collector import CollectorPauses, watch
from tests.conftest import ServerProcess


def test_each_collection_is_timed_under_its_generation() -> None:
    pauses = CollectorPauses()
    gc.callbacks.append(pauses)
    try:
        gc.collect(0)
        gc.collect(2)
        gc.collect(2)
    finally:
        gc.callbacks.remove(pauses)
    assert pauses.count[0] >= 1 and pauses.count[2] >= 2
    figures = pauses.as_dict()["generation 2"]
    assert figures["collections"] >= 2 and 0 < figures["longest_ms"] <= figures["total_ms"]


def test_watching_twice_times_each_collection_once() -> None:
    watch()
    watch()
    from livecompanion.collector import PAUSES

    assert gc.callbacks.count(PAUSES) == 1


def test_the_server_reports_its_collections(server: ServerProcess) -> None:
    stats = httpx.get(f"{server.base_url}/api/ingest/stats", headers=server.headers("operator")).json()
    full = stats["collector"]["generation 2"]
    assert set(full) == {"collections", "total_ms", "longest_ms"} and full["collections"] >= 0
