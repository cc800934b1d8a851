"""Live numbers rebuilt from the record, for a stream this process has not seen since it started.

After a restart (or when Redis lost the tallies) the screens must not fall back to zero orders.
`seed_from_record` reads what the record holds and returns it as one `LiveDelta`: orders and GMV
(orders that reached paid), the last ticker entries, the latest `viewer_count`, who is in the room
(enter/leave in arrival order), and the intent counts and question groups of the comments (run
through the stream's `CommentTriage` as if they arrived now, with the selling context that
`product_explain` and `order` events gave them, as the live path does). Comments per minute are not rebuilt:
they are a rolling minute of arrivals and refill within a minute.

Only the process that finds the tallies missing seeds them (`LiveCounters.claim_seed`). With Redis,
another instance joining a running stream does not seed anything, not even its question board:
the instances' question lists are summed, and the lists of instances that stopped stay in Redis,
so a board refilled from the record would count those questions twice.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from sqlalchemy import func, select

from livecompanion.ingest.comments import CommentTriage
from livecompanion.ingest.counters import LiveDelta
from livecompanion.storage.db import Database
from livecompanion.storage.tables import EventRow, OrderRow

CHUNK = 2_000


async def seed_from_record(
    db: Database,
    stream_id: str,
    triage: CommentTriage,
    *,
    ticker_size: int,
    ticker_entry: Callable[[str | None, str, str, int, int], dict[str, Any]],
) -> LiveDelta:
    delta = LiveDelta()
    async with db.session() as session:
        comments = (
            select(EventRow.type, EventRow.body)
            .where(EventRow.stream_id == stream_id, EventRow.type.in_(("comment", "product_explain", "order")))
            .order_by(EventRow.seq)
            .execution_options(yield_per=CHUNK)
        )
        intents: dict[str, int] = {}
        async for chunk in (await session.stream(comments)).partitions(CHUNK):
            for kind, body in chunk:
                if kind != "comment":
                    triage.selling(kind == "order" or body.get("action") == "start")
                    continue
                result = triage.handle(body.get("text", ""), body.get("user_id"), int(body.get("ts", 0)))
                for phrase in result.analysis.intents:
                    intents[phrase] = intents.get(phrase, 0) + 1
            await asyncio.sleep(0)  # a long stream must not freeze the event loop
        delta.intents = intents

        paid = OrderRow.paid_ts_ms.is_not(None)
        count, total = (
            await session.execute(
                select(func.count(), func.coalesce(func.sum(OrderRow.amount), 0)).where(
                    OrderRow.stream_id == stream_id, paid
                )
            )
        ).one()
        delta.orders = int(count)
        delta.gmv_cents = int(round(float(total) * 100)) if total else 0
        latest = (
            await session.execute(
                select(OrderRow.order_id, OrderRow.user_id, OrderRow.sku, OrderRow.qty, OrderRow.paid_ts_ms)
                .where(OrderRow.stream_id == stream_id, paid)
                .order_by(OrderRow.paid_ts_ms.desc())
                .limit(ticker_size)
            )
        ).all()
        nicknames = await _order_nicknames(session, stream_id, {row.paid_ts_ms for row in latest})
        delta.ticker = [
            ticker_entry(nicknames.get(row.order_id), row.user_id, row.sku, row.qty, row.paid_ts_ms)
            for row in reversed(latest)
        ]

        viewer = await session.scalar(
            select(EventRow.body)
            .where(EventRow.stream_id == stream_id, EventRow.type == "viewer_count")
            .order_by(EventRow.ts_ms.desc(), EventRow.seq.desc())
            .limit(1)
        )
        if viewer is not None:
            delta.viewer_count = (int(viewer["ts"]), int(viewer["count"]))
        moves = await session.stream(
            select(EventRow.user_id, EventRow.type)
            .where(EventRow.stream_id == stream_id, EventRow.type.in_(("enter", "leave")))
            .order_by(EventRow.seq)
            .execution_options(yield_per=CHUNK)
        )
        async for part in moves.partitions(CHUNK):
            for user_id, kind in part:
                delta.room[user_id] = kind == "enter"
        delta.room = {u: True for u, inside in delta.room.items() if inside}
    return delta


async def _order_nicknames(session: Any, stream_id: str, paid_ts: set[int]) -> dict[str, str]:
    if not paid_ts:
        return {}
    bodies = await session.scalars(
        select(EventRow.body).where(
            EventRow.stream_id == stream_id, EventRow.type == "order", EventRow.ts_ms.in_(sorted(paid_ts))
        )
    )
    return {b["order_id"]: b["nickname"] for b in bodies if b.get("status") == "paid" and b.get("nickname")}
