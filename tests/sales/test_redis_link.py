"""The claim store's lean Redis connection (storage/redis_link.py): replies in order, errors as values, a script
loaded when Redis lacks it, and a Redis that goes away fails what is under way at once, never retried."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from livecompanion.sales.store_redis import REDIS_ERRORS, connect
from livecompanion.storage.redis_link import RespLink
from tests.sales.conftest import ThrowawayRedis


def test_replies_come_back_in_order_with_errors_as_values(redis_url: str, redis_prefix: str) -> None:
    async def main() -> None:
        client = connect(redis_url)
        link = RespLink.of(client)
        assert link is not None
        key = f"{redis_prefix}resp"
        try:
            many = await asyncio.gather(*(link.pipeline([("INCR", key), ("GET", key)]) for _ in range(50)))
            assert sorted(int(get) for _, get in many) == list(range(1, 51))
            assert all(int(get) == incr for incr, get in many)  # each pair answered together, in order
            replies = await link.pipeline([("SET", key, "x"), ("INCR", key), ("GET", key)])
            assert replies[0] == b"OK" and isinstance(replies[1], ResponseError) and replies[2] == b"x"
            script = client.register_script("return ARGV[1] .. redis.call('GET', KEYS[1])")
            await client.script_flush()
            assert await link.evalsha(script, [key], ["got "]) == b"got x"  # loaded, then run
            assert await link.evalsha(script, [key], ["again "]) == b"again x"
        finally:
            await client.delete(key)
            await link.close()
            await client.aclose()

    asyncio.run(main())


def test_a_script_error_says_what_redis_py_says(redis_url: str, redis_prefix: str) -> None:
    """The hub matches a script's error_reply by its text ("NOTLOADED", "PATCH ..."): redis-py drops
    the generic "ERR " Redis puts before it, and so must the link (other codes stay as they are)."""
    async def main() -> None:
        client = connect(redis_url)
        link = RespLink.of(client)
        assert link is not None
        key = f"{redis_prefix}resp-err"
        try:
            for body in ("return redis.error_reply('NOTLOADED')", "return redis.error_reply('PATCH bad path')",
                         "return redis.call('INCR', KEYS[1])"):
                script = client.register_script(body)
                await client.set(key, "x")
                with pytest.raises(ResponseError) as by_redis_py:
                    await script(keys=[key], args=[])
                with pytest.raises(ResponseError) as by_link:
                    await link.evalsha(script, [key], [])
                assert str(by_link.value) == str(by_redis_py.value), body
            assert str(by_link.value).startswith("value is not an integer")  # the last one: Redis' own text
        finally:
            await client.delete(key)
            await link.close()
            await client.aclose()

    asyncio.run(main())


def test_a_redis_that_goes_away_fails_at_once_and_a_new_one_is_reached(throwaway_redis: ThrowawayRedis) -> None:
    async def main() -> None:
        client = aioredis.Redis.from_url(throwaway_redis.url)
        link = RespLink.of(client, timeout=2.0)
        assert link is not None
        try:
            assert await link.pipeline([("SET", "k", "1")]) == [b"OK"]
            slow = asyncio.ensure_future(link.pipeline([("BLPOP", "nothing", 10)]))
            await asyncio.sleep(0.1)
            started = time.monotonic()
            throwaway_redis.kill()
            with pytest.raises(REDIS_ERRORS):
                await slow  # the command under way fails with the connection
            with pytest.raises(REDIS_ERRORS):
                await link.pipeline([("GET", "k")])  # nobody there: refused
            assert time.monotonic() - started < 1  # at once, not at the 2 s timeout
            ThrowawayRedis.__init__(throwaway_redis, throwaway_redis.log.parent, throwaway_redis.port)
            assert await link.pipeline([("GET", "k")]) == [None]  # a new connection to the new server
        finally:
            await link.close()
            await client.aclose()

    asyncio.run(main())


def test_a_reply_later_than_the_timeout_fails_the_command(redis_url: str) -> None:
    async def main() -> None:
        client = connect(redis_url)
        link = RespLink.of(client, timeout=0.3)
        assert link is not None
        try:
            started = time.monotonic()
            with pytest.raises(REDIS_ERRORS):
                await link.pipeline([("BLPOP", "lctest:resp:nothing", 5)])
            assert time.monotonic() - started < 1.5
            assert await link.pipeline([("PING",)]) == [b"PONG"]  # on a new connection
        finally:
            await link.close()
            await client.aclose()

    asyncio.run(main())


def test_tls_keeps_redis_py() -> None:
    assert RespLink.of(aioredis.Redis.from_url("rediss://127.0.0.1:6390/0")) is None
    assert isinstance(RedisConnectionError("x"), REDIS_ERRORS)


def test_a_subscription_hands_over_each_message_and_ends_with_its_connection(
        throwaway_redis: ThrowawayRedis) -> None:
    async def main() -> None:
        client = aioredis.Redis.from_url(throwaway_redis.url)
        link = RespLink.of(client)
        assert link is not None
        got: list[tuple[bytes, bytes]] = []
        listening = asyncio.ensure_future(link.listen(["one", "two"], lambda c, d: got.append((c, d))))
        try:
            while await client.pubsub_numsub("two") != [(b"two", 1)]:
                await asyncio.sleep(0.01)
            await client.publish("one", "a b")
            await client.publish("three", "not subscribed")
            await client.publish("two", "c")
            while len(got) < 2:
                await asyncio.sleep(0.01)
            assert got == [(b"one", b"a b"), (b"two", b"c")]
            throwaway_redis.kill()
            with pytest.raises(REDIS_ERRORS):
                await asyncio.wait_for(listening, 1)
        finally:
            listening.cancel()
            await link.close()
            await client.aclose()

    asyncio.run(main())
