"""A real record (SQLite file, or PostgreSQL) and a hub, with the example script loaded as a stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from livecompanion.api.services import Services
from livecompanion.config import Settings
from livecompanion.realtime import MemoryHub
from livecompanion.scripts import check_file
from livecompanion.storage.db import Database
from livecompanion.storage.streams import create_stream
from livecompanion.storage.tables import Base

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "autumn-hydration.yaml"
TOKENS = {"operator": "op", "ingest": "in", "viewer": "vi"}


async def make_services(url: str, hub: Any = None) -> Services:
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return Services(settings=Settings(database_url=url), db=db, hub=hub or MemoryHub(), tokens=TOKENS)


@pytest.fixture
async def services(sqlite_url: str) -> AsyncIterator[Services]:
    made = await make_services(sqlite_url)
    yield made
    await made.hub.close()
    await made.db.dispose()


@pytest.fixture
async def stream_id(services: Services) -> str:
    result = check_file(EXAMPLE)
    assert result.script is not None
    return await create_stream(services.db, result.script, EXAMPLE.read_text())
from tests.sales.conftest import deployment_redis  # noqa: F401 - two-instance tests use it
