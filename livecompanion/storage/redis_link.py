"""A lean pipelined Redis connection for the hottest commands (issue 20's evening): the claim scripts,
the order step's index read and the drainer (sales/store_redis.py, sales/drain*.py), the live numbers'
tallies (ingest/counters.py), and the hub's changes with the publish gates (realtime/redis_hub.py,
ingest/pacing.py, realtime/push_gate.py: one link of the hub's own).

Every granted claim costs its instance one `claim.lua` call and a share of a drain pass (one
pipeline of `drain.lua` calls, sometimes one of PUBLISHes). Through redis-py 8.2 a command costs
~150 us of this process's CPU, a bare round trip on the same loop ~45 us
(`scripts/bench_redis_client.py`): the pool checkout, the retry and observability wrappers, the
per-argument encoding, the timed read. This link is one connection of the store's own: commands are
packed by hiredis, written at once and answered in order (hiredis' reader), each with a deadline.

Same failure rules as the store's redis-py client (`store_redis.connect`): nothing is retried (a
claim without order_id is not idempotent); a connection that breaks or a reply later than
`timeout` fails every command under way on it with redis-py's ConnectionError / TimeoutError (so
`REDIS_ERRORS` still says "Redis unreachable"), and the next command opens a new connection.
Only plain TCP or unix sockets: a TLS deployment (`rediss://`) keeps redis-py (`RespLink.of` -> None).
The drainer's subscription (positions, wakes) goes through `listen` the same way.

Measured (`scripts/bench_drain.py`, 2026-12-06, against the code before in one run): a claim through
the store 211-244 -> 99-111 us of CPU; two instances' claims alone at ten rooms' rate (`--evening 10
--claims-only`) 454 -> 306 us a claim, bench overhead included.

Why not another maintained client: coredis 6.9 (the other typed asyncio client on PyPI) was measured
against redis-py 8.2 on the same loop (HMGET of three fields, CPU a command, median of 5 runs of
3,000, 2026-12-06 22:00 UTC): serial 240 against 90 us, sixteen at a time 123 against 85 us. So the
parsing and packing stay hiredis' (the maintained C library redis-py uses too); only the connection,
its deadline and the reply queue are here.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

Command = tuple[Any, ...]


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.reader = hiredis.Reader()
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.transport: asyncio.Transport | None = None
        self.lost: BaseException | None = None
        self.on_message: Callable[[bytes, bytes], None] | None = None  # subscribed: (channel, data)
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            if self.on_message is not None and not self.waiting:
                if type(reply) is list and reply[0] == b"message":
                    self.on_message(reply[1], reply[2])
                continue  # (and the subscriptions' confirmations)
            if not self.waiting:
                self.fail(RedisConnectionError("Redis sent a reply nobody asked for"))
                return
            future = self.waiting.popleft()
            if not future.done():
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(RedisConnectionError(f"Redis connection lost: {exc or 'closed'}"))

    def fail(self, error: BaseException) -> None:
        """Every command under way fails (their replies can no longer be matched); the connection closes."""
        self.lost = self.lost or error
        if not self.closed.done():
            self.closed.set_result(None)
        waiting, self.waiting = self.waiting, deque()
        for future in waiting:
            if not future.done():
                future.set_exception(error)
        if self.transport is not None:
            self.transport.close()


def _error(reply: hiredis.ReplyError) -> ResponseError:
    """The error redis-py would raise for this reply: a script's `error_reply("X")` arrives as
    "ERR X" and redis-py's parser drops the generic "ERR " (callers match on "X")."""
    text = str(reply)
    if text.startswith("NOSCRIPT"):
        return NoScriptError(text)
    return ResponseError(text[4:] if text.startswith("ERR ") else text)


