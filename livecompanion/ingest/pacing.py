"""When the live numbers may go to the screens: at a bounded rate per stream, orders first.

A token bucket per stream: `rate` patches a second sustained, at most `burst` at once after a
quiet spell. Changes of the urgent sections (the order ticker: a new paid order) go as soon as a
token is there; other changes (comments per minute, viewers, intent, questions) go at most once
every `steady_interval`. So a room in full chat gets its numbers twice a second, an order shows
at once (a token is always saved for it), and however many orders and comments arrive, a stream
never gets more than `burst` + `rate` x t patches in any t seconds.

The gate also refuses views older than the last one published (instances read the tallies at
slightly different moments) and views that change nothing. `MemoryGate` serves one process;
`RedisGate` keeps the same state in Redis (one Lua script, the clock of Redis) so that several
instances share one budget per stream.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from livecompanion.storage.redis_link import run_script

if TYPE_CHECKING:
    from livecompanion.storage.redis_link import RespLink

KEY_TTL_S = 3 * 24 * 3600


@dataclass(frozen=True)
class PublishPolicy:
    rate: float = 4.0  # patches a second per stream, sustained
    burst: int = 2  # patches that may go back to back after a quiet spell
    steady_interval: float = 0.5  # seconds between patches made only of non-urgent changes
    urgent: tuple[str, ...] = ("ticker",)  # sections whose changes go out as soon as a token allows


def token_wait(policy: PublishPolicy, tokens: float) -> int:
    """ms until the bucket holds a token."""
    return 0 if tokens >= 1 else math.ceil((1 - tokens) * 1000 / policy.rate)


def decide(
    policy: PublishPolicy, tokens: float, refilled_ms: int, last_ms: int, now_ms: int, urgent: bool
) -> tuple[int, float]:
    """(ms to wait, tokens now): 0 means publish now (then take one token)."""
    tokens = min(float(policy.burst), tokens + (now_ms - refilled_ms) * policy.rate / 1000)
    wait = token_wait(policy, tokens)
    if not urgent:
        wait = max(wait, last_ms + int(policy.steady_interval * 1000) - now_ms)
    return wait, tokens


class GateAnswer(NamedTuple):
    """What the gate says of a view of the sections.

    - sections: publish these now. `wait` and `urgent_wait` then say how long before any next view,
      or one with an urgent change, could go: the bucket after this patch, the steady interval.
    - no sections, `wait` > 0: not now; ask again after `wait`, or after `urgent_wait` for a view
      with an urgent change (a new paid order: the token, not the steady interval).
    - no sections, no wait: nothing to do (nothing changed, or the view is older than one published).

    The waits are the earliest a claim could pass: other instances only take tokens, never add
    any (only a bucket forgotten after a failed publish starts full again, a rare case in which a
    patch waits for the time said, up to a quarter of a second, although it need not). Asking
    before them read the tallies and was refused: at nearly every commit of an evening, whose
    batches nearly all hold a paid order (live.py)."""

    sections: list[str]
    wait: float = 0.0
    urgent_wait: float = 0.0


class PublishGate(Protocol):
    async def claim(self, stream_id: str, version: int, digests: dict[str, str]) -> GateAnswer:
        ...

    async def forget(self, stream_id: str) -> None:
        """Forget what was published (after a failed publish, so the next claim sends everything)."""
        ...

    def release(self, stream_id: str) -> None:
        """Drop what this process holds of an idle stream (Redis: nothing, its key expires)."""
        ...


@dataclass
class _Pace:
    published: dict[str, str] = field(default_factory=dict)
    version: int = -1
    tokens: float = -1.0  # -1: a full bucket on first use
    refilled_ms: int = 0
    last_ms: int = 0


class MemoryGate:
    def __init__(self, policy: PublishPolicy | None = None) -> None:
        self.policy = policy or PublishPolicy()
        self._streams: dict[str, _Pace] = {}

    async def claim(self, stream_id: str, version: int, digests: dict[str, str]) -> GateAnswer:
        pace = self._streams.setdefault(stream_id, _Pace())
        if version < pace.version:
            return GateAnswer([])
        changed = [name for name, digest in digests.items() if pace.published.get(name) != digest]
        if not changed:
            return GateAnswer([])
        now = int(time.monotonic() * 1000)
        if pace.tokens < 0:
            pace.tokens, pace.refilled_ms = float(self.policy.burst), now
        urgent = any(name in self.policy.urgent for name in changed)
        wait, tokens = decide(self.policy, pace.tokens, pace.refilled_ms, pace.last_ms, now, urgent)
        if wait > 0:
            return GateAnswer([], wait / 1000, token_wait(self.policy, tokens) / 1000)
        pace.tokens, pace.refilled_ms, pace.last_ms = tokens - 1, now, now
        pace.version = version
        pace.published.update(digests)
        next_urgent = token_wait(self.policy, tokens - 1)
        return GateAnswer(changed, max(next_urgent, int(self.policy.steady_interval * 1000)) / 1000,
                          next_urgent / 1000)

    async def forget(self, stream_id: str) -> None:
        pace = self._streams.get(stream_id)
        if pace is not None:
            pace.published.clear()

    def release(self, stream_id: str) -> None:
        self._streams.pop(stream_id, None)


# KEYS: pub (hash). ARGV: version, rate, burst, steady_ms, ttl, n_urgent, urgent names...,
# then section, digest pairs. Returns {sections to publish now, ms to wait, ms to wait for an urgent
# view} (GateAnswer): the rules of `decide` and MemoryGate.claim.
CLAIM_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local version = tonumber(ARGV[1])
if version < tonumber(redis.call('HGET', KEYS[1], '_ver') or '-1') then return {{}, 0, 0} end
local n_urgent = tonumber(ARGV[6])
local urgent_names = {}
for i = 7, 6 + n_urgent do urgent_names[ARGV[i]] = true end
local changed, urgent = {}, false
for i = 7 + n_urgent, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) ~= ARGV[i + 1] then
    changed[#changed + 1] = ARGV[i]
    if urgent_names[ARGV[i]] then urgent = true end
  end
end
if #changed == 0 then return {{}, 0, 0} end
local rate, burst, steady = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local tokens = tonumber(redis.call('HGET', KEYS[1], '_tokens') or ARGV[3])
local refilled = tonumber(redis.call('HGET', KEYS[1], '_at') or now)
local last = tonumber(redis.call('HGET', KEYS[1], '_last') or '0')
tokens = math.min(burst, tokens + (now - refilled) * rate / 1000)
local token_wait = 0
if tokens < 1 then token_wait = math.ceil((1 - tokens) * 1000 / rate) end
local wait = token_wait
if not urgent then wait = math.max(wait, last + steady - now) end
if wait > 0 then return {{}, wait, token_wait} end
redis.call('HSET', KEYS[1], '_tokens', tostring(tokens - 1), '_at', now, '_last', now, '_ver', version)
for i = 7 + n_urgent, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[5])
local next_urgent = 0
if tokens - 1 < 1 then next_urgent = math.ceil((2 - tokens) * 1000 / rate) end
return {changed, math.max(next_urgent, steady), next_urgent}
"""


