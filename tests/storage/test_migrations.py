"""The schema comes up from empty, goes back down, and up again, on SQLite and PostgreSQL."""

import asyncio

from sqlalchemy import inspect

from livecompanion.storage.db import Database
from livecompanion.storage.migrate import downgrade, upgrade

TABLES = {"streams", "events", "orders", "countdowns", "flash_sales", "claims", "lotteries", "lottery_entries",
          "idempotency_keys"}


async def _tables(url: str) -> set[str]:
    db = Database(url)
    async with db.engine.connect() as conn:
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await db.dispose()
    return names - {"alembic_version"}


def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    upgrade(database_url)
    assert asyncio.run(_tables(database_url)) == TABLES
    downgrade(database_url, "base")
    assert asyncio.run(_tables(database_url)) == set()
    upgrade(database_url)
    assert asyncio.run(_tables(database_url)) == TABLES
    upgrade(database_url)  # idempotent: already at head


def test_the_models_match_the_migrations(database_url: str) -> None:
    """Autogenerate finds nothing to do: tables.py and migrations/ describe the same schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from livecompanion.storage.tables import Base

    upgrade(database_url)

    async def diff() -> list[object]:
        db = Database(database_url)
        async with db.engine.connect() as conn:
            result = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
        await db.dispose()
        return result

    assert asyncio.run(diff()) == []
