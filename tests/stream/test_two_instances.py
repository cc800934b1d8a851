"""Two service instances on PostgreSQL + Redis: operators on both, one consistent show."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from livecompanion.realtime import make_hub
from livecompanion.scripts import check_file
from livecompanion.storage.streams import create_stream
from livecompanion.storage.tables import EventRow, StreamRow
from livecompanion.stream import service

from .conftest import EXAMPLE, make_services

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def test_concurrent_next_on_two_instances(postgres_url: str, redis_url: str, redis_prefix: str) -> None:
    a = await make_services(postgres_url, make_hub(redis_url, prefix=redis_prefix))
    b = await make_services(postgres_url, make_hub(redis_url, prefix=redis_prefix))
    try:
        script = check_file(EXAMPLE).script
        assert script is not None
        stream_id = await create_stream(a.db, script, EXAMPLE.read_text())
        await service.load_state(b, stream_id)
        async with a.hub.subscribe(stream_id) as feed:
            results = await asyncio.gather(*[
                service.next_segment(svc, stream_id) for svc in (a, b, a, b)
            ])
            revs = []
            while len(revs) < 4:
                message = await asyncio.wait_for(feed.get(), 3)
                if message["type"] == "patch":
                    revs.append(message["rev"])
        assert sorted(r["segment"]["index"] for r in results) == [0, 1, 2, 3]
        assert revs == sorted(revs) and len(set(revs)) == 4
        # The screens (hub) show what the record says, on both instances.
        async with a.db.session() as session:
            row = await session.get(StreamRow, stream_id)
            events = (await session.scalars(
                select(EventRow.body).where(EventRow.stream_id == stream_id).order_by(EventRow.seq))).all()
        for svc in (a, b):
            _, doc = await service.load_state(svc, stream_id)
            assert doc["segment"]["index"] == row.segment_index == 3
        assert [e["segment"] for e in events] == script.segment_ids()[:4]
    finally:
        for svc in (a, b):
            await svc.hub.drop(stream_id)
            await svc.hub.close()
            await svc.db.dispose()
