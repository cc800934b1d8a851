"""Repositories work on the caller's session: several writes of several domains are one transaction,
committed or rolled back together; a row of another stream is not found. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from livecompanion.lottery.repository import LotteryRepository
from livecompanion.sales.repository import SaleRepository
from livecompanion.storage.db import Database
from livecompanion.storage.migrate import upgrade_async
from livecompanion.storage.tables import CountdownRow, FlashSaleRow, LotteryRow
from livecompanion.stream.repository import StreamRepository
from tests.sales.conftest import new_stream


def _sale(stream_id: str) -> FlashSaleRow:
    return FlashSaleRow(id="sale1", stream_id=stream_id, sku="MASK-01", price=Decimal("79.00"), stock=5,
                        sold=0, next_rank=1, per_user_limit=1, started_ms=1, ends_ms=10**13)


def _lottery(stream_id: str) -> LotteryRow:
    return LotteryRow(id="lot1", stream_id=stream_id, keyword="想要", winners_wanted=1, started_ms=1,
                      ends_ms=10**13, excluded={})


def _countdown(stream_id: str) -> CountdownRow:
    return CountdownRow(id="cd1", stream_id=stream_id, label=None, seconds=60, started_ms=1, ends_ms=10**13,
                        cancelled=False)


async def _found(db: Database, stream_id: str) -> tuple[bool, bool, int]:
    async with db.session() as session:
        sale = await SaleRepository(session).get(stream_id, "sale1")
        lottery = await LotteryRepository(session).get(stream_id, "lot1")
        countdowns = await StreamRepository(session).running_countdowns(stream_id, 2)
    return sale is not None, lottery is not None, len(countdowns)


def test_writes_of_three_domains_are_one_transaction(database_url: str) -> None:
    async def main() -> None:
        await upgrade_async(database_url)
        db = Database(database_url)
        try:
            stream_id = await new_stream(db)
            async with db.session() as session:  # nothing is committed by a repository
                SaleRepository(session).add(_sale(stream_id))
                LotteryRepository(session).add(_lottery(stream_id))
                StreamRepository(session).add_countdown(_countdown(stream_id))
                await session.flush()
                await session.rollback()
            assert await _found(db, stream_id) == (False, False, 0)

            async with db.session() as session:
                SaleRepository(session).add(_sale(stream_id))
                LotteryRepository(session).add(_lottery(stream_id))
                StreamRepository(session).add_countdown(_countdown(stream_id))
                await session.commit()
            assert await _found(db, stream_id) == (True, True, 1)

            other = await new_stream(db)  # a row of one stream is not found under another
            assert await _found(db, other) == (False, False, 0)
        finally:
            await db.dispose()

    asyncio.run(main())
