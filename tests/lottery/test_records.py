"""Lotteries in the record, on SQLite and PostgreSQL: entry once, exclusions, one draw however many
try, and no entry slipping in beside a draw (so the recorded entrants are exactly the ones drawn)."""

from __future__ import annotations

import asyncio

import pytest

from livecompanion.lottery.draw import draw, entrants_digest
from livecompanion.lottery.entry import enter
from livecompanion.lottery.repository import LotteryRepository
from livecompanion.lottery.rules import Entry, eligible
from livecompanion.lottery.service import draw_once, lottery_row, record_lottery, report_lotteries
from livecompanion.storage.db import Database
from livecompanion.storage.migrate import upgrade_async
from livecompanion.storage.tables import LotteryRow
from tests.sales.conftest import new_stream


async def row_of(db: Database, stream_id: str, lottery_id: str) -> LotteryRow:
    async with db.session() as session:
        return await lottery_row(LotteryRepository(session), stream_id, lottery_id)


async def entries_of(db: Database, lottery_id: str) -> list[Entry]:
    async with db.session() as session:
        return await LotteryRepository(session).entries(lottery_id)


def run(url: str, body) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        await upgrade_async(url)
        db = Database(url)
        try:
            await body(db, await new_stream(db))
        finally:
            await db.dispose()

    asyncio.run(main())


def test_entry_exclusion_and_one_draw(database_url: str) -> None:
    async def body(db: Database, stream_id: str) -> None:
        lottery = await record_lottery(
            db,
            stream_id,
            keyword="想要",
            winners=2,
            duration_seconds=60,
            prize="免單",
            exclude_user_ids=["blocked"],
        )
        assert lottery.excluded == {"user_ids": ["blocked"], "nicknames": ["小林"]}  # the script's host
        await enter(
            db,
            lottery.id,
            [Entry("a", "阿花", 1), Entry("b", None, 2), Entry("blocked", "B", 3), Entry("h", "小林", 4)],
        )
        await enter(db, lottery.id, [Entry("a", "someone else", 9)])  # once per user
        entries = await entries_of(db, lottery.id)
        assert [(e.user_id, e.nickname) for e in entries] == [
            ("a", "阿花"),
            ("b", None),
            ("blocked", "B"),
            ("h", "小林"),
        ]
        row = await row_of(db, stream_id, lottery.id)
        assert [e.user_id for e in eligible(row, entries)] == ["a", "b"]

        results = await asyncio.gather(*(draw_once(db, stream_id, lottery.id) for _ in range(5)))
        assert sorted(results) == [False] * 4 + [True]
        await enter(db, lottery.id, [Entry("late", "遲到", 10)])  # after the draw: no entry
        assert len(await entries_of(db, lottery.id)) == 4
        row = await row_of(db, stream_id, lottery.id)
        assert row.drawn_ms is not None and len(row.seed) == 32
        assert row.winners["user_ids"] == draw(row.seed, ["a", "b"], 2)
        assert row.winners["entrants"] == 2 and row.winners["entrants_digest"] == entrants_digest(["a", "b"])
        assert dict(zip(row.winners["user_ids"], row.winners["nicknames"])) == {"a": "阿花", "b": None}
        with pytest.raises(LookupError):
            await draw_once(db, stream_id, "nope")
        report = await report_lotteries(db, stream_id)
        assert report[0]["entrants"] == 2 and report[0]["seed"] == row.seed and len(report[0]["winners"]) == 2

    run(database_url, body)


def test_entries_racing_the_draw_are_either_drawn_from_or_not_recorded(database_url: str) -> None:
    async def body(db: Database, stream_id: str) -> None:
        lottery = await record_lottery(
            db, stream_id, keyword="想要", winners=3, duration_seconds=60, prize=None
        )

        async def enter_many() -> None:
            for i in range(0, 300, 10):
                await enter(db, lottery.id, [Entry(f"u{j}", None, j) for j in range(i, i + 10)])
                await asyncio.sleep(0)

        async def draw_midway() -> None:
            await asyncio.sleep(0.02)
            assert await draw_once(db, stream_id, lottery.id)

        await asyncio.gather(enter_many(), enter_many(), draw_midway())
        row = await row_of(db, stream_id, lottery.id)
        recorded = [e.user_id for e in await entries_of(db, lottery.id)]
        assert row.winners["entrants"] == len(recorded)
        assert row.winners["entrants_digest"] == entrants_digest(recorded)
        assert row.winners["user_ids"] == draw(row.seed, recorded, 3)

    run(database_url, body)


def test_bad_lotteries(database_url: str) -> None:
    async def body(db: Database, stream_id: str) -> None:
        with pytest.raises(ValueError, match="winners"):
            await record_lottery(
                db, stream_id, keyword="想要", winners=0, duration_seconds=60, prize=None
            )
        with pytest.raises(ValueError, match="duration_seconds"):
            await record_lottery(
                db, stream_id, keyword="想要", winners=1, duration_seconds=0, prize=None
            )
        with pytest.raises(LookupError):
            await record_lottery(
                db, "nope", keyword="想要", winners=1, duration_seconds=5, prize=None
            )

    run(database_url, body)


def test_an_old_list_of_open_lotteries_is_read_again_without_holding_up_a_commit(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Comments past OPEN_CACHE_SECONDS go on with the list in hand while it is read again (ingest
    answers a batch after this step); a lottery made elsewhere is seen once that read is done; a read
    that began before a lottery was made here (forget) does not put the old list back."""
    import time
    from types import SimpleNamespace

    from livecompanion.lottery import entry
    from livecompanion.lottery.entry import CommentEntries

    async def body(db: Database, stream_id: str) -> None:
        told: list[str] = []
        entries = CommentEntries(db, lambda _stream, lottery: told.append(lottery))
        now_ms = int(time.time() * 1000)

        def comment(user: str) -> SimpleNamespace:
            return SimpleNamespace(user_id=user, nickname=None, text="想要", ts=now_ms + 1000)

        await entries.on_comments(stream_id, [comment("early")])  # no lottery: the list is read, empty
        assert told == [] and stream_id in entries._open
        # A lottery made by another instance: this one does not know until its list is read again.
        lottery = await record_lottery(db, stream_id, keyword="想要", winners=1, duration_seconds=60, prize=None)
        monkeypatch.setattr(entry, "OPEN_CACHE_SECONDS", 0.0)
        reads = 0
        listed = LotteryRepository.listed

        async def slow_listed(self: LotteryRepository, *args: object, **kw: object) -> object:
            nonlocal reads
            reads += 1
            await asyncio.sleep(0.6)  # a busy record
            return await listed(self, *args, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(LotteryRepository, "listed", slow_listed)
        started = time.monotonic()
        await entries.on_comments(stream_id, [comment("a")])
        assert time.monotonic() - started < 0.4, "the commit waited for the record"
        await asyncio.sleep(0.01)  # the read has begun
        assert told == [] and reads == 1 and stream_id in entries._reading
        await entries.on_comments(stream_id, [comment("b")])  # one read at a time
        assert reads == 1
        await entries._reading[stream_id]
        await entries.on_comments(stream_id, [comment("c")])
        assert told == [lottery.id]
        assert [e.user_id for e in await entries_of(db, lottery.id)] == ["c"]
        # A read under way when a lottery is made here: its (older) list is not kept.
        await entries._reading[stream_id]
        await entries.on_comments(stream_id, [comment("d")])  # starts a read
        await asyncio.sleep(0.05)  # the read is under way
        entries.forget(stream_id)
        await entries._reading[stream_id]
        assert stream_id not in entries._open
        await entries.close()

    run(database_url, body)
