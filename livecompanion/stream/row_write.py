"""An operator action that changes one column of the stream's row: one statement (PostgreSQL).

A pin (every few seconds a room on a team's evening) only replaces the `pinned` column, yet through
`service.locked_stream` it cost seven PostgreSQL round trips and ~2 ms of the instance's CPU before
its patch was published: the pool's pre-ping (BEGIN, `;`, ROLLBACK), BEGIN, the whole row read
through the ORM `FOR NO KEY UPDATE` (the script's JSON decoded again), the UPDATE, COMMIT. Here it
is BEGIN, one `UPDATE ... RETURNING` on a connection of the show's own (`OwnConnections`: no
checkout, ping or reset), the hub's change while that row lock is held, COMMIT: three round trips.
The UPDATE takes the same row lock (FOR NO KEY UPDATE) as `locked_stream`, so the two paths order
each other's changes as before: the screens still change in the record's order, on every instance.
With ingest load on the same loop every round trip is a wait behind other work
(`scripts/bench_operator_action.py`; BENCHMARKS.md, "An operator action's own path").

SQLite (one instance) keeps the ORM path: nothing else writes there at the same time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson

from livecompanion.errors import NotFound
from livecompanion.storage.pgconn import OwnConnections
from livecompanion.stream import machine

CONNECTIONS = 2  # the show's own connections an instance keeps open (a pin holds one ~1-3 ms)

# $3: refuse an ended show (a pin) or not (an unpin). The row is locked until the COMMIT.
_SET_PINNED = ("UPDATE streams SET pinned = $2::json WHERE id = $1 AND (NOT $3::boolean OR status <> 'ended') "
               "RETURNING status")
_STATUS = "SELECT status FROM streams WHERE id = $1"


@asynccontextmanager
async def pinned_set(connections: OwnConnections, stream_id: str, pinned: dict[str, Any] | None,
                     *, refuse_ended: bool) -> AsyncIterator[None]:
    """Write `pinned` on the stream's row and hold its lock while the body runs (the caller changes
    the hub there); commit on a clean exit, roll back on an exception. Raises NotFound for an
    unknown stream and 409 `ended` for an ended one when `refuse_ended`, with nothing written.

    `None` is stored as JSON null, as the ORM writes it."""
    async with connections.acquire() as conn, conn.transaction():
        status = await conn.fetchval(_SET_PINNED, stream_id, orjson.dumps(pinned).decode(), refuse_ended)
        if status is None:  # nothing written: no such stream, or (a pin) an ended show
            if await conn.fetchval(_STATUS, stream_id) is None:
                raise NotFound(f"no stream '{stream_id}'")
            raise machine.ended_error()
        yield
