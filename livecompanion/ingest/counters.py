"""The shared tallies behind the live numbers: one process (memory) or several instances (Redis).

Every instance that commits events adds what they changed (`LiveDelta`) to the stream's tallies;
whichever instance publishes reads them back (`LiveTally`). With Redis, the tallies live in Redis
so that two instances behind a load balancer add to the same numbers: orders and GMV are counted
once per order (the database decides which write made an order paid), comments per minute sum the
arrival seconds of all instances, intent counts add up, the latest `viewer_count` by `ts` wins.

Question groups are the exception: grouping near-duplicate questions needs the text of earlier
questions, which each instance keeps in its own `QuestionBoard`. Each instance stores its own top
list here and the reader merges the lists by question key (see live.py): two instances that saw
different phrasings of one question may show it twice. That is the shortcut.

The tallies carry a version (bumped by every `add`), so that a publisher can tell a view older
than the last one published (pacing.py decides who publishes and when).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

CPM_WINDOW_S = 60
KEY_TTL_S = 3 * 24 * 3600  # tallies of a stream outlive it by three days, then Redis forgets them


@dataclass
class LiveDelta:
    """What one committed write adds to a stream's tallies."""

    comments: int = 0  # arrived at `arrival_s`
    arrival_s: int = 0
    viewer_count: tuple[int, int] | None = None  # (ts_ms, count) of the latest viewer_count event
    room: dict[str, bool] = field(default_factory=dict)  # user -> in the room after this write
    orders: int = 0  # orders that reached paid in this write
    gmv_cents: int = 0
    intents: dict[str, int] = field(default_factory=dict)
    ticker: list[dict[str, Any]] = field(default_factory=list)  # new entries, oldest first
    questions: list[dict[str, Any]] | None = None  # this instance's current top list (replaces)

    def empty(self) -> bool:
        return not (
            self.comments
            or self.viewer_count
            or self.room
            or self.orders
            or self.intents
            or self.ticker
            or self.questions is not None
        )


@dataclass
class LiveTally:
    version: int = 0
    orders: int = 0
    gmv_cents: int = 0
    viewer_count: int | None = None  # None: no viewer_count event yet
    in_room: int = 0
    comments_per_min: int = 0
    intents: dict[str, int] = field(default_factory=dict)
    ticker: list[dict[str, Any]] = field(default_factory=list)  # newest first
    question_lists: list[list[dict[str, Any]]] = field(default_factory=list)  # one per instance


class LiveCounters(Protocol):
    async def add(self, stream_id: str, delta: LiveDelta) -> None: ...
    async def read(self, stream_id: str, now_s: int) -> LiveTally: ...
    def release(self, stream_id: str) -> None:
        """Forget what this process holds of an idle stream (Redis: nothing; its keys expire)."""
    async def claim_seed(self, stream_id: str) -> bool:
        """True exactly once per stream while the tallies exist: the caller seeds them from the record."""
        ...
    async def close(self) -> None:
        """Close what the tallies hold open (Redis: their connection)."""


# --- one process -----------------------------------------------------------------------------------


@dataclass
class _Stream:
    tally: LiveTally = field(default_factory=LiveTally)
    viewer_ts: int = -1
    room: set[str] = field(default_factory=set)
    per_second: deque[tuple[int, int]] = field(default_factory=deque)  # (arrival second, comments)
    seeded: bool = False


