"""Which instance talks to OBS for a stream: a Redis lease, as the sales drainer holds one per sale.

OBS allows many websocket clients, but two instances switching scenes for one show would fight
(and double every switch). The holder renews the lease every TTL/3; if it dies, another instance
takes over within TTL. Without Redis there is one process, and it always holds the lease.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

LEASE_MS = 6000

# Take the lease if it is free or already ours, and (re)set its expiry.
_TAKE = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_GIVE_UP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class ObsLease:
    """`await take()` -> True while this instance holds the stream's lease."""

    def __init__(self, redis: Any | None, key: str, instance: str, ttl_ms: int = LEASE_MS) -> None:
        self.redis = redis
        self.key = key
        self.instance = instance
        self.ttl_ms = ttl_ms

    @property
    def renew_every(self) -> float:
        return self.ttl_ms / 3000

    async def take(self) -> bool:
        if self.redis is None:
            return True
        return bool(await self.redis.eval(_TAKE, 1, self.key, self.instance, self.ttl_ms))

    async def give_up(self) -> None:
        if self.redis is None:
            return
        try:
            await self.redis.eval(_GIVE_UP, 1, self.key, self.instance)
        except Exception as exc:  # noqa: BLE001 - it lapses by itself within ttl
            log.warning("OBS lease %s: could not give it up: %s", self.key, exc)

    async def holder(self) -> str | None:
        if self.redis is None:
            return self.instance
        raw = await self.redis.get(self.key)
        return raw.decode() if isinstance(raw, bytes) else raw
