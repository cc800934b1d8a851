"""An operator action that changes one column of the stream's row: one statement (PostgreSQL).

A pin (every few seconds a room on a team's evening) only replaces the `pinned` column, yet through
`service.locked_stream` it cost seven PostgreSQL round trips, six of them before its patch was
published, and 3.8-4.7 ms of the instance's CPU for the service call (in process): the pool's
pre-ping (BEGIN, `;`, ROLLBACK), BEGIN, the whole row read through the ORM `FOR NO KEY UPDATE` (the
script's JSON decoded again), the UPDATE, COMMIT. Here it is BEGIN with one UPDATE in a single
message, on a connection of the operator actions' own (`OwnConnections`: no checkout, ping or
reset), the hub's change while that row lock is held, COMMIT: two round trips, one of them before
the patch is published, and 1.0-1.3 ms of CPU. The Idempotency-Key's statements share these
connections (`idempotency_repository.py`).

The UPDATE takes the same row lock (FOR NO KEY UPDATE) as `locked_stream`, so the two paths order
each other's changes as before: the screens still change in the record's order, on every instance.
With ingest load on the same loop every round trip is a wait behind other work
(`scripts/bench_operator_action.py`; BENCHMARKS.md, "An operator action's own path").

SQLite (one instance) keeps the ORM path: nothing else writes there at the same time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson

from livecompanion.errors import NotFound
from livecompanion.storage.db import Database
from livecompanion.storage.pgconn import OwnConnections
from livecompanion.stream import machine

log = logging.getLogger(__name__)

# An instance's own connections for operator actions (a pin holds one ~1-3 ms quiet, 10-30 ms on a
# busy loop). With 3, ten rooms pinning in the same instant queued four deep on an instance: pin ->
# every screen p99 67 -> 38 ms and the pin's answer p99 81 -> 43 ms with 8 (bench_evening, 10 rooms).
OPERATOR_CONNECTIONS = 8


def operator_connections(db: Database) -> OwnConnections | None:
    """The connections of an instance's operator actions beside the pool (PostgreSQL; None on
    SQLite): the pin's row write and the Idempotency-Key's claim and answer, each a short use."""
    return db.own_connections("operator", OPERATOR_CONNECTIONS)


async def open_operator_connection(db: Database) -> None:
    """Open the operator actions' connections before serving: the first pin of an instance
    otherwise opened one (~4-5 ms more than a later pin, in process), and at a ten-room evening's
    start, when every room pins at once, the first pins each waited for one being opened. A
    database not reachable yet is left to the first action."""
    connections = operator_connections(db)
    if connections is None:
        return
    try:
        await connections.open()
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning("operator actions: no connection to PostgreSQL at start-up (%s); the first action opens one", exc)


# Stream ids are `secrets.token_hex`; an id of these characters goes into the statement as it is.
_PLAIN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Any other id (none exists, but a path can hold anything) goes the parameterized way: BEGIN apart.
_SET_PINNED = "UPDATE streams SET pinned = $2::json WHERE id = $1 AND (NOT $3::boolean OR status <> 'ended')"
_STATUS = "SELECT status FROM streams WHERE id = $1"


def _begin_and_set_pinned(stream_id: str, value: str, refuse_ended: bool) -> str:
    """BEGIN and the UPDATE in one message of the simple-query protocol: one round trip, where
    asyncpg sends BEGIN on its own and then the statement (it has no pipelining). Nothing from
    outside is spliced into the SQL as text: the value travels as hex digits, decoded by
    PostgreSQL, and the id is one of `_PLAIN_ID`."""
    assert _PLAIN_ID.fullmatch(stream_id)
    ended = " AND status <> 'ended'" if refuse_ended else ""
    return (f"BEGIN; UPDATE streams SET pinned = convert_from(decode('{value.encode().hex()}', 'hex'), 'UTF8')::json "
            f"WHERE id = '{stream_id}'{ended}")


@asynccontextmanager
async def pinned_set(connections: OwnConnections, stream_id: str, pinned: dict[str, Any] | None,
                     *, refuse_ended: bool) -> AsyncIterator[None]:
    """Write `pinned` on the stream's row and hold its lock while the body runs (the caller changes
    the hub there); commit on a clean exit, roll back on an exception. Raises NotFound for an
    unknown stream and 409 `ended` for an ended one when `refuse_ended`, with nothing written.
    Two round trips: BEGIN with the UPDATE, then COMMIT (a cancelled or broken use leaves its
    connection, and so its transaction, dropped: `OwnConnections`).

    `None` is stored as JSON null, as the ORM writes it."""
    value = orjson.dumps(pinned).decode()
    async with connections.acquire() as conn:
        if _PLAIN_ID.fullmatch(stream_id):
            written = await conn.execute(_begin_and_set_pinned(stream_id, value, refuse_ended)) == "UPDATE 1"
        else:
            await conn.execute("BEGIN")
            written = await conn.execute(_SET_PINNED, stream_id, value, refuse_ended) == "UPDATE 1"
        try:
            if not written:  # no such stream, or (a pin) an ended show
                if await conn.fetchval(_STATUS, stream_id) is None:
                    raise NotFound(f"no stream '{stream_id}'")
                raise machine.ended_error()
            yield
        except Exception:
            await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")
