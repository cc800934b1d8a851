"""Comment lotteries (評論「想要」抽免單) as the service runs them.

Wired by the composition root (`livecompanion/wiring.py`), which holds one `LotteryService` and
registers its seams: `on_comments` as a comment listener of ingest (after committing `comment`
events), `run_cue` as the `lottery` cue runner and `load_section` as the `lotteries` loader.

Which comments enter a lottery is entry.py (`CommentEntries`, behind `on_comments`). The lottery
draws at its end (every instance's timer tries; the record lets exactly one draw) or on the draw
endpoint; the seed is recorded and `verify` re-runs the draw from the recorded entrants (draw.py
documents the algorithm).

Screens get `lotteries.<id>`: {keyword, prize, winners_wanted, started_ms, ends_at, entrants,
status: open|drawn, winners: [display name...]}; the entrant count coalesced, the winners at once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from livecompanion.clock import now_ms
from livecompanion.errors import Conflict, NotFound
from livecompanion.lottery.draw import ALGORITHM, draw, entrants_digest, new_seed
from livecompanion.lottery.entry import CommentEntries, matcher
from livecompanion.lottery.repository import LotteryRepository
from livecompanion.lottery.rules import Entry, check_terms, display_name, eligible
from livecompanion.realtime import set_op
from livecompanion.realtime.coalesce import Coalescer
from livecompanion.realtime.push_gate import push_gate_of
from livecompanion.storage.db import Database
from livecompanion.storage.tables import LotteryRow
from livecompanion.stream.machine import ended_error
from livecompanion.stream.repository import StreamRepository
from livecompanion.stream.service import apply
from livecompanion.tasks import cancel_and_wait

if TYPE_CHECKING:
    from livecompanion.core import Core

log = logging.getLogger(__name__)

TIMER_TICK = 0.5
SCAN_EVERY = 2.0


def screen_value(row: LotteryRow, entrants: int) -> dict[str, Any]:
    won = row.winners or {}
    return {
        "keyword": row.keyword, "prize": row.prize, "winners_wanted": row.winners_wanted,
        "started_ms": row.started_ms, "ends_at": row.ends_ms,
        "entrants": won.get("entrants", entrants),
        "status": "drawn" if row.drawn_ms is not None else "open",
        "winners": [display_name(n, u)
                    for u, n in zip(won.get("user_ids") or [], won.get("nicknames") or [], strict=True)],
    }


async def screen_section(db: Database, stream_id: str) -> dict[str, Any]:
    """`lotteries` of the live document, from the record."""
    section = {}
    async with db.session() as session:
        lotteries = LotteryRepository(session)
        for row in await lotteries.listed(stream_id):
            count = 0 if row.winners else await lotteries.entrant_count(row.id)
            section[row.id] = screen_value(row, count)
    return section


# ---- the record: one unit of work each, on a session of its own ------------------------------------

async def lottery_row(lotteries: LotteryRepository, stream_id: str, lottery_id: str) -> LotteryRow:
    row = await lotteries.get(stream_id, lottery_id)
    if row is None:
        raise NotFound(f"no lottery '{lottery_id}' in stream '{stream_id}'")
    return row


async def record_lottery(db: Database, stream_id: str, *, keyword: str, winners: int, duration_seconds: int,
                         prize: str | None, exclude_user_ids: Iterable[str] = ()) -> LotteryRow:
    """A new lottery in the record (`Invalid` for bad terms, `NotFound` for an unknown stream)."""
    check_terms(winners=winners, duration_seconds=duration_seconds)
    now = now_ms()
    async with db.session() as session:
        stream = await StreamRepository(session).get(stream_id)
        if stream is None:
            raise NotFound(f"no stream '{stream_id}'")
        if stream.status == "ended":
            raise ended_error()  # 409 `ended`: the show's controls are off
        excluded: dict[str, Any] = {"user_ids": sorted(set(exclude_user_ids))}
        if stream.host:  # the host's own comments (under the script's host name) never enter
            excluded["nicknames"] = [stream.host]
        row = LotteryRow(
            id=secrets.token_hex(6), stream_id=stream_id, keyword=keyword, winners_wanted=winners,
            prize=prize, started_ms=now, ends_ms=now + duration_seconds * 1000, excluded=excluded,
        )
        LotteryRepository(session).add(row)
        await session.commit()
    return row


async def draw_once(db: Database, stream_id: str, lottery_id: str) -> bool:
    """Draw now if nobody has (whichever instance gets there first); True if this call drew it."""
    async with db.session() as session:
        lotteries = LotteryRepository(session)
        if not await lotteries.take_draw(stream_id, lottery_id, now_ms()):
            await session.rollback()
            await lottery_row(lotteries, stream_id, lottery_id)  # NotFound if there is no such lottery
            return False
        row = await lottery_row(lotteries, stream_id, lottery_id)
        pool = eligible(row, await lotteries.entries(lottery_id))
        seed = new_seed()
        ids = [e.user_id for e in pool]
        winners = draw(seed, ids, row.winners_wanted)
        names = {e.user_id: e.nickname for e in pool}
        await lotteries.record_result(lottery_id, seed, {
            "user_ids": winners, "nicknames": [names[u] for u in winners], "entrants": len(ids),
            "entrants_digest": entrants_digest(ids), "algorithm": ALGORITHM,
        })
        await session.commit()
        return True


async def report_lotteries(db: Database, stream_id: str) -> list[dict[str, Any]]:
    """Lotteries in the shape analytics.extras.lottery_summary reads."""
    out = []
    async with db.session() as session:
        lotteries = LotteryRepository(session)
        for row in await lotteries.listed(stream_id):
            won = row.winners or {}
            entrants = won.get("entrants")
            if entrants is None:
                entrants = len(eligible(row, await lotteries.entries(row.id)))
            out.append({
                "id": row.id, "keyword": row.keyword, "prize": row.prize, "winner_count": row.winners_wanted,
                "entrants": entrants, "seed": row.seed, "started_at": row.started_ms, "ends_at": row.ends_ms,
                "drawn_at": row.drawn_ms, "entrants_digest": won.get("entrants_digest"),
                "winners": [{"user_id": u, "nickname": n}
                            for u, n in zip(won.get("user_ids") or [], won.get("nicknames") or [])],
            })
    return out


class LotteryService:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.db = core.db
        self.board = Coalescer(self._read_screen, self._push_screen, interval=0.3, name="lottery screens",
                               gate=push_gate_of(core.hub.redis, core.hub.prefix, "lotteries", core.hub.link))
        self.entries = CommentEntries(core.db, self._entered)  # the comment listener's half
        self._due: dict[tuple[str, str], int] = {}  # (stream, lottery) -> ends_ms, until drawn
        self._timer: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._timer is None:
            self._timer = asyncio.create_task(self._run_timer(), name="lottery timer")
        self.board.start()

    async def close(self) -> None:
        await cancel_and_wait(self._timer)
        self._timer = None
        await self.entries.close()
        await self.board.close()

    # ---- operations ----

    async def create(self, stream_id: str, *, keyword: str, winners: int, duration_seconds: int,
                     prize: str | None = None, exclude_user_ids: Iterable[str] = ()) -> dict[str, Any]:
        matcher(keyword)  # refuse a keyword that could never match, before anything is recorded
        row = await record_lottery(self.db, stream_id, keyword=keyword, winners=winners,
                                   duration_seconds=duration_seconds, prize=prize,
                                   exclude_user_ids=exclude_user_ids)
        self.entries.forget(stream_id)
        self._due[(stream_id, row.id)] = row.ends_ms
        value = screen_value(row, 0)
        try:
            await self._apply(stream_id, [set_op(["lotteries", row.id], value)])
        except Exception as exc:  # noqa: BLE001 - it runs; screens catch up on their next snapshot
            log.warning("lottery %s: could not show it on the screens yet: %s", row.id, exc)
        return {"id": row.id, **value}

    async def draw(self, stream_id: str, lottery_id: str) -> dict[str, Any]:
        """Draw now (if nobody has yet) and show the winners; the lottery as `view` gives it."""
        if await draw_once(self.db, stream_id, lottery_id):
            self.entries.forget(stream_id)
            self._due.pop((stream_id, lottery_id), None)
            row = await self._row(stream_id, lottery_id)
            try:
                await self._apply(stream_id, [set_op(["lotteries", lottery_id], screen_value(row, 0))])
            except Exception as exc:  # noqa: BLE001
                log.warning("lottery %s: winners not on the screens yet: %s", lottery_id, exc)
                self.board.touch((stream_id, lottery_id), urgent=True)
        return await self.view(stream_id, lottery_id)

    async def draw_open(self, stream_id: str) -> list[str]:
        """Draw every lottery of the stream not drawn yet (the show ended)."""
        drawn = []
        async with self.db.session() as session:
            rows = await LotteryRepository(session).listed(stream_id, undrawn=True)
        for row in rows:
            await self.draw(stream_id, row.id)
            drawn.append(row.id)
        return drawn

    async def warm(self, stream_id: str) -> None:
        """What the stream's first comments would read on this instance (livecompanion/warm.py)."""
        await self.entries.warm(stream_id)

    async def on_comments(self, stream_id: str, comments: Iterable[Any]) -> None:
        """The comment listener: entry.py enters the authors of matching comments."""
        await self.entries.on_comments(stream_id, comments)

    def _entered(self, stream_id: str, lottery_id: str) -> None:
        self.board.touch((stream_id, lottery_id))  # the entrant count, coalesced

    # ---- reading ----

    async def _row(self, stream_id: str, lottery_id: str) -> LotteryRow:
        async with self.db.session() as session:
            return await lottery_row(LotteryRepository(session), stream_id, lottery_id)

    async def _row_and_entries(self, stream_id: str, lottery_id: str) -> tuple[LotteryRow, list[Entry]]:
        async with self.db.session() as session:
            lotteries = LotteryRepository(session)
            return await lottery_row(lotteries, stream_id, lottery_id), await lotteries.entries(lottery_id)

    async def list_lotteries(self, stream_id: str) -> list[dict[str, Any]]:
        """Every lottery of the stream as `view` gives it (`NotFound` for an unknown stream)."""
        async with self.db.session() as session:
            if not await StreamRepository(session).exists(stream_id):
                raise NotFound(f"no stream '{stream_id}'")
            lotteries = LotteryRepository(session)
            rows = await lotteries.listed(stream_id)
            # The entrants of those not drawn yet, all in one query (a query per lottery before).
            entries = await lotteries.entries_of([row.id for row in rows if _entrants(row) is None])
        return [_view(stream_id, row, len(eligible(row, entries[row.id])) if row.id in entries
                      else _entrants(row) or 0) for row in rows]

    async def view(self, stream_id: str, lottery_id: str) -> dict[str, Any]:
        row = await self._row(stream_id, lottery_id)
        count = _entrants(row)
        if count is None:
            count = len(eligible(*await self._row_and_entries(stream_id, lottery_id)))
        return _view(stream_id, row, count)


    async def verify(self, stream_id: str, lottery_id: str) -> dict[str, Any]:
        """Re-run the draw from the recorded entrants and seed, and say whether it gives the winners."""
        row, entries = await self._row_and_entries(stream_id, lottery_id)
        if row.drawn_ms is None or row.seed is None:
            raise Conflict("not_drawn", f"lottery '{lottery_id}' has not been drawn yet")
        won = row.winners or {}
        ids = [e.user_id for e in eligible(row, entries)]
        again = draw(row.seed, ids, row.winners_wanted)
        digest = entrants_digest(ids)
        return {
            "id": lottery_id, "algorithm": ALGORITHM, "seed": row.seed, "winners_wanted": row.winners_wanted,
            "entrants": sorted(ids), "entrants_digest": digest,
            "recorded": {"winners": won.get("user_ids"), "entrants_digest": won.get("entrants_digest")},
            "recomputed": {"winners": again},
            "match": again == won.get("user_ids") and digest == won.get("entrants_digest"),
        }

    async def screen_section(self, stream_id: str) -> dict[str, Any]:
        return await screen_section(self.db, stream_id)

    # ---- screens ----

    async def _read_screen(self, key: tuple[str, str]) -> tuple[str, dict[str, Any]] | None:
        stream_id, lottery_id = key
        async with self.db.session() as session:
            lotteries = LotteryRepository(session)
            row = await lotteries.get(stream_id, lottery_id)
            if row is None:
                return None
            count = 0 if row.winners else await lotteries.entrant_count(lottery_id)
        return stream_id, screen_value(row, count)

    async def _push_screen(self, stream_id: str, key: tuple[str, str], value: dict[str, Any]) -> None:
        await self._apply(stream_id, [set_op(["lotteries", key[1]], value)])

    async def _apply(self, stream_id: str, ops: list[dict[str, Any]]) -> None:
        await apply(self.core, stream_id, ops)

    # ---- timer: draw at the end ----

    async def _run_timer(self) -> None:
        loop = asyncio.get_running_loop()
        last_scan = -1e9
        while True:
            try:
                if loop.time() - last_scan >= SCAN_EVERY:
                    async with self.db.session() as session:
                        undrawn = await LotteryRepository(session).listed(undrawn=True)
                    for row in undrawn:
                        self._due.setdefault((row.stream_id, row.id), row.ends_ms)
                    last_scan = loop.time()
                self.entries.drop_idle()  # streams without comments lately: their entrants go
                now = now_ms()
                for (stream_id, lottery_id), ends in list(self._due.items()):
                    if ends <= now:
                        self._due.pop((stream_id, lottery_id), None)
                        await self.draw(stream_id, lottery_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("lottery timer: a tick failed")
            nxt = min(self._due.values(), default=None)
            wait = TIMER_TICK if nxt is None else min(TIMER_TICK, max(0.0, (nxt - now_ms()) / 1000))
            await asyncio.sleep(wait)

    # ---- the seams the composition root registers ----

    async def run_cue(self, stream_id: str, cue: dict[str, Any]) -> dict[str, Any]:
        """The `lottery` cue runner."""
        made = await self.create(
            stream_id, keyword=cue["keyword"], winners=cue["winners"], duration_seconds=cue["duration_seconds"],
            prize=cue.get("prize"),
        )
        return {"id": made["id"], "ends_at": made["ends_at"]}

    async def load_section(self, stream_id: str, now: int) -> dict[str, Any]:
        """The `lotteries` section loader: from the record alone."""
        return await screen_section(self.db, stream_id)


def _entrants(row: LotteryRow) -> int | None:
    """The entrant count recorded at the draw; None before it."""
    count = (row.winners or {}).get("entrants")
    return None if count is None else int(count)


def _view(stream_id: str, row: LotteryRow, count: int) -> dict[str, Any]:
    won = row.winners or {}
    return {
        "id": row.id, "stream_id": stream_id, **screen_value(row, count), "drawn_ms": row.drawn_ms,
        "seed": row.seed, "algorithm": won.get("algorithm"),
        "entrants_digest": won.get("entrants_digest"),
    }
