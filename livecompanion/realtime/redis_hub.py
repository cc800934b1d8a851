"""RedisHub: the live state in Redis keys, changes applied by one Lua script, fan-out by pub/sub.

Keys (the `{stream}` hash tag keeps a stream's keys on one cluster slot):
    PREFIX live:{STREAM}:doc   hash, one field per top-level section, each a JSON text
    PREFIX live:{STREAM}:rev   the revision number
Both expire DOC_IDLE_TTL_S after the stream's last change (every apply and load sets the time): a
stream nobody changes for a day leaves nothing in Redis, and if it is ever shown again its
document is rebuilt from the record (`stream.service.load_state`), as after a Redis restart.
Channel:
    PREFIX live:STREAM         patch messages (JSON text, exactly what screens receive) and resync hints

`apply` runs check + apply + rev bump + publish in one Lua script, so two instances never interleave
and a new instance reads the state where the others left it. Only the sections a change touches are
decoded, so the static run sheet costs nothing per change.

Each instance keeps ONE pub/sub connection (pattern subscription to all streams), shared by every
socket of the instance, and fans messages out in-process. If that connection drops, every local
subscriber gets a resync once it is back: patches published meanwhile are lost, snapshots are not.

`apply` goes through a lean connection of the hub's own (storage/redis_link.py, as the claim scripts
and the live numbers' tallies; TLS keeps redis-py): every live-number, stock and operator patch of
the instance is one such call, and redis-py's pool checkout and call path cost ~90-150 us of CPU and
several turns of the loop each, which an operator's pin waits through while it holds its row lock.

Redis' Lua JSON (cjson) cannot tell an empty list from an empty object and keeps 14 significant
digits of a number. Empty lists therefore travel as the one-element list `["\\u0000[]"]` and are turned
back on the way out; numbers are fine for what the document holds (epoch ms, money, counts).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from livecompanion.clock import now_ms
from livecompanion.realtime.hub import RESYNC, Message, NotLoaded, Subscription, _HubBase
from livecompanion.realtime.state import PatchError, check_ops, dumps
from livecompanion.storage.redis_link import RespLink, run_script
from livecompanion.tasks import cancel_and_wait, wait_event

log = logging.getLogger(__name__)

EMPTY = "\x00[]"
_EMPTY_JSON = b"\\u0000[]"  # how both orjson and cjson spell EMPTY inside JSON text
READY_TIMEOUT = 5.0
DOC_IDLE_TTL_S = 24 * 3600
POOL_CONNECTIONS = 100  # Redis connections of an instance's hub (documents, tallies, pacing, leases)
POOL_WAIT_S = 5.0
APPLY_TIMEOUT_S = 10.0  # a change not answered in this long: Redis is taken as gone

# KEYS: doc, rev. ARGV: ops JSON, server_time, channel, ttl seconds.
APPLY_LUA = """
local rev = redis.call('GET', KEYS[2])
if not rev then return redis.error_reply('NOTLOADED') end
local ops = cjson.decode(ARGV[1])
local cache, names = {}, {}
local function section(name)
  local box = cache[name]
  if box == nil then
    box = {}
    local raw = redis.call('HGET', KEYS[1], name)
    if raw then box.v = cjson.decode(raw) end
    cache[name] = box
    names[#names + 1] = name
  end
  return box
end
local function is_object(t) return type(t) == 'table' and rawget(t, 1) == nil end
local function apply(op, i)
  local path = op.path
  local box = section(path[1])
  local set = op.op == 'set'
  if #path == 1 then
    if set then box.v = op.value else box.v = nil end
    return nil
  end
  if box.v == nil then
    if not set then return nil end
    box.v = {}
  end
  local node = box.v
  for d = 1, #path - 1 do
    if d > 1 then
      local child = node[path[d]]
      if child == nil then
        if not set then return nil end
        child = {}
        node[path[d]] = child
      end
      node = child
    end
    if not is_object(node) then
      return 'PATCH ops[' .. (i - 1) .. ']: ' .. table.concat(path, '/', 1, d) .. ' is not an object'
    end
  end
  if set then node[path[#path]] = op.value else node[path[#path]] = nil end
  return nil
end
for i, op in ipairs(ops) do
  local err = apply(op, i)
  if err then return redis.error_reply(err) end
end
for _, name in ipairs(names) do
  local v = cache[name].v
  if v == nil then redis.call('HDEL', KEYS[1], name)
  else redis.call('HSET', KEYS[1], name, cjson.encode(v)) end
end
local new_rev = tonumber(rev) + 1
redis.call('SET', KEYS[2], new_rev, 'EX', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[3], '{"type":"patch","rev":' .. new_rev .. ',"server_time":' .. ARGV[2] ..
  ',"ops":' .. ARGV[1] .. '}')
return new_rev
"""

# KEYS: doc, rev. ARGV: force ("1"/"0"), channel, ttl seconds, then section name, JSON, name, JSON...
LOAD_LUA = """
local cur = redis.call('GET', KEYS[2])
if cur and ARGV[1] ~= '1' then return tonumber(cur) end
local rev = 1
if cur then rev = tonumber(cur) + 1 end
redis.call('DEL', KEYS[1])
if #ARGV > 3 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 4))
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
redis.call('SET', KEYS[2], rev, 'EX', ARGV[3])
redis.call('PUBLISH', ARGV[2], '{"type":"resync","rev":' .. rev .. '}')
return rev
"""


def mark_empty_lists(value: Any) -> Any:
    if isinstance(value, list):
        return [mark_empty_lists(v) for v in value] if value else [EMPTY]
    if isinstance(value, dict):
        return {k: mark_empty_lists(v) for k, v in value.items()}
    return value


def unmark_empty_lists(value: Any) -> Any:
    if isinstance(value, list):
        if len(value) == 1 and value[0] == EMPTY:
            return []
        return [unmark_empty_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: unmark_empty_lists(v) for k, v in value.items()}
    return value


def _encode(value: Any) -> bytes:
    raw = dumps(value)
    if b"[]" in raw:  # cheap test first: most values hold no empty list
        raw = dumps(mark_empty_lists(orjson.loads(raw)))
    return raw


def _decode(raw: bytes) -> Any:
    value = orjson.loads(raw)
    return unmark_empty_lists(value) if _EMPTY_JSON in raw else value


class RedisHub(_HubBase):
    def __init__(self, client: aioredis.Redis, prefix: str = "livecompanion:") -> None:
        super().__init__()
        self.redis: aioredis.Redis | None = client
        self.prefix = prefix
        self._redis = client
        self._apply = client.register_script(APPLY_LUA)
        self._load = client.register_script(LOAD_LUA)
        # A change Redis made but answered late must not be reported as failed (its patch is out):
        # the deadline is the one of a Redis that is gone, not of a slow one.
        self.link = RespLink.of(client, timeout=APPLY_TIMEOUT_S)
        if self.link is not None:
            self.link.name = f"livecompanion-hub-apply:{prefix}"
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._channel_head = (prefix + "live:").encode()
        # Document reads, per stream: the one under way, and the next one (which everyone asking
        # meanwhile shares: it starts after they asked, so it holds whatever they subscribed to).
        self._read_now: dict[str, asyncio.Task[tuple[Any, dict[bytes, bytes]]]] = {}
        self._read_next: dict[str, asyncio.Task[tuple[Any, dict[bytes, bytes]]]] = {}

    @classmethod
    def from_url(cls, url: str, prefix: str = "livecompanion:") -> RedisHub:
        # The name lets an admin (or a test) tell the hub's connections apart in CLIENT LIST.
        # A blocking pool: with every connection busy a command waits for one (up to POOL_WAIT_S)
        # instead of failing at once; redis-py's default pool raises MaxConnectionsError at 100,
        # which the evening benchmark hit when 150 screens asked for their snapshot together.
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=POOL_CONNECTIONS, timeout=POOL_WAIT_S, socket_keepalive=True,
            health_check_interval=15, client_name=f"livecompanion-hub:{prefix}",
        )
        return cls(aioredis.Redis.from_pool(pool), prefix)

    def _keys(self, stream_id: str) -> list[str]:
        base = f"{self.prefix}live:{{{stream_id}}}"
        return [base + ":doc", base + ":rev"]

    def _channel(self, stream_id: str) -> str:
        return f"{self.prefix}live:{stream_id}"

    async def snapshot(self, stream_id: str) -> tuple[int, dict[str, Any]] | None:
        """The document and its rev. Callers asking at the same moment share one read from Redis
        (each gets its own decoded copy): with ten rooms a stream's screens resynced together, each
        read holding a pooled connection, until all 100 were busy and an operator's pin waited up
        to POOL_WAIT_S for one (`scripts/bench_evening.py`: pin POSTs of 5-12 s)."""
        reading = self._read_next.get(stream_id)
        if reading is None:
            reading = self._read_next[stream_id] = asyncio.ensure_future(self._read_document(stream_id))
        rev, fields = await asyncio.shield(reading)
        if rev is None:
            return None
        return int(rev), {name.decode(): _decode(raw) for name, raw in fields.items()}

    async def sections(self, stream_id: str, names: tuple[str, ...]) -> dict[str, Any] | None:
        doc_key, rev_key = self._keys(stream_id)
        if not names:  # HMGET takes at least one field
            return {} if await self._redis.exists(rev_key) else None
        async with self._redis.pipeline(transaction=True) as pipe:  # the two from one moment
            pipe.exists(rev_key)
            pipe.hmget(doc_key, list(names))
            held, fields = await pipe.execute()
        if not held:
            return None
        return {name: _decode(raw) for name, raw in zip(names, fields, strict=True) if raw is not None}

    async def _read_document(self, stream_id: str) -> tuple[Any, dict[bytes, bytes]]:
        """One read for everyone who asked before it started: a read already under way may predate
        a caller's subscription (a patch between the two would be in neither), so it is not joined."""
        under_way = self._read_now.get(stream_id)
        if under_way is not None:
            await asyncio.wait({under_way})
        me = self._read_next.pop(stream_id)  # whoever asks from now on waits for the read after this
        self._read_now[stream_id] = me
        try:
            return await self._fetch_document(stream_id)
        finally:
            if self._read_now.get(stream_id) is me:
                del self._read_now[stream_id]

    async def _fetch_document(self, stream_id: str) -> tuple[Any, dict[bytes, bytes]]:
        doc_key, rev_key = self._keys(stream_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(rev_key)
            pipe.hgetall(doc_key)
            rev, fields = await pipe.execute()
        return rev, fields

    async def load(self, stream_id: str, state: dict[str, Any], force: bool = False) -> int:
        if not isinstance(state, dict):
            raise PatchError(f"a state document is an object, not {type(state).__name__}")
        args: list[Any] = ["1" if force else "0", self._channel(stream_id), DOC_IDLE_TTL_S]
        for name, value in state.items():
            args += [name, _encode(value)]
        return int(await self._load(keys=self._keys(stream_id), args=args))

    async def apply(self, stream_id: str, ops: list[dict[str, Any]]) -> int:
        checked = check_ops(ops)
        if not checked:
            current = await self._redis.get(self._keys(stream_id)[1])
            if current is None:
                raise NotLoaded(stream_id)
            return int(current)
        try:
            rev = await run_script(self.link, self._apply, self._keys(stream_id),
                                   [_encode(checked), now_ms(), self._channel(stream_id), DOC_IDLE_TTL_S])
        except ResponseError as exc:
            text = str(exc)
            if text.startswith("NOTLOADED"):
                raise NotLoaded(stream_id) from None
            if text.startswith("PATCH "):
                raise PatchError(text[6:]) from None
            raise
        return int(rev)

    async def drop(self, stream_id: str) -> None:
        await self._redis.delete(*self._keys(stream_id))

    # ---- fan-out: one pattern subscription per instance ----

    async def _attach(self, sub: Subscription) -> None:
        await super()._attach(sub)
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="redis-hub-listener")
        if not await wait_event(self._ready, READY_TIMEOUT):
            self._detach(sub)
            raise ConnectionError("the hub could not subscribe to Redis in time") from None

    async def _listen(self) -> None:
        pattern = self.prefix.replace("\\", "\\\\")
        for ch in "*?[]":
            pattern = pattern.replace(ch, "\\" + ch)
        pattern += "live:*"
        backoff = 0.1
        connected_before = False
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.psubscribe(pattern)
                async for message in pubsub.listen():
                    kind = message["type"]
                    if kind == "psubscribe":
                        self._ready.set()
                        backoff = 0.1
                        if connected_before:
                            self._resync_all()  # patches published while we were away are lost
                        connected_before = True
                    elif kind == "pmessage":
                        self._dispatch(message["channel"], message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:  # connection lost: reconnect, then resync everyone
                self._ready.clear()
                log.warning("redis hub: pub/sub connection lost (%s); reconnecting", exc)
            except Exception:  # a bug must not end fan-out for the whole instance: log, start over
                self._ready.clear()
                log.exception("redis hub: pub/sub listener failed; restarting it")
            finally:
                try:
                    await pubsub.aclose()
                except (RedisError, OSError) as exc:
                    log.debug("redis hub: closing the old pub/sub connection: %s", exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    def _dispatch(self, channel: bytes, data: bytes) -> None:
        stream_id = channel[len(self._channel_head):].decode()
        if stream_id not in self._subscribers:
            return
        try:
            decoded = _decode(data)
        except orjson.JSONDecodeError:
            log.error("redis hub: undecodable message on %r", channel)
            return
        if decoded.get("type") != "patch":
            rev = decoded.get("rev")
            self._fan_out(stream_id, Message(type="resync", rev=rev) if isinstance(rev, int) else RESYNC)
            return
        # The published text is already what screens receive, unless empty lists had to be marked.
        self._fan_out(stream_id, Message(decoded, json=None if _EMPTY_JSON in data else data))

    async def close(self) -> None:
        self._close_all()
        await cancel_and_wait(self._listener)
        if self.link is not None:
            await self.link.close()
        await self._redis.aclose()