class MemoryCounters:
    def __init__(self, ticker_size: int = 10) -> None:
        self.ticker_size = ticker_size
        self._streams: dict[str, _Stream] = {}

    def _get(self, stream_id: str) -> _Stream:
        s = self._streams.get(stream_id)
        if s is None:
            s = self._streams[stream_id] = _Stream()
        return s

    async def add(self, stream_id: str, delta: LiveDelta) -> None:
        s = self._get(stream_id)
        t = s.tally
        t.version += 1
        t.orders += delta.orders
        t.gmv_cents += delta.gmv_cents
        if delta.viewer_count is not None and delta.viewer_count[0] >= s.viewer_ts:
            s.viewer_ts, t.viewer_count = delta.viewer_count
        for user, inside in delta.room.items():
            (s.room.add if inside else s.room.discard)(user)
        t.in_room = len(s.room)
        if delta.comments:
            if s.per_second and s.per_second[-1][0] == delta.arrival_s:
                s.per_second[-1] = (delta.arrival_s, s.per_second[-1][1] + delta.comments)
            else:
                s.per_second.append((delta.arrival_s, delta.comments))
        for phrase, n in delta.intents.items():
            t.intents[phrase] = t.intents.get(phrase, 0) + n
        if delta.ticker:
            t.ticker = (list(reversed(delta.ticker)) + t.ticker)[: self.ticker_size]
        if delta.questions is not None:
            t.question_lists = [delta.questions]

    async def read(self, stream_id: str, now_s: int) -> LiveTally:
        s = self._get(stream_id)
        while s.per_second and s.per_second[0][0] <= now_s - CPM_WINDOW_S:
            s.per_second.popleft()
        t = s.tally
        t.comments_per_min = sum(n for _, n in s.per_second)
        return LiveTally(
            t.version,
            t.orders,
            t.gmv_cents,
            t.viewer_count,
            t.in_room,
            t.comments_per_min,
            dict(t.intents),
            list(t.ticker),
            [list(q) for q in t.question_lists],
        )

    def release(self, stream_id: str) -> None:
        """Forget an idle stream's tallies (the next event seeds them from the record again)."""
        self._streams.pop(stream_id, None)

    async def close(self) -> None:
        """Nothing open."""

    async def claim_seed(self, stream_id: str) -> bool:
        s = self._get(stream_id)
        if s.seeded:
            return False
        s.seeded = True
        return True


# --- several instances: Redis ----------------------------------------------------------------------

# KEYS: n (hash), room (set), cpm (hash), intent (hash), ticker (list), q (hash), seeded (string)
# ARGV: delta JSON, ticker size, ttl, instance id
ADD_LUA = """
local d = cjson.decode(ARGV[1])
if d.orders ~= '0' then redis.call('HINCRBY', KEYS[1], 'orders', d.orders) end
if d.gmv ~= '0' then redis.call('HINCRBY', KEYS[1], 'gmv', d.gmv) end
if d.vc then
  local ts = tonumber(redis.call('HGET', KEYS[1], 'vc_ts') or '-1')
  if tonumber(d.vc[1]) >= ts then redis.call('HSET', KEYS[1], 'vc_ts', d.vc[1], 'vc', d.vc[2]) end
end
for _, u in ipairs(d.enter) do redis.call('SADD', KEYS[2], u) end
for _, u in ipairs(d.leave) do redis.call('SREM', KEYS[2], u) end
if d.comments ~= 0 then redis.call('HINCRBY', KEYS[3], d.sec, d.comments) end
for phrase, n in pairs(d.intents) do redis.call('HINCRBY', KEYS[4], phrase, n) end
if #d.ticker > 0 then
  for _, entry in ipairs(d.ticker) do redis.call('LPUSH', KEYS[5], entry) end
  redis.call('LTRIM', KEYS[5], 0, tonumber(ARGV[2]) - 1)
end
if d.q then redis.call('HSET', KEYS[6], ARGV[4], d.q) end
redis.call('HINCRBY', KEYS[1], 'ver', 1)
for i = 1, 7 do redis.call('EXPIRE', KEYS[i], ARGV[3]) end  -- the seed mark lives as long as the tallies
return 1
"""

# KEYS: n, room, cpm, intent, ticker, q. ARGV: now_s, window_s
READ_LUA = """
local cutoff = tonumber(ARGV[1]) - tonumber(ARGV[2])
local cpm, old = 0, {}
local buckets = redis.call('HGETALL', KEYS[3])
for i = 1, #buckets, 2 do
  if tonumber(buckets[i]) > cutoff then
    cpm = cpm + tonumber(buckets[i + 1])
  else
    old[#old + 1] = buckets[i]
  end
end
if #old > 0 then redis.call('HDEL', KEYS[3], unpack(old)) end
return {redis.call('HGETALL', KEYS[1]), redis.call('SCARD', KEYS[2]), cpm, redis.call('HGETALL', KEYS[4]),
        redis.call('LRANGE', KEYS[5], 0, -1), redis.call('HVALS', KEYS[6])}
"""


def _integer(raw: bytes | int) -> int:
    """A tally as an int; also one an older version wrote as a double ("1e+17"), not to raise on
    every read until the key expires."""
    try:
        return int(raw)
    except ValueError:
        return int(float(raw))


