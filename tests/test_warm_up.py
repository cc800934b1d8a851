"""The service builds its lazily-built parts (the ad-law matcher, the question model, the comment
rules' caches) before it serves, so the show's first comment, script or alert check does not
build them on the event loop (issue 20: the first pin of each room reached the second instance's
screens ~300 ms late in `scripts/bench_evening.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter
from starlette.testclient import TestClient

from livecompanion import wiring
from livecompanion.api.app import create_app
from livecompanion.config import Settings
from livecompanion.ingest.comments.qmodel import shipped_model
from livecompanion.scripts import adlaw, adlaw_file
from livecompanion.storage.migrate import upgrade


def clear_caches() -> None:
    adlaw._matcher.cache_clear()
    adlaw_file.load_file.cache_clear()
    shipped_model.cache_clear()


def built() -> tuple[int, int, int]:
    return (adlaw._matcher.cache_info().currsize, adlaw_file.load_file.cache_info().currsize,
            shipped_model.cache_info().currsize)


def test_warm_up_builds_the_matcher_and_the_model() -> None:
    clear_caches()
    assert built() == (0, 0, 0)
    took = wiring.warm_up()
    assert all(n >= 1 for n in built()), built()
    assert 0 < took < 30


def test_the_service_is_warm_before_its_first_request(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, operator_token="op", ingest_token="in", viewer_token="vw")
    upgrade(settings.resolved_database_url())
    clear_caches()
    with TestClient(create_app(settings)):
        assert all(n >= 1 for n in built()), built()  # no request sent yet


def test_no_request_builds_a_route_after_start_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FastAPI builds a router's routes (pydantic adapters) when a request first walks through it:
    ~80 ms on the loop for the first request that reached the last router. The start-up's warm-up
    request walks them all, so no request under load pays for it."""
    settings = Settings(data_dir=tmp_path, operator_token="op", ingest_token="in", viewer_token="vw")
    upgrade(settings.resolved_database_url())
    with TestClient(create_app(settings)) as client:
        adapters: list[object] = []
        build = TypeAdapter.__init__

        def counted(self: TypeAdapter[Any], *args: Any, **kwargs: Any) -> None:
            adapters.append(args[0] if args else kwargs.get("type"))
            build(self, *args, **kwargs)

        monkeypatch.setattr(TypeAdapter, "__init__", counted)
        assert client.get("/no/such/page").status_code == 404  # walks every router
        assert client.post("/api/streams/none/events", content=b"[]",
                           headers={"Authorization": "Bearer in"}).status_code in (400, 404, 422)
        assert adapters == [], adapters[:5]
