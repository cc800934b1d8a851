"""When each bridge source (an event's `platform`) of a stream was last heard, shared by instances.

A small interface on purpose: issue 19 (bridges announce themselves and heartbeat; the stream state
lists sources with the age of their last event) can replace what feeds it without touching the rule.
In memory for one instance; with Redis one hash per stream (`PREFIX alerts:{stream}:sources`,
source -> last received ms, only ever raised), so a bridge posting to one instance is heard by all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis import asyncio as aioredis

# HSET only if newer: two instances writing the same source never move its time backwards.
_NEWER = """
for i = 1, #ARGV, 2 do
  local old = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if tonumber(ARGV[i + 1]) > old then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
redis.call('EXPIRE', KEYS[1], 86400)
return 1
"""


class SourceClock(Protocol):
    async def heard(self, stream_id: str, sources: dict[str, int]) -> None: ...
    async def ages(self, stream_id: str) -> dict[str, int]: ...  # source -> last heard, epoch ms


class MemorySources:
    def __init__(self) -> None:
        self._last: dict[str, dict[str, int]] = {}

    async def heard(self, stream_id: str, sources: dict[str, int]) -> None:
        last = self._last.setdefault(stream_id, {})
        for name, ms in sources.items():
            last[name] = max(ms, last.get(name, 0))

    async def ages(self, stream_id: str) -> dict[str, int]:
        return dict(self._last.get(stream_id, {}))


class RedisSources:
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.client, self.prefix = client, prefix

    def _key(self, stream_id: str) -> str:
        return f"{self.prefix}alerts:{stream_id}:sources"

    async def heard(self, stream_id: str, sources: dict[str, int]) -> None:
        args = [v for name, ms in sources.items() for v in (name, str(ms))]
        await self.client.eval(_NEWER, 1, self._key(stream_id), *args)

    async def ages(self, stream_id: str) -> dict[str, int]:
        raw = await self.client.hgetall(self._key(stream_id))
        return {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in raw.items()}


def make_source_clock(client: aioredis.Redis | None, prefix: str) -> SourceClock:
    return RedisSources(client, prefix) if client is not None else MemorySources()
