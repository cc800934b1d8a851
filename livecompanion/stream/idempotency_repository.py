"""`idempotency_keys` in the record (SQLite or PostgreSQL): claim a key, store its answer, read it.

The claim is an INSERT on the (scope, key) primary key, so exactly one request of any instance
gets it; every other one sees the row and reads (or waits for) the answer stored there.

The operator's console sends a key with every action, so a keyed pin also claimed and answered its
key: through SQLAlchemy's pool each was a checkout, the pre-ping (three round trips on asyncpg),
BEGIN, the statement and COMMIT, twelve round trips of the pin's nineteen, six of them before the
pin began. On PostgreSQL the claim, the answer, the look-up and the release are each one statement
on the operator actions' own connections (`row_write.operator_connections`), committed on their
own: one round trip each. A take-over and the hourly prune, both rare, keep the pool.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from livecompanion.storage.db import Database
from livecompanion.storage.tables import IdempotencyRow
from livecompanion.stream.row_write import operator_connections

K = IdempotencyRow.__table__.c

# PostgreSQL, one statement each (asyncpg commits a statement outside a transaction on its own).
_CLAIM = ("INSERT INTO idempotency_keys (scope, key, method, path, claimed_ms) VALUES ($1, $2, $3, $4, $5) "
          "ON CONFLICT DO NOTHING")
_FIND = "SELECT claimed_ms, status, content_type, body FROM idempotency_keys WHERE scope = $1 AND key = $2"
_ANSWER = ("UPDATE idempotency_keys SET status = $4, content_type = $5, body = $6, answered_ms = $7 "
           "WHERE scope = $1 AND key = $2 AND claimed_ms = $3")
_RELEASE = "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND claimed_ms = $3 AND status IS NULL"


@dataclass(frozen=True, slots=True)
class StoredKey:
    claimed_ms: int
    status: int | None  # None: the first request is still under way
    content_type: str | None
    body: str | None


class IdempotencyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._own = operator_connections(db)  # None on SQLite

    async def claim(self, scope: str, key: str, method: str, path: str, now_ms: int) -> bool:
        """True if this call now holds the key; False if some request (of any instance) has it."""
        if self._own is not None:
            async with self._own.acquire() as conn:
                return bool(await conn.execute(_CLAIM, scope, key, method, path, now_ms) == "INSERT 0 1")
        try:
            async with self.db.engine.begin() as conn:
                await conn.execute(insert(IdempotencyRow).values(
                    scope=scope, key=key, method=method, path=path, claimed_ms=now_ms))
        except IntegrityError:
            return False
        return True

    async def find(self, scope: str, key: str) -> StoredKey | None:
        if self._own is not None:
            async with self._own.acquire() as own:
                found = await own.fetchrow(_FIND, scope, key)
            return None if found is None else StoredKey(*found)
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(
                select(K.claimed_ms, K.status, K.content_type, K.body).where(K.scope == scope, K.key == key)
            )).first()
        return None if row is None else StoredKey(row.claimed_ms, row.status, row.content_type, row.body)

    async def answer(self, scope: str, key: str, claimed_ms: int, status: int, content_type: str,
                     body: str, now_ms: int) -> None:
        if self._own is not None:
            async with self._own.acquire() as own:
                await own.execute(_ANSWER, scope, key, claimed_ms, status, content_type, body, now_ms)
            return
        async with self.db.engine.begin() as conn:
            await conn.execute(
                update(IdempotencyRow)
                .where(K.scope == scope, K.key == key, K.claimed_ms == claimed_ms)
                .values(status=status, content_type=content_type, body=body, answered_ms=now_ms)
            )

    async def release(self, scope: str, key: str, claimed_ms: int) -> None:
        """Give the key back (the action failed before it could answer): a repeat runs it afresh."""
        if self._own is not None:
            async with self._own.acquire() as own:
                await own.execute(_RELEASE, scope, key, claimed_ms)
            return
        async with self.db.engine.begin() as conn:
            await conn.execute(delete(IdempotencyRow).where(
                K.scope == scope, K.key == key, K.claimed_ms == claimed_ms, K.status.is_(None)))

    async def take_over(self, scope: str, key: str, stale_claimed_ms: int, now_ms: int) -> bool:
        """Claim a key whose first request never answered (its instance died): True if ours now."""
        async with self.db.engine.begin() as conn:
            done = await conn.execute(
                update(IdempotencyRow)
                .where(K.scope == scope, K.key == key, K.claimed_ms == stale_claimed_ms, K.status.is_(None))
                .values(claimed_ms=now_ms)
            )
        return bool(done.rowcount == 1)

    async def prune(self, before_ms: int) -> int:
        """Forget the keys claimed before `before_ms` (answered or long abandoned); how many went."""
        async with self.db.engine.begin() as conn:
            done = await conn.execute(delete(IdempotencyRow).where(K.claimed_ms < before_ms))
        return int(done.rowcount or 0)
