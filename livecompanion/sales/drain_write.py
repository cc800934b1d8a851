"""How a batch of a sale's Redis log is written into the record, exactly once (see drain.py).

`fold` turns log entries into what the record must hold after them (pure). The writers apply a
folded batch only if the record's position is still the one the batch was read after:

- `PgWriter` (PostgreSQL): ONE statement on a connection of its own, so a batch costs one round
  trip whatever its size; its first CTE moves the position (and locks the sale's row), and the
  inserts and moves only happen if that CTE did. `write_many` writes several sales' batches in one
  statement the same way, each guarded by its own position: the sales whose guard holds are
  written, the others not at all. Their rows are locked first in id order (`locked`), so two
  drainers writing overlapping sets of sales wait for each other instead of deadlocking.
- `SqlWriter` (any database, used for SQLite): the same steps as separate statements in one
  transaction through SQLAlchemy (`write_many`: one transaction, a failed guard skips its sale).
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


_PG_WRITE_MANY = """
WITH b AS MATERIALIZED (
    SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::int[], $5::int[], $6::bigint[],
                         $7::bigint[]) AS b(id, old, new, sold, next_rank, sold_out_ms, stopped_ms)),
locked AS MATERIALIZED (
    SELECT id FROM flash_sales WHERE id = ANY($1::varchar[]) ORDER BY id FOR NO KEY UPDATE),
pos AS (
    UPDATE flash_sales f
       SET drained = b.new, sold = COALESCE(b.sold, f.sold), next_rank = COALESCE(b.next_rank, f.next_rank),
           sold_out_ms = COALESCE(f.sold_out_ms, b.sold_out_ms), stopped_ms = COALESCE(f.stopped_ms, b.stopped_ms)
      FROM b JOIN locked ON locked.id = b.id
     WHERE f.id = b.id AND f.drained IS NOT DISTINCT FROM b.old
 RETURNING f.id),
ins AS (
    INSERT INTO claims (sale_id, user_id, order_id, qty, rank, bonus, status, claimed_ms, released_ms)
    SELECT c.sale, c.u, c.o, c.q, c.r, c.b, c.s, c.t, c.rel
      FROM unnest($8::varchar[], $9::varchar[], $10::varchar[], $11::int[], $12::int[], $13::bool[],
                  $14::varchar[], $15::bigint[], $16::bigint[]) AS c(sale, u, o, q, r, b, s, t, rel)
     WHERE c.sale IN (SELECT id FROM pos)
        ON CONFLICT (sale_id, rank) DO NOTHING),
mv AS (
    UPDATE claims SET status = m.s, released_ms = COALESCE(m.rel, claims.released_ms)
      FROM unnest($17::varchar[], $18::int[], $19::varchar[], $20::bigint[]) AS m(sale, r, s, rel)
     WHERE claims.sale_id = m.sale AND claims.rank = m.r AND m.sale IN (SELECT id FROM pos))
