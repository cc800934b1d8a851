"""A real record (SQLite file, or PostgreSQL) and a hub, with the example script loaded as a stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from livecompanion.config import Settings
from livecompanion.core import Core
from livecompanion.realtime import MemoryHub
from livecompanion.scripts import check_file
from livecompanion.storage.db import Database
from livecompanion.storage.streams import create_stream
from livecompanion.storage.tables import Base
from livecompanion.wiring import build_core
from tests.sales.conftest import deployment_redis  # noqa: F401 - two-instance tests use it

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "autumn-hydration.yaml"
TOKENS = {"operator": "op", "ingest": "in", "viewer": "vi"}


async def make_services(url: str, hub: Any = None) -> Core:
    """The show's core (record, hub, the show's own cue runners) without the other domains."""
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return build_core(Settings(database_url=url), db, hub or MemoryHub(), TOKENS)


@pytest.fixture
async def services(sqlite_url: str) -> AsyncIterator[Core]:
    made = await make_services(sqlite_url)
    yield made
    await made.hub.close()
    await made.db.dispose()


@pytest.fixture
async def stream_id(services: Core) -> str:
    result = check_file(EXAMPLE)
    assert result.script is not None
    return await create_stream(services.db, result.script, EXAMPLE.read_text())
