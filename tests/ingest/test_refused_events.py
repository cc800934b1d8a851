"""An event the database refuses (a rule the validator does not know) is rejected on its own, with
the database's reason; the rest of its request is stored; nothing is answered "send again"
(issue 13: an ingest item that can never be stored is rejected). On SQLite and PostgreSQL, through
a real server: HTTP and the ingest socket.

The refusing rule is a real one of the database, added by the test: a CHECK constraint on
PostgreSQL, a trigger (RAISE(ABORT)) on SQLite, refusing event ids that start with "poison".
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import connect

from livecompanion.storage.db import Database
from tests.conftest import ServerProcess
from tests.ingest.ingest_client import create_stream, post_events, sqlite_url_of, stored_events

PG_RULE = "ALTER TABLE events ADD CONSTRAINT no_poison CHECK (event_id IS NULL OR event_id NOT LIKE 'poison%')"
SQLITE_RULE = (
    "CREATE TRIGGER no_poison BEFORE INSERT ON events WHEN NEW.event_id LIKE 'poison%' "
    "BEGIN SELECT RAISE(ABORT, 'poisoned event'); END"
)


async def refuse_poison(url: str) -> None:
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql(PG_RULE if db.dialect_name == "postgresql" else SQLITE_RULE)
    finally:
        await db.dispose()


def comment(eid: str, ts: int) -> dict[str, Any]:
    return {"type": "comment", "id": eid, "user_id": "u1", "text": "想要", "ts": ts}


@pytest.fixture(params=["sqlite", "postgresql"])
def record(request: pytest.FixtureRequest, server_factory: Any, tmp_path: Path) -> tuple[ServerProcess, str]:
    """A server and the URL of its record."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        return server_factory(database_url=url), url
    server = server_factory()
    return server, sqlite_url_of(tmp_path / "s0")


async def test_a_refused_event_is_rejected_alone_over_http(record: tuple[ServerProcess, str]) -> None:
    server, url = record
    sid = create_stream(server)
    await refuse_poison(url)
    now = int(time.time() * 1000)
    batch = [comment(f"c{i}", now + i) for i in range(40)]
    batch[7] = comment("poison-1", now)
    batch[31] = comment("poison-2", now)
    batch.append({"type": "comment", "user_id": "u2"})  # invalid as before: no text
    answer = post_events(server, sid, batch)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["accepted"] == 38 and body["duplicates"] == 0
    assert [r["index"] for r in body["rejected"]] == [7, 31, 40]
    assert "database refused" in body["rejected"][0]["reason"]
    assert "no_poison" in body["rejected"][0]["reason"] or "poisoned" in body["rejected"][0]["reason"]
    assert await stored_events(url, sid) == 38
    # Sent again, the stored ones are duplicates and the refused ones refused again: nothing lost,
    # nothing doubled.
    again = post_events(server, sid, batch).json()
    assert (again["accepted"], again["duplicates"]) == (0, 38)
    assert [r["index"] for r in again["rejected"]] == [7, 31, 40]
    assert await stored_events(url, sid) == 38


async def test_a_refused_event_is_rejected_alone_on_the_ingest_socket(record: tuple[ServerProcess, str]) -> None:
    server, url = record
    sid = create_stream(server)
    await refuse_poison(url)
    now = int(time.time() * 1000)
    async with connect(f"{server.ws_url}/ws/streams/{sid}/ingest",
                       additional_headers=server.headers("ingest")) as ws:
        await ws.send(orjson.dumps({"seq": 1, "events": [comment("poison-a", now)]}))
        await ws.send(orjson.dumps({"seq": 2, "events": [comment(f"w{i}", now + i) for i in range(5)]
                                    + [comment("poison-b", now)]}))
        first = orjson.loads(await ws.recv())
        second = orjson.loads(await ws.recv())
    # An ack (not an error asking to send again) with the refused event rejected by index.
    assert first["type"] == "ack" and first["seq"] == 1, first
    assert first["accepted"] == 0 and [r["index"] for r in first["rejected"]] == [0]
    assert second["type"] == "ack" and second["accepted"] == 5, second
    assert [r["index"] for r in second["rejected"]] == [5]
    assert await stored_events(url, sid) == 5
