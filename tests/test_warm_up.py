"""The service builds its lazily-built parts (the ad-law matcher, the question model, the comment
rules' caches) before it serves, so the show's first comment, script or alert check does not
build them on the event loop (issue 20: the first pin of each room reached the second instance's
screens ~300 ms late in `scripts/bench_evening.py`)."""

from __future__ import annotations

from pathlib import Path

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
