"""The show's core on a migrated record and an in-process hub, for the ingest tests that publish."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from livecompanion.config import Settings
from livecompanion.core import Core
from livecompanion.realtime import MemoryHub
from livecompanion.storage.db import Database
from livecompanion.storage.migrate import upgrade_async
from livecompanion.wiring import build_core

TOKENS = {"operator": "o", "ingest": "i", "viewer": "v"}


@asynccontextmanager
async def core_on(url: str) -> AsyncIterator[Core]:
    await upgrade_async(url)
    db = Database(url)
    hub = MemoryHub()
    try:
        yield build_core(Settings(database_url=url), db, hub, TOKENS)
    finally:
        await hub.close()
        await db.dispose()
