"""SalesService in-process: order statuses the claims missed are applied by the reconciliation, and
the screens' section is rebuilt from the store."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from livecompanion.config import Settings
from livecompanion.realtime import MemoryHub
from livecompanion.sales.service import SalesService
from livecompanion.storage.tables import OrderRow
from livecompanion.wiring import build_core
from tests.sales.conftest import close_store, new_stream, open_store, recorded_claims


async def three_claims(store_kind: dict[str, Any], stock: int) -> tuple[Any, Any, SalesService, str, dict[str, Any]]:
    """A started service on the store kind, a sale of `stock` units, and claims A-1, B-1, C-1 on it."""
    db, store, _ = await open_store(store_kind)
    settings = Settings(
        redis_url=store_kind.get("redis_url"), operator_token="o", ingest_token="i", viewer_token="v"
    )
    core = build_core(settings, db, MemoryHub(), {"operator": "o", "ingest": "i", "viewer": "v"})
    service = SalesService(core, store)
    service.start()
    stream_id = await new_stream(db)
    sale = await service.create_sale(stream_id, sku="MASK-01", price=Decimal("79"), stock=stock,
                                     duration_seconds=600)
    for user, order in (("a", "A-1"), ("b", "B-1"), ("c", "C-1")):
        await service.claim(stream_id, sale["id"], user, 1, order)
    return db, store, service, stream_id, sale


def test_reconciliation_applies_missed_order_statuses(store_kind: dict[str, Any]) -> None:
    async def main() -> None:
        db, store, service, stream_id, sale = await three_claims(store_kind, stock=2)
        try:
            # Ingest stored these statuses, but the claims never heard of them (Redis was down, say).
            async with db.session() as session:
                for order, user, status in (("A-1", "a", "cancelled"), ("B-1", "b", "paid")):
                    session.add(
                        OrderRow(
                            stream_id=stream_id,
                            order_id=order,
                            user_id=user,
                            sku="MASK-01",
                            qty=1,
                            amount=Decimal("79"),
                            status=status,
                            status_ts_ms=1,
                        )
                    )
                await session.commit()
            assert await service.reconcile_orders() == 2
            if service.drainer is not None:
                await service.drainer.drain({sale["id"]: stream_id})
            assert [(c[4], c[5]) for c in await recorded_claims(db, sale["id"])] == [
                ("A-1", "released"),
                ("B-1", "paid"),
            ]
            assert await service.reconcile_orders() == 0  # nothing left to apply
            section = await service.screen_section(stream_id, sale["started_ms"] + 1)
            assert (section[sale["id"]]["remaining"], section[sale["id"]]["status"]) == (1, "live")
            view = await service.view(stream_id, sale["id"])
            assert view["record"]["by_status"]["released"] == {"claims": 1, "units": 1}
        finally:
            await service.close()
            await close_store(store_kind, db, store)

    asyncio.run(main())


def test_a_batch_of_order_events_moves_each_claim_as_one_at_a_time_would(store_kind: dict[str, Any]) -> None:
    """`order_events` (a whole batch looked up at once) gives each order what `order_event` one by
    one gives: orders that are not claims pass by, an order twice in a batch moves in batch order."""
    from livecompanion.sales.rules import MOVED_LATE_PAID, MOVED_PAID, MOVED_RELEASED, UNCHANGED

    async def main() -> None:
        db, store, service, stream_id, sale = await three_claims(store_kind, stock=3)
        try:
            batch = [(f"X-{i}", "paid") for i in range(700)]  # not claims: more than one IN chunk
            batch[10:10] = [("A-1", "cancelled"), ("B-1", "paid"), ("A-1", "paid"), ("C-1", "created")]
            moves = [(o, None if m is None else m.move)
                     async for o, _s, m in store.order_events(stream_id, batch)]
            assert [m for m in moves if m[1] is not None] == [
                ("A-1", MOVED_RELEASED), ("B-1", MOVED_PAID), ("A-1", MOVED_LATE_PAID), ("C-1", UNCHANGED),
            ]
            assert len(moves) == len(batch)
            live = await store.live(stream_id, sale["id"])
            assert live.sold == 2  # A's unit came back; paying late does not take it again
        finally:
            await service.close()
            await close_store(store_kind, db, store)

    asyncio.run(main())
