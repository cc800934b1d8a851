"""An operator's action locks the stream's row without waiting for the ingest of orders (PostgreSQL).

Inserting an order checks its foreign key to `streams` with FOR KEY SHARE on the stream's row. The
show's row lock was FOR UPDATE, which conflicts with that share: a pin waited for every ingest
transaction holding an order of the stream, and PostgreSQL lets new sharers in ahead of a waiting
FOR UPDATE, so with ten rooms selling some pins waited 5-12 s (issue 20). The show changes only
columns that are not a key, so FOR NO KEY UPDATE is the lock it needs, and it does not conflict with
the foreign keys' shares.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from livecompanion.scripts import check_file
from livecompanion.storage.streams import create_stream
from livecompanion.stream import service

from .conftest import EXAMPLE, make_services

pytestmark = [pytest.mark.postgres]


async def test_a_pin_does_not_wait_for_an_open_order_insert(postgres_url: str) -> None:
    core = await make_services(postgres_url)
    try:
        script = check_file(EXAMPLE).script
        assert script is not None
        stream_id = await create_stream(core.db, script, EXAMPLE.read_text())
        await service.next_segment(core, stream_id)
        async with core.db.engine.connect() as ingest:
            # An ingest transaction holding an order of the stream, not yet committed.
            await ingest.execute(text(
                "INSERT INTO orders (stream_id, order_id, user_id, sku, qty, amount, status, status_ts_ms) "
                "VALUES (:s, 'o-1', 'u-1', 'sku', 1, 10, 'created', 1)"), {"s": stream_id})
            pinned = await asyncio.wait_for(service.pin(core, stream_id, "有貨嗎"), 5)
            assert pinned["text"] == "有貨嗎"
            await ingest.commit()  # the order is kept as well
        _, doc = await service.load_state(core, stream_id)
        assert doc["pinned"]["text"] == "有貨嗎"
    finally:
        await core.hub.close()
        await core.db.dispose()
