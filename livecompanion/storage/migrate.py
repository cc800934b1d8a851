"""Bring the schema up to date with Alembic (at `serve` start and `livecompanion db upgrade`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

# migrations/ at the top of a source checkout; an installed wheel ships it as livecompanion/migrations.
_SHIPPED = Path(__file__).resolve().parent.parent / "migrations"
MIGRATIONS = _SHIPPED if _SHIPPED.is_dir() else Path(__file__).resolve().parent.parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's config is a ConfigParser: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Synchronous on purpose: env.py runs its own event loop for the async driver."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """The same, from inside a running event loop (tests, embedded use)."""
    from livecompanion.storage.db import make_engine

    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            def run(sync_connection: object) -> None:
                config = alembic_config(url)
                config.attributes["connection"] = sync_connection
                command.upgrade(config, revision)

            await connection.run_sync(run)
    finally:
        await engine.dispose()
