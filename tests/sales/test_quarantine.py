"""Issue 13 item 2: a claim the record refuses (a NUL byte in its user_id, PostgreSQL) is set aside
by the drainer, its unit released, an operator alert raised, and the other claims keep draining."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from livecompanion.sales.rules import GRANTED
from tests.sales.conftest import close_store, new_sale, new_stream, open_store, recorded_claims, recorded_sale


def test_a_poisoned_claim_is_set_aside_and_the_sale_goes_on(
    postgres_url: str, redis_url: str, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    kind = {"store": "redis", "url": postgres_url, "redis_url": redis_url, "prefix": redis_prefix}

    async def main() -> None:
        db, store, drainer = await open_store(kind)
        try:
            stream_id = await new_stream(db)
            sale = await new_sale(db, stream_id, stock=3)
            await store.prepare(sale)
            # Behind the API's back (which refuses it now): Redis grants what PostgreSQL cannot store.
            poisoned = await store.claim(stream_id, sale.id, "bad\x00user", 1, "o-bad")
            assert poisoned.code == GRANTED
            assert (await store.claim(stream_id, sale.id, "a", 1, "o-a")).code == GRANTED
            with caplog.at_level(logging.ERROR, logger="livecompanion.sales.quarantine"):
                await drainer.drain({sale.id: stream_id})
            assert any("OPERATOR ALERT" in r.getMessage() for r in caplog.records)
            # Its claim is told it was not recorded; the unit went back and sells again.
            assert not await drainer.recorded(stream_id, sale.id, poisoned.entry, 1.0)
            assert (await store.claim(stream_id, sale.id, "b", 1, "o-b")).code == GRANTED
            assert (await store.claim(stream_id, sale.id, "c", 1, "o-c")).code == GRANTED
            await drainer.drain({sale.id: stream_id})
            claims = await recorded_claims(db, sale.id)
            assert sorted(c[3] for c in claims) == ["a", "b", "c"]
            live = await store.live(stream_id, sale.id)
            row = await recorded_sale(db, sale.id)
            assert live.sold == row.sold == 3
            held: Any = await store.redis.hget(store.keys(stream_id, sale.id).held, "bad\x00user")
            assert int(held) == 0
            assert await store.redis.hlen(f"{redis_prefix}fs:quarantine") == 1
        finally:
            await close_store(kind, db, store)

    asyncio.run(main())