SELECT id FROM pos
"""

SaleBatch = tuple[str, str | None, str, Folded]  # (sale_id, position read after, new position, batch)


class PgWriter:
    """PostgreSQL through one asyncpg connection of the drainer's own (reopened when it breaks)."""

    def __init__(self, url: str) -> None:
        self._connections = OwnConnections(url, size=1)  # one operation at a time

    async def close(self) -> None:
        await self._connections.close()

    async def open(self) -> None:
        await self._connections.open(self._ready)

    @staticmethod
    async def _ready(conn: Any) -> None:
        """The drainer's statements once with nothing to write (no sale has the id ''): prepared,
        their array types looked up, before the first claim waits on them."""
        await conn.fetch("SELECT id, drained, stock FROM flash_sales WHERE id = ANY($1::varchar[])", [])
        await conn.fetchval(_PG_WRITE, "", "", None, None, None, None, None, *([[]] * 11))
        await conn.fetch(_PG_WRITE_MANY, *([[]] * 20))

    async def _run(self, method: str, *args: Any) -> Any:
        async with self._connections.acquire() as conn:
            return await getattr(conn, method)(*args)

    async def position(self, sale_id: str) -> tuple[str | None, int] | None:
        row = await self._run("fetchrow", "SELECT drained, stock FROM flash_sales WHERE id = $1", sale_id)
        return None if row is None else (row["drained"], row["stock"])

    async def positions_and_stock(self, sale_ids: list[str]) -> dict[str, tuple[str | None, int]]:
        rows = await self._run("fetch", "SELECT id, drained, stock FROM flash_sales WHERE id = ANY($1::varchar[])",
                               sale_ids)
        return {row["id"]: (row["drained"], row["stock"]) for row in rows}

    async def write_many(self, batches: list[SaleBatch]) -> set[str]:
        """Each sale's batch exactly once, all in one statement; the sales written (a sale whose
        position another drainer moved is not)."""
        if len(batches) == 1:
            sale_id, old, new, batch = batches[0]
            return {sale_id} if await self.write(sale_id, old, new, batch) else set()
        heads: list[list[Any]] = [[], [], [], [], [], [], []]
        claims: list[list[Any]] = [[] for _ in range(9)]
        moves: list[list[Any]] = [[], [], [], []]
        for sale_id, old, new, batch in batches:
            for column, value in zip(heads, (sale_id, old, new, batch.sold, batch.next_rank,
                                             batch.sold_out_ms, batch.stopped_ms), strict=True):
                column.append(value)
            for c in batch.claims:
                for column, value in zip(claims, (sale_id, c["user_id"], c["order_id"], c["qty"], c["rank"],
                                                  c["bonus"], c["status"], c["claimed_ms"], c["released_ms"]),
                                         strict=True):
                    column.append(value)
            for rank, (status, released) in sorted(batch.moves.items()):
                for column, value in zip(moves, (sale_id, rank, status, released), strict=True):
                    column.append(value)
        rows = await self._run("fetch", _PG_WRITE_MANY, *heads, *claims, *moves)
        return {row["id"] for row in rows}

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

    async def open(self) -> None:
        pass  # it writes through the application's engine

    async def close(self) -> None:
        return None

    async def position(self, sale_id: str) -> tuple[str | None, int] | None:
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(select(FS.drained, FS.stock).where(FS.id == sale_id))).first()
        return None if row is None else (row.drained, row.stock)

    async def positions_and_stock(self, sale_ids: list[str]) -> dict[str, tuple[str | None, int]]:
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(select(FS.id, FS.drained, FS.stock).where(FS.id.in_(sale_ids)))
            return {row.id: (row.drained, row.stock) for row in rows}

    async def write(self, sale_id: str, old: str | None, new: str, batch: Folded) -> bool:
        return sale_id in await self.write_many([(sale_id, old, new, batch)])

    async def write_many(self, batches: list[SaleBatch]) -> set[str]:
        """Each sale's batch exactly once, in one transaction; the sales written."""
        written = set()
        async with self.db.engine.connect() as conn:
            tx = await conn.begin()
            try:
                for sale_id, old, new, batch in sorted(batches, key=lambda b: b[0]):
                    if await self._write(conn, sale_id, old, new, batch):
                        written.add(sale_id)
                if written:
                    await tx.commit()
                return written
            finally:
                if tx.is_active:
                    await tx.rollback()

    @staticmethod
    async def _write(conn: Any, sale_id: str, old: str | None, new: str, batch: Folded) -> bool:
        values: dict[str, Any] = {"drained": new}
        if batch.sold is not None:
            values.update(sold=batch.sold, next_rank=batch.next_rank)
        if batch.sold_out_ms is not None:
            values["sold_out_ms"] = func.coalesce(FS.sold_out_ms, batch.sold_out_ms)
        if batch.stopped_ms is not None:
            values["stopped_ms"] = func.coalesce(FS.stopped_ms, batch.stopped_ms)
        moved = await conn.execute(
            update(FLASH_SALES).where(FS.id == sale_id, FS.drained.is_not_distinct_from(old)).values(**values)
        )
        if moved.rowcount != 1:
            return False  # another drainer moved the position: nothing of this batch is written
        if batch.claims:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            insert = dialect.insert(CLAIMS).on_conflict_do_nothing(index_elements=["sale_id", "rank"])
            await conn.execute(insert, batch.claims)
        if batch.moves:
            await conn.execute(
                update(CLAIMS)
                .where(CL.sale_id == sale_id, CL.rank == bindparam("r"))
                .values(status=bindparam("s"), released_ms=func.coalesce(bindparam("rel"), CL.released_ms)),
                [{"r": r, "s": s, "rel": rel} for r, (s, rel) in batch.moves.items()],
            )
        return True


def make_writer(db: Database) -> PgWriter | SqlWriter:
    return PgWriter(db.url) if db.dialect_name == "postgresql" else SqlWriter(db)
