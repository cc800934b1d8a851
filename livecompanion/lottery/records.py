"""Lotteries in the record: create, enter, draw (once, whichever instance gets there first), read.

Entry and draw exclude each other on the lottery's row: an entry is inserted only while the
lottery is not drawn, and on PostgreSQL it holds a share lock on the lottery row (FOR SHARE) until
it commits; the draw first sets `drawn_ms` (an update: it waits for those entries and blocks
later ones), then reads the entrants. So every entry the record holds was drawn from, and none
arrives after. On SQLite the single writer gives the same order.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import func, select, text, update

from livecompanion.errors import Invalid, NotFound
from livecompanion.lottery.draw import ALGORITHM, draw, entrants_digest, new_seed
from livecompanion.sales.base import now_ms
from livecompanion.storage.db import Database
from livecompanion.storage.tables import LotteryEntryRow, LotteryRow, StreamRow

MAX_DURATION_SECONDS = 24 * 3600
MAX_WINNERS = 10_000

_ENTER_SQL = {
    "postgresql": """
        INSERT INTO lottery_entries (lottery_id, user_id, nickname, entered_ms)
        SELECT CAST(:lottery_id AS VARCHAR), CAST(:user_id AS VARCHAR), CAST(:nickname AS VARCHAR),
               CAST(:entered_ms AS BIGINT)
        WHERE EXISTS (SELECT 1 FROM lotteries WHERE id = CAST(:lottery_id AS VARCHAR) AND drawn_ms IS NULL
                      FOR SHARE)
        ON CONFLICT DO NOTHING""",
    "sqlite": """
        INSERT INTO lottery_entries (lottery_id, user_id, nickname, entered_ms)
        SELECT :lottery_id, :user_id, :nickname, :entered_ms
        WHERE EXISTS (SELECT 1 FROM lotteries WHERE id = :lottery_id AND drawn_ms IS NULL)
        ON CONFLICT DO NOTHING""",
}


@dataclass(frozen=True, slots=True)
class Entry:
    user_id: str
    nickname: str | None
    entered_ms: int


def display_name(nickname: str | None, user_id: str) -> str:
    """What the overlay shows for a winner: the nickname, else the end of the user id."""
    return nickname if nickname else "***" + user_id[-4:]


async def create_lottery(db: Database, stream_id: str, *, keyword: str, winners: int, duration_seconds: int,
                         prize: str | None, exclude_user_ids: Iterable[str] = ()) -> LotteryRow:
    if isinstance(winners, bool) or not isinstance(winners, int) or not 1 <= winners <= MAX_WINNERS:
        raise Invalid(f"winners must be an integer from 1 to {MAX_WINNERS:,}, got {winners!r}")
    if (isinstance(duration_seconds, bool) or not isinstance(duration_seconds, int)
            or not 1 <= duration_seconds <= MAX_DURATION_SECONDS):
        raise Invalid(f"duration_seconds must be an integer from 1 to {MAX_DURATION_SECONDS:,}, "
                         f"got {duration_seconds!r}")
    now = now_ms()
    async with db.session() as session:
        stream = await session.get(StreamRow, stream_id)
        if stream is None:
            raise NotFound(f"no stream '{stream_id}'")
        excluded: dict[str, Any] = {"user_ids": sorted(set(exclude_user_ids))}
        if stream.host:  # the host's own comments (under the script's host name) never enter
            excluded["nicknames"] = [stream.host]
        row = LotteryRow(
            id=secrets.token_hex(6), stream_id=stream_id, keyword=keyword, winners_wanted=winners,
            prize=prize, started_ms=now, ends_ms=now + duration_seconds * 1000, excluded=excluded,
        )
        session.add(row)
        await session.commit()
    return row


async def lottery_row(db: Database, stream_id: str, lottery_id: str) -> LotteryRow:
    async with db.session() as session:
        row = await session.get(LotteryRow, lottery_id)
    if row is None or row.stream_id != stream_id:
        raise NotFound(f"no lottery '{lottery_id}' in stream '{stream_id}'")
    return row


async def lottery_rows(db: Database, stream_id: str | None = None, *,
                       undrawn: bool = False) -> list[LotteryRow]:
    query = select(LotteryRow).order_by(LotteryRow.started_ms)
    if stream_id is not None:
        query = query.where(LotteryRow.stream_id == stream_id)
    if undrawn:
        query = query.where(LotteryRow.drawn_ms.is_(None))
    async with db.session() as session:
        return list(await session.scalars(query))


async def enter(db: Database, lottery_id: str, entries: list[Entry]) -> None:
    """Enter these users (once each; a user already in stays as they were). No-op once drawn."""
    if not entries:
        return
    async with db.engine.begin() as conn:
        await conn.execute(text(_ENTER_SQL[conn.dialect.name]), [
            {"lottery_id": lottery_id, "user_id": e.user_id, "nickname": e.nickname,
             "entered_ms": e.entered_ms}
            for e in entries
        ])


async def entrant_count(db: Database, lottery_id: str) -> int:
    async with db.engine.connect() as conn:
        return int(await conn.scalar(
            select(func.count()).select_from(LotteryEntryRow).where(LotteryEntryRow.lottery_id == lottery_id)
        ) or 0)


async def entries_of(db: Database, lottery_id: str) -> list[Entry]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            select(LotteryEntryRow.user_id, LotteryEntryRow.nickname, LotteryEntryRow.entered_ms)
            .where(LotteryEntryRow.lottery_id == lottery_id).order_by(LotteryEntryRow.user_id)
        )
        return [Entry(*row) for row in rows]


def eligible(row: LotteryRow, entries: list[Entry]) -> list[Entry]:
    excluded = row.excluded or {}
    ids = set(excluded.get("user_ids") or ())
    names = set(excluded.get("nicknames") or ())
    return [e for e in entries if e.user_id not in ids and (e.nickname is None or e.nickname not in names)]


async def draw_lottery(db: Database, stream_id: str, lottery_id: str) -> bool:
    """Draw now if nobody has; True if this call drew it."""
    now = now_ms()
    async with db.engine.connect() as conn:
        tx = await conn.begin()
        try:
            took = await conn.execute(
                update(LotteryRow.__table__)
                .where(LotteryRow.id == lottery_id, LotteryRow.stream_id == stream_id,
                       LotteryRow.drawn_ms.is_(None))
                .values(drawn_ms=now)
            )
            if took.rowcount != 1:
                await tx.rollback()
                await lottery_row(db, stream_id, lottery_id)  # LookupError if there is no such lottery
                return False
            row = (await conn.execute(select(LotteryRow.__table__).where(LotteryRow.id == lottery_id))).one()
            rows = await conn.execute(
                select(LotteryEntryRow.user_id, LotteryEntryRow.nickname, LotteryEntryRow.entered_ms)
                .where(LotteryEntryRow.lottery_id == lottery_id)
            )
            pool = eligible(row, [Entry(*r) for r in rows])  # type: ignore[arg-type]
            seed = new_seed()
            ids = [e.user_id for e in pool]
            winners = draw(seed, ids, row.winners_wanted)
            names = {e.user_id: e.nickname for e in pool}
            await conn.execute(
                update(LotteryRow.__table__).where(LotteryRow.id == lottery_id).values(
                    seed=seed,
                    winners={"user_ids": winners, "nicknames": [names[u] for u in winners],
                             "entrants": len(ids), "entrants_digest": entrants_digest(ids),
                             "algorithm": ALGORITHM},
                )
            )
            await tx.commit()
            return True
        finally:
            if tx.is_active:
                await tx.rollback()


async def report_lotteries(db: Database, stream_id: str) -> list[dict[str, Any]]:
    """Lotteries in the shape analytics.extras.lottery_summary reads."""
    out = []
    for row in await lottery_rows(db, stream_id):
        won = row.winners or {}
        entrants = won.get("entrants")
        if entrants is None:
            entrants = len(eligible(row, await entries_of(db, row.id)))
        out.append({
            "id": row.id, "keyword": row.keyword, "prize": row.prize, "winner_count": row.winners_wanted,
            "entrants": entrants, "seed": row.seed, "started_at": row.started_ms, "ends_at": row.ends_ms,
            "drawn_at": row.drawn_ms, "entrants_digest": won.get("entrants_digest"),
            "winners": [{"user_id": u, "nickname": n}
                        for u, n in zip(won.get("user_ids") or [], won.get("nicknames") or [])],
        })
    return out
