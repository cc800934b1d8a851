"""Live numbers rebuilt from the record, for a stream this process has not seen since it started.

After a restart (or when Redis lost the tallies) the screens must not fall back to zero orders.
`seed_from_record` reads what the record holds and returns it as one `LiveDelta`: orders and GMV
(orders that reached paid), the last ticker entries, the latest `viewer_count`, who is in the room
(enter/leave in arrival order), and the intent counts and question groups of the comments (run
through the stream's `CommentTriage` as if they arrived now, with the selling context that
`product_explain` and `order` events gave them, as the live path does, and the flash sales that ran
at the comment's `ts`: each from its start to its stop, end or sell-out, `selling.sale_window`).
The triage is left selling for the sales the record says run now (a restart mid-sale); the live
document, once read, has the last word (selling.py). Comments per minute are not rebuilt: they are a
rolling minute of arrivals and refill within a minute.

Only the process that finds the tallies missing seeds them (`LiveCounters.claim_seed`). With Redis,
another instance joining a running stream does not seed anything, not even its question board:
the instances' question lists are summed, and the lists of instances that stopped stay in Redis,
so a board refilled from the record would count those questions twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from livecompanion.clock import now_ms
from livecompanion.ingest.comments import CommentTriage
from livecompanion.ingest.comments.triage import EXPLAIN, ORDERS
from livecompanion.ingest.counters import LiveDelta
from livecompanion.ingest.repository import EventLogRepository
from livecompanion.ingest.selling import running_at, sale_window
from livecompanion.storage.db import Database


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
        log = EventLogRepository(session)
        intents: dict[str, int] = {}
        windows = [sale_window(*sale) for sale in await log.flash_sales(stream_id)]
        running: frozenset[str] = frozenset()
        async for chunk in log.comments_in_context(stream_id):
            for kind, body in chunk:
                # An order or a product explained: the room sells (issue 18).
                if kind == "order":
                    triage.selling(True, ORDERS)
                    continue
                if kind != "comment":
                    triage.selling(body.get("action") == "start", EXPLAIN)
                    continue
                ts = int(body.get("ts", 0))
                if windows and running != (now_running := running_at(windows, ts)):
                    running = now_running
                    triage.sales(running)
                result = triage.handle(body.get("text", ""), body.get("user_id"), ts)
                for phrase in result.analysis.intents:
                    intents[phrase] = intents.get(phrase, 0) + 1
            await asyncio.sleep(0)  # a long stream must not freeze the event loop
        delta.intents = intents
        triage.sales(running_at(windows, now_ms()))

        delta.orders, total = await log.paid_orders_total(stream_id)
        delta.gmv_cents = round(float(total) * 100) if total else 0
        latest = await log.latest_paid_orders(stream_id, ticker_size)
        nicknames = await log.paid_order_nicknames(stream_id, {row.paid_ts_ms for row in latest})
        delta.ticker = [
            ticker_entry(nicknames.get(row.order_id), row.user_id, row.sku, row.qty, row.paid_ts_ms)
            for row in reversed(latest)
        ]

        viewer = await log.latest_viewer_count(stream_id)
        if viewer is not None:
            delta.viewer_count = (int(viewer["ts"]), int(viewer["count"]))
        async for part in log.room_moves(stream_id):
            for user_id, kind in part:
                delta.room[user_id] = kind == "enter"
        delta.room = {u: True for u, inside in delta.room.items() if inside}
    return delta