class RespLink:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 6379, path: str | None = None, db: int = 0,
                 username: str | None = None, password: str | None = None, timeout: float = 2.0,
                 connect_timeout: float = 1.0, name: str = "livecompanion-sales") -> None:
        self.host, self.port, self.path, self.db = host, port, path, db
        self.username, self.password, self.name = username, password, name
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self._protocol: _Protocol | None = None
        self._opening: asyncio.Lock | None = None

    @classmethod
    def of(cls, client: aioredis.Redis, timeout: float = 2.0) -> RespLink | None:
        """A link to the server `client` talks to; None where this link cannot go (TLS, cluster)."""
        pool = getattr(client, "connection_pool", None)
        kind = getattr(pool, "connection_class", None)
        if pool is None or kind not in (aioredis.Connection, aioredis.UnixDomainSocketConnection):
            return None
        kw = pool.connection_kwargs
        return cls(host=kw.get("host", "127.0.0.1"), port=int(kw.get("port", 6379)), path=kw.get("path"),
                   db=int(kw.get("db") or 0), username=kw.get("username"), password=kw.get("password"),
                   timeout=timeout)

    async def close(self) -> None:
        if self._protocol is not None:
            self._protocol.fail(RedisConnectionError("closed"))
            self._protocol = None

    async def _connected(self) -> _Protocol:
        protocol = self._protocol
        if protocol is not None and protocol.lost is None:
            return protocol
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._protocol is None or self._protocol.lost is not None:
                self._protocol = await self._open()
            return self._protocol

    async def _open(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        protocol: _Protocol
        try:
            async with asyncio.timeout(self.connect_timeout):
                if self.path:
                    _, protocol = await loop.create_unix_connection(_Protocol, self.path)
                else:
                    _, protocol = await loop.create_connection(_Protocol, self.host, self.port)
        except TimeoutError:
            raise RedisTimeoutError("Redis did not accept a connection in time") from None
        except OSError as exc:
            raise RedisConnectionError(f"Redis is unreachable: {exc}") from None
        hello: list[Command] = []
        if self.password:
            hello.append(("AUTH", *([self.username] if self.username else []), self.password))
        if self.db:
            hello.append(("SELECT", self.db))
        hello.append(("CLIENT", "SETNAME", self.name))
        for reply in await self._send(protocol, hello):
            if isinstance(reply, hiredis.ReplyError):
                protocol.fail(RedisConnectionError(f"Redis refused the connection: {reply}"))
                raise _error(reply)
        return protocol

    async def listen(self, channels: list[str], on_message: Callable[[bytes, bytes], None]) -> None:
        """Subscribe to `channels` on a connection of its own and hand each message to
        `on_message(channel, data)` (redis-py's PubSub costs ~3x the CPU a message: issue 20's
        drainers get a message a claim or more); returns never: raises once the connection is lost."""
        protocol = await self._open()
        try:
            protocol.on_message = on_message
            assert protocol.transport is not None
            subscribe: Command = ("SUBSCRIBE", *channels)
            protocol.transport.write(hiredis.pack_command(subscribe))
            await protocol.closed
            raise protocol.lost or RedisConnectionError("Redis connection lost")
        finally:
            protocol.fail(RedisConnectionError("closed"))

    async def _send(self, protocol: _Protocol, commands: list[Command]) -> list[Any]:
        """The replies of `commands`, in order (error replies as hiredis.ReplyError values)."""
        if protocol.lost is not None or protocol.transport is None:
            raise RedisConnectionError(f"Redis connection lost: {protocol.lost}")
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in commands]
        protocol.waiting.extend(futures)
        protocol.transport.write(b"".join(hiredis.pack_command(command) for command in commands))
        timer = loop.call_later(self.timeout, protocol.fail, RedisTimeoutError("Redis did not answer in time"))
        try:
            await futures[-1]  # answered in order: the others are too
        except BaseException:
            for future in futures:
                if future.done() and not future.cancelled():
                    future.exception()  # (retrieved: one error is raised for all)
            raise
        finally:
            timer.cancel()
        return [future.result() for future in futures]

    async def pipeline(self, commands: list[Command]) -> list[Any]:
        """Send `commands` at once; their replies in order, an error reply as a ResponseError value."""
        replies = await self._send(await self._connected(), commands)
        return [_error(r) if isinstance(r, hiredis.ReplyError) else r for r in replies]

    async def evalsha(self, script: Any, keys: list[Any], args: list[Any]) -> Any:
        """A redis-py `Script` (registered: its `sha` and `script`) run by its hash, loaded if missing."""
        command = ("EVALSHA", script.sha, len(keys), *keys, *args)
        (reply,) = await self.pipeline([command])
        if isinstance(reply, NoScriptError):
            await self.pipeline([("SCRIPT", "LOAD", script.script)])
            (reply,) = await self.pipeline([command])
        if isinstance(reply, ResponseError):
            raise reply
        return reply


async def run_script(link: RespLink | None, script: Any, keys: list[Any], args: list[Any]) -> Any:
    """A registered redis-py `Script` through `link` when there is one (plain TCP or unix), else
    through redis-py itself (TLS: `RespLink.of` gave None)."""
    if link is not None:
        return await link.evalsha(script, keys, args)
    return await script(keys=keys, args=args)
