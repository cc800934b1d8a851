"""How a batch of a sale's Redis log is written into the record, exactly once (see drain.py).

`fold` turns log entries into what the record must hold after them (pure). The writers apply a
folded batch only if the record's position is still the one the batch was read after:

- `PgWriter` (PostgreSQL): ONE statement on a connection of its own, so a batch costs one round
  trip whatever its size; its first CTE moves the position (and locks the sale's row), and the
  inserts and moves only happen if that CTE did.
- `SqlWriter` (any database, used for SQLite): the same steps as separate statements in one
  transaction through SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from livecompanion.sales.rules import CLAIMED, RELEASED
from livecompanion.storage.db import Database
from livecompanion.storage.pgconn import OwnConnections
from livecompanion.storage.tables import CLAIMS, FLASH_SALES

FS = FLASH_SALES.c
CL = CLAIMS.c


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclass
class Folded:
    """A batch of log entries as the record must show them."""

    claims: list[dict[str, Any]] = field(default_factory=list)  # new claims, with their final status
    moves: dict[int, tuple[str, int | None]] = field(default_factory=dict)  # rank -> (status, released_ms)
    sold: int | None = None
    next_rank: int | None = None
    sold_out_ms: int | None = None
    stopped_ms: int | None = None


def fold(sale_id: str, stock: int, entries: list[tuple[Any, dict[Any, Any]]]) -> Folded:
    """Log entries (one field each, written by the Lua scripts) -> what the record must hold.

    c: "rank qty bonus t sold next len(order) order user" (a claim; lengths in bytes)
    m: "rank status t sold next" (an order event moved a claim)   s: "t" (stopped)   load: "epoch"
    """
    out = Folded()
    by_rank: dict[int, dict[str, Any]] = {}
    for _id, raw in entries:
        ((kind, value),) = raw.items()
        kind = _s(kind)
        if kind == "c":
            rank, qty, bonus, t, sold, nxt, olen, rest = value.split(b" ", 7)
            n = int(olen)
            row = {"sale_id": sale_id, "user_id": rest[n + 1:].decode(),
                   "order_id": rest[:n].decode() or None,
                   "qty": int(qty), "rank": int(rank), "bonus": bonus == b"1", "status": CLAIMED,
                   "claimed_ms": int(t), "released_ms": None}
            out.claims.append(row)
            by_rank[row["rank"]] = row
            out.sold, out.next_rank = int(sold), int(nxt)
            if out.sold_out_ms is None and out.sold >= stock:
                out.sold_out_ms = row["claimed_ms"]
        elif kind == "m":
            rank_, status_, t, sold, nxt = value.split(b" ")
            rank, status, at = int(rank_), status_.decode(), int(t)
            released = at if status == RELEASED else out.moves.get(rank, (None, None))[1]
            out.moves[rank] = (status, released)
            if rank in by_rank:  # claimed in this very batch: insert it as it ends up
                by_rank[rank]["status"] = status
                by_rank[rank]["released_ms"] = released
            out.sold, out.next_rank = int(sold), int(nxt)
        elif kind == "s":
            out.stopped_ms = out.stopped_ms or int(value)
    return out


_PG_WRITE = """
WITH pos AS (
    UPDATE flash_sales
       SET drained = $2, sold = COALESCE($3, sold), next_rank = COALESCE($4, next_rank),
           sold_out_ms = COALESCE(sold_out_ms, $5), stopped_ms = COALESCE(stopped_ms, $6)
     WHERE id = $1 AND drained IS NOT DISTINCT FROM $7
 RETURNING 1),
ins AS (
    INSERT INTO claims (sale_id, user_id, order_id, qty, rank, bonus, status, claimed_ms, released_ms)
    SELECT $1, c.u, c.o, c.q, c.r, c.b, c.s, c.t, c.rel
      FROM unnest($8::varchar[], $9::varchar[], $10::int[], $11::int[], $12::bool[], $13::varchar[],
                  $14::bigint[], $15::bigint[]) AS c(u, o, q, r, b, s, t, rel)
     WHERE EXISTS (SELECT 1 FROM pos)
        ON CONFLICT (sale_id, rank) DO NOTHING),
