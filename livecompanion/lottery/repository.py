"""Lotteries and their entries in the record, read and written on a session the caller owns.

Entry and draw exclude each other on the lottery's row: an entry is inserted only while the
lottery is not drawn, and on PostgreSQL it holds a share lock on the lottery row (FOR SHARE) until
it commits; the draw first sets `drawn_ms` (`take_draw`, an update: it waits for those entries and
blocks later ones), then reads the entrants in the same transaction. So every entry the record
holds was drawn from, and none arrives after. On SQLite the single writer gives the same order.
Nothing here commits: the service's unit of work does (lottery/service.py, lottery/entry.py).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Table, func, select, text, update

from livecompanion.lottery.rules import Entry
from livecompanion.storage.repository import StreamRowRepository
from livecompanion.storage.tables import LotteryEntryRow, LotteryRow

_ENTER_SQL = {
    "postgresql": text("""
        INSERT INTO lottery_entries (lottery_id, user_id, nickname, entered_ms)
        SELECT CAST(:lottery_id AS VARCHAR), CAST(:user_id AS VARCHAR), CAST(:nickname AS VARCHAR),
               CAST(:entered_ms AS BIGINT)
        WHERE EXISTS (SELECT 1 FROM lotteries WHERE id = CAST(:lottery_id AS VARCHAR) AND drawn_ms IS NULL
                      FOR SHARE)
        ON CONFLICT DO NOTHING"""),
    "sqlite": text("""
        INSERT INTO lottery_entries (lottery_id, user_id, nickname, entered_ms)
        SELECT :lottery_id, :user_id, :nickname, :entered_ms
        WHERE EXISTS (SELECT 1 FROM lotteries WHERE id = :lottery_id AND drawn_ms IS NULL)
        ON CONFLICT DO NOTHING"""),
}
_LOTTERIES = cast(Table, LotteryRow.__table__)
_ENTRY_COLUMNS = (LotteryEntryRow.user_id, LotteryEntryRow.nickname, LotteryEntryRow.entered_ms)


class LotteryRepository(StreamRowRepository[LotteryRow]):
    model = LotteryRow

    async def listed(self, stream_id: str | None = None, *, undrawn: bool = False) -> list[LotteryRow]:
        """Lotteries (of one stream, or all; only those not drawn yet), first started first."""
        query = select(LotteryRow).order_by(LotteryRow.started_ms)
        if stream_id is not None:
            query = query.where(LotteryRow.stream_id == stream_id)
        if undrawn:
            query = query.where(LotteryRow.drawn_ms.is_(None))
        return list(await self.session.scalars(query))

    async def enter(self, lottery_id: str, entries: list[Entry]) -> None:
        """Enter these users (once each; a user already in stays as they were). No-op once drawn."""
        if not entries:
            return
        dialect = self.session.get_bind().dialect.name
        await self.session.execute(_ENTER_SQL[dialect], [
            {"lottery_id": lottery_id, "user_id": e.user_id, "nickname": e.nickname, "entered_ms": e.entered_ms}
            for e in entries
        ])

    async def entrant_count(self, lottery_id: str) -> int:
        return int(await self.session.scalar(
            select(func.count()).select_from(LotteryEntryRow).where(LotteryEntryRow.lottery_id == lottery_id)
        ) or 0)

    async def entries(self, lottery_id: str) -> list[Entry]:
        """Every entry, by user id."""
        rows = await self.session.execute(
            select(*_ENTRY_COLUMNS).where(LotteryEntryRow.lottery_id == lottery_id)
            .order_by(LotteryEntryRow.user_id)
        )
        return [Entry(*row) for row in rows]

    async def entries_of(self, lottery_ids: list[str]) -> dict[str, list[Entry]]:
        """The entries of several lotteries in one query, each list by user id."""
        found: dict[str, list[Entry]] = {lottery_id: [] for lottery_id in lottery_ids}
        if lottery_ids:
            rows = await self.session.execute(
                select(LotteryEntryRow.lottery_id, *_ENTRY_COLUMNS)
                .where(LotteryEntryRow.lottery_id.in_(lottery_ids))
                .order_by(LotteryEntryRow.lottery_id, LotteryEntryRow.user_id)
            )
            for lottery_id, user_id, nickname, entered_ms in rows:
                found[lottery_id].append(Entry(user_id, nickname, entered_ms))
        return found

    async def take_draw(self, stream_id: str, lottery_id: str, now: int) -> bool:
        """Mark the lottery drawn now, if nobody has (True). Holds the row until the transaction ends."""
        took = await self.session.execute(
            update(_LOTTERIES)
            .where(LotteryRow.id == lottery_id, LotteryRow.stream_id == stream_id, LotteryRow.drawn_ms.is_(None))
            .values(drawn_ms=now)
        )
        return cast(CursorResult[Any], took).rowcount == 1

    async def record_result(self, lottery_id: str, seed: str, winners: dict[str, Any]) -> None:
        await self.session.execute(
            update(_LOTTERIES).where(LotteryRow.id == lottery_id).values(seed=seed, winners=winners)
        )
