"""The hub under test: the same suite runs on MemoryHub and on RedisHub over the real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from livecompanion.realtime import MemoryHub, make_hub


async def _delete_prefix(hub, prefix: str) -> None:  # type: ignore[no-untyped-def]
    keys = [key async for key in hub.redis.scan_iter(match=prefix + "*")]
    if keys:
        await hub.redis.delete(*keys)


@pytest.fixture(params=["memory", "redis"])
async def hub(request: pytest.FixtureRequest) -> AsyncIterator[object]:
    if request.param == "memory":
        made = MemoryHub()
        yield made
        await made.close()
        return
    url = request.getfixturevalue("redis_url")
    prefix = request.getfixturevalue("redis_prefix")
    made = make_hub(url, prefix=prefix)
    yield made
    await _delete_prefix(made, prefix)
    await made.close()


@pytest.fixture
async def redis_pair(redis_url: str, redis_prefix: str) -> AsyncIterator[tuple[object, object]]:
    """Two RedisHubs on the same prefix: two service instances."""
    a = make_hub(redis_url, prefix=redis_prefix)
    b = make_hub(redis_url, prefix=redis_prefix)
    yield a, b
    await _delete_prefix(a, redis_prefix)
    await a.close()
    await b.close()
