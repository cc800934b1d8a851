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


def test_reconciliation_applies_missed_order_statuses(store_kind: dict[str, Any]) -> None:
    async def main() -> None:
        db, store, _ = await open_store(store_kind)
        settings = Settings(
            redis_url=store_kind.get("redis_url"), operator_token="o", ingest_token="i", viewer_token="v"
        )
        core = build_core(settings, db, MemoryHub(), {"operator": "o", "ingest": "i", "viewer": "v"})
        service = SalesService(core, store)
        service.start()
        try:
            stream_id = await new_stream(db)
            sale = await service.create_sale(
                stream_id, sku="MASK-01", price=Decimal("79"), stock=2, duration_seconds=600
            )
            for user, order in (("a", "A-1"), ("b", "B-1"), ("c", "C-1")):
                await service.claim(stream_id, sale["id"], user, 1, order)
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
