"""One push per key per interval across every instance: the coalescer's shared rate limit.

Each instance coalesces its own changes (`coalesce.py`). Without a shared limit, two instances
selling the same flash sale each push its stock a few times a second, and a screen gets twice the
patches (measured in issue 20: 3.2 -> 13 messages a second a screen with two instances). With
Redis, a push of key K takes K's lease (`SET NX PX interval`) first; an instance that finds the
lease held keeps K pending and asks again when the lease ends (the wait comes back with the
refusal), then pushes a value read after every change it has seen. So a key's pushes stay at one
per interval whatever the number of instances, and every change still reaches the screens within
about one interval. An urgent push (a sell-out, a stop, an end) takes the lease even when it is
held: it goes at once.

Without Redis there is one instance and nothing to share: no gate.
"""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING, Protocol

from livecompanion.storage.redis_link import run_script

if TYPE_CHECKING:
    from redis import asyncio as aioredis

    from livecompanion.storage.redis_link import RespLink

# KEYS: lease. ARGV: holder, interval ms, urgent (1/0). Returns 0 (push now) or ms until the lease ends.
LEASE_LUA = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 0
end
local left = redis.call('PTTL', KEYS[1])
if left < 1 then return 1 end
return left
"""


class PushGate(Protocol):
    async def admit(self, key: str, interval: float, urgent: bool) -> float:
        """0: push the key now (the lease is taken); else seconds until it may be asked again."""
        ...


class RedisPushGate:
    def __init__(self, client: aioredis.Redis, prefix: str, name: str, holder: str,
                 link: RespLink | None = None) -> None:
        self.link = link  # the hub's lean connection (storage/redis_link.py), or None: redis-py
        self.prefix = f"{prefix}push:{name}:"
        self.holder = holder
        self._lease = client.register_script(LEASE_LUA)

    async def admit(self, key: str, interval: float, urgent: bool) -> float:
        # The key is a stream's (`stream:item`): the hash tag keeps it on the stream's cluster slot.
        stream, _, rest = key.partition(":")
        wait_ms = await run_script(self.link, self._lease, [f"{self.prefix}{{{stream}}}:{rest}"],
                                   [self.holder, max(1, int(interval * 1000)), "1" if urgent else "0"])
        return int(wait_ms) / 1000


def push_gate_of(client: aioredis.Redis | None, prefix: str, name: str,
                 link: RespLink | None = None) -> PushGate | None:
    """The shared limit when instances share Redis; None (no limit beyond this process) otherwise."""
    holder = f"{os.uname().nodename}:{os.getpid()}:{secrets.token_hex(3)}"
    return None if client is None else RedisPushGate(client, prefix, name, holder, link)