def _pairs(flat: list[bytes]) -> dict[str, bytes]:
    return {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}


class RedisCounters:
    """The tallies in Redis. Every commit adds (ADD_LUA) and every publish reads (READ_LUA): through
    redis-py 8.2 a script call costs this process ~150 us of CPU (pool checkout, retry and
    observability wrappers), the most of a commit's live numbers after the question top (sampled,
    `bench_ingest_cpu.py --profile sample`: 32 of 502 samples). The scripts go through a lean
    connection of the counters' own (storage/redis_link.py, as the claim scripts; TLS keeps redis-py). Not
    retried there: an add is not idempotent (a retried HINCRBY that had run counts twice)."""

    LINK_NAME = "livecompanion-live-numbers"

    def __init__(self, client: Any, prefix: str, instance_id: str, ticker_size: int = 10) -> None:
        from livecompanion.storage.redis_link import RespLink

        self.redis = client
        self.prefix = prefix
        self.instance_id = instance_id
        self.ticker_size = ticker_size
        self._add = client.register_script(ADD_LUA)
        self._read = client.register_script(READ_LUA)
        self.link = RespLink.of(client)
        if self.link is not None:
            self.link.name = self.LINK_NAME

    async def close(self) -> None:
        if self.link is not None:
            await self.link.close()

    async def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        from livecompanion.storage.redis_link import run_script

        return await run_script(self.link, script, keys, args)

    def _keys(self, stream_id: str, *names: str) -> list[str]:
        base = f"{self.prefix}ingest:{{{stream_id}}}:"
        return [base + name for name in names]

    def _tally_keys(self, stream_id: str) -> list[str]:
        return self._keys(stream_id, "n", "room", "cpm", "intent", "ticker", "q")

    async def add(self, stream_id: str, delta: LiveDelta) -> None:
        # cjson decodes JSON null as a truthy value: absent optional values travel as false.
        payload = {
            # Numbers travel as decimal text: cjson makes numbers doubles, and a double written back
            # by Lua reads "1e+17", which no integer parse takes (issue 13: one huge viewer_count
            # froze a stream's live numbers). As text, HINCRBY and HSET keep them exact integers.
            "orders": str(delta.orders),
            "gmv": str(delta.gmv_cents),
            "vc": [str(v) for v in delta.viewer_count] if delta.viewer_count else False,
            "enter": [u for u, inside in delta.room.items() if inside],
            "leave": [u for u, inside in delta.room.items() if not inside],
            "comments": delta.comments,
            "sec": str(delta.arrival_s),
            "intents": delta.intents,
            "ticker": [orjson.dumps(t).decode() for t in delta.ticker],
            "q": orjson.dumps(delta.questions).decode() if delta.questions is not None else False,
        }
        await self._call(
            self._add,
            [*self._tally_keys(stream_id), *self._keys(stream_id, "seeded")],
            [orjson.dumps(payload), self.ticker_size, KEY_TTL_S, self.instance_id],
        )

    async def read(self, stream_id: str, now_s: int) -> LiveTally:
        n_raw, in_room, cpm, intent_raw, ticker_raw, q_raw = await self._call(
            self._read, self._tally_keys(stream_id), [now_s, CPM_WINDOW_S]
        )
        n = _pairs(n_raw)
        lists = []
        for raw in q_raw:
            try:
                lists.append(orjson.loads(raw))
            except orjson.JSONDecodeError:
                continue
        return LiveTally(
            version=_integer(n.get("ver", 0)),
            orders=_integer(n.get("orders", 0)),
            gmv_cents=_integer(n.get("gmv", 0)),
            viewer_count=_integer(n["vc"]) if "vc" in n else None,
            in_room=int(in_room),
            comments_per_min=int(cpm),
            intents={k: int(v) for k, v in _pairs(intent_raw).items()},
            ticker=[orjson.loads(t) for t in ticker_raw],
            question_lists=lists,
        )

    def release(self, stream_id: str) -> None:
        """Nothing held here: the stream's keys expire KEY_TTL_S after its last event."""

    async def claim_seed(self, stream_id: str) -> bool:
        key = self._keys(stream_id, "seeded")[0]
        # The tallies and the mark expire together; if Redis lost them, the next writer re-seeds.
        won = await self.redis.set(key, self.instance_id, nx=True, ex=KEY_TTL_S)
        return bool(won)