mv AS (
    UPDATE claims SET status = m.s, released_ms = COALESCE(m.rel, claims.released_ms)
      FROM unnest($16::int[], $17::varchar[], $18::bigint[]) AS m(r, s, rel)
     WHERE claims.sale_id = $1 AND claims.rank = m.r AND EXISTS (SELECT 1 FROM pos))
SELECT count(*) FROM pos
"""


class PgWriter:
    """PostgreSQL through one asyncpg connection of the drainer's own (reopened when it breaks)."""

    def __init__(self, url: str) -> None:
        self._connections = OwnConnections(url, size=1)  # one operation at a time

    async def close(self) -> None:
        await self._connections.close()

    async def _run(self, method: str, *args: Any) -> Any:
        async with self._connections.acquire() as conn:
            return await getattr(conn, method)(*args)

    async def position(self, sale_id: str) -> tuple[str | None, int] | None:
        row = await self._run("fetchrow", "SELECT drained, stock FROM flash_sales WHERE id = $1", sale_id)
        return None if row is None else (row["drained"], row["stock"])

    async def positions(self, sale_ids: list[str]) -> dict[str, str | None]:
        rows = await self._run("fetch", "SELECT id, drained FROM flash_sales WHERE id = ANY($1::varchar[])",
                               sale_ids)
        return {row["id"]: row["drained"] for row in rows}

    async def write(self, sale_id: str, old: str | None, new: str, batch: Folded) -> bool:
        c, moves = batch.claims, sorted(batch.moves.items())
        done = await self._run(
            "fetchval", _PG_WRITE, sale_id, new, batch.sold, batch.next_rank, batch.sold_out_ms,
            batch.stopped_ms,
            old, [x["user_id"] for x in c], [x["order_id"] for x in c], [x["qty"] for x in c],
            [x["rank"] for x in c], [x["bonus"] for x in c], [x["status"] for x in c],
            [x["claimed_ms"] for x in c], [x["released_ms"] for x in c],
            [r for r, _ in moves], [m[0] for _, m in moves], [m[1] for _, m in moves],
        )
        return done == 1


class SqlWriter:
    """Any database SQLAlchemy drives (SQLite with Redis): the same steps in one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def close(self) -> None:
        return None

    async def position(self, sale_id: str) -> tuple[str | None, int] | None:
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(select(FS.drained, FS.stock).where(FS.id == sale_id))).first()
        return None if row is None else (row.drained, row.stock)

    async def positions(self, sale_ids: list[str]) -> dict[str, str | None]:
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(select(FS.id, FS.drained).where(FS.id.in_(sale_ids)))
            return {row.id: row.drained for row in rows}

    async def write(self, sale_id: str, old: str | None, new: str, batch: Folded) -> bool:
        values: dict[str, Any] = {"drained": new}
        if batch.sold is not None:
            values.update(sold=batch.sold, next_rank=batch.next_rank)
        if batch.sold_out_ms is not None:
            values["sold_out_ms"] = func.coalesce(FS.sold_out_ms, batch.sold_out_ms)
        if batch.stopped_ms is not None:
            values["stopped_ms"] = func.coalesce(FS.stopped_ms, batch.stopped_ms)
        async with self.db.engine.connect() as conn:
            tx = await conn.begin()
            try:
                moved = await conn.execute(
                    update(FLASH_SALES)
                    .where(FS.id == sale_id, FS.drained.is_not_distinct_from(old)).values(**values)
                )
                if moved.rowcount != 1:
                    await tx.rollback()
                    return False
                if batch.claims:
                    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
                    insert = dialect.insert(CLAIMS).on_conflict_do_nothing(
                        index_elements=["sale_id", "rank"])
                    await conn.execute(insert, batch.claims)
                if batch.moves:
                    await conn.execute(
                        update(CLAIMS)
                        .where(CL.sale_id == sale_id, CL.rank == bindparam("r"))
                        .values(status=bindparam("s"),
                                released_ms=func.coalesce(bindparam("rel"), CL.released_ms)),
                        [{"r": r, "s": s, "rel": rel} for r, (s, rel) in batch.moves.items()],
                    )
                await tx.commit()
                return True
            finally:
                if tx.is_active:
                    await tx.rollback()


def make_writer(db: Database) -> PgWriter | SqlWriter:
    return PgWriter(db.url) if db.dialect_name == "postgresql" else SqlWriter(db)