class RedisGate:
    def __init__(self, client: Any, prefix: str, policy: PublishPolicy | None = None,
                 link: RespLink | None = None) -> None:
        self.redis = client
        self.link = link  # the hub's lean connection (storage/redis_link.py), or None: redis-py
        self.prefix = prefix
        self.policy = policy or PublishPolicy()
        self._claim = client.register_script(CLAIM_LUA)

    def _key(self, stream_id: str) -> str:
        return f"{self.prefix}ingest:{{{stream_id}}}:pub"

    async def claim(self, stream_id: str, version: int, digests: dict[str, str]) -> GateAnswer:
        p = self.policy
        args: list[Any] = [
            version,
            p.rate,
            p.burst,
            int(p.steady_interval * 1000),
            KEY_TTL_S,
            len(p.urgent),
            *p.urgent,
        ]
        for name, digest in digests.items():
            args += [name, digest]
        sections, wait_ms, urgent_ms = await run_script(self.link, self._claim, [self._key(stream_id)], args)
        return GateAnswer([s.decode() if isinstance(s, bytes) else s for s in sections], int(wait_ms) / 1000,
                          int(urgent_ms) / 1000)

    async def forget(self, stream_id: str) -> None:
        await self.redis.delete(self._key(stream_id))

    def release(self, stream_id: str) -> None:
        pass  # the key expires KEY_TTL_S after the stream's last publish
