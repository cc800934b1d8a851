"""`idempotency_keys` in the record (SQLite or PostgreSQL): claim a key, store its answer, read it.

The claim is an INSERT on the (scope, key) primary key, so exactly one request of any instance
gets it; every other one sees the row and reads (or waits for) the answer stored there.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from livecompanion.storage.db import Database
from livecompanion.storage.tables import IdempotencyRow

K = IdempotencyRow.__table__.c


@dataclass(frozen=True, slots=True)
class StoredKey:
    claimed_ms: int
    status: int | None  # None: the first request is still under way
    content_type: str | None
    body: str | None


class IdempotencyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, scope: str, key: str, method: str, path: str, now_ms: int) -> bool:
        """True if this call now holds the key; False if some request (of any instance) has it."""
        try:
            async with self.db.engine.begin() as conn:
                await conn.execute(insert(IdempotencyRow).values(
                    scope=scope, key=key, method=method, path=path, claimed_ms=now_ms))
        except IntegrityError:
            return False
        return True

    async def find(self, scope: str, key: str) -> StoredKey | None:
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(
                select(K.claimed_ms, K.status, K.content_type, K.body).where(K.scope == scope, K.key == key)
            )).first()
        return None if row is None else StoredKey(row.claimed_ms, row.status, row.content_type, row.body)

    async def answer(self, scope: str, key: str, claimed_ms: int, status: int, content_type: str,
                     body: str, now_ms: int) -> None:
        async with self.db.engine.begin() as conn:
            await conn.execute(
                update(IdempotencyRow)
                .where(K.scope == scope, K.key == key, K.claimed_ms == claimed_ms)
                .values(status=status, content_type=content_type, body=body, answered_ms=now_ms)
            )

    async def release(self, scope: str, key: str, claimed_ms: int) -> None:
        """Give the key back (the action failed before it could answer): a repeat runs it afresh."""
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
