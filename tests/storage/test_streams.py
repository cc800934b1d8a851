"""Streams in the record, on both backends."""

import pytest

from livecompanion.scripts.models import Script
from livecompanion.storage import streams
from livecompanion.storage.db import Database
from livecompanion.storage.migrate import upgrade_async

SCRIPT = Script.model_validate({"title": "秋冬補水專場", "host": "小林",
                                "segments": [{"kind": "opening", "target": "5-10m"}]})


@pytest.fixture
async def db(database_url: str):  # type: ignore[no-untyped-def]
    await upgrade_async(database_url)
    database = Database(database_url)
    yield database
    await database.dispose()


async def test_create_list_get_and_resume(db: Database) -> None:
    first = await streams.create_stream(db, SCRIPT, "title: 秋冬補水專場\n")
    second = await streams.create_stream(db, SCRIPT, "title: other\n")
    listed = await streams.list_streams(db)
    assert {s.id for s in listed} == {first, second}
    assert (await streams.get_stream(db, first)).title == "秋冬補水專場"
    script = await streams.get_script(db, first)
    assert script.segments[0].id == "opening-1" and script.segments[0].target.max_seconds == 600
    assert await streams.find_reusable(db, "title: 秋冬補水專場\n") == first
    assert await streams.find_reusable(db, "title: nothing\n") is None
    with pytest.raises(LookupError, match="no stream 'nope'"):
        await streams.get_stream(db, "nope")
