"""What one Redis command costs this process in CPU: redis-py's asyncio client against a bare
round trip on the same event loop, in one run (issue 20: where an instance's CPU goes).

    .venv/bin/python scripts/bench_redis_client.py [--commands 4000] [--runs 5] [--redis redis://127.0.0.1:6379/0]

Each variant sends `--commands` HMGETs of three fields (16 at a time where the client has a pool)
and reports this process's CPU time per command (`time.process_time`, so other work on the shared
machine does not count), the median of `--runs`:

  bare        one asyncio stream, the RESP bytes written and the reply read: the floor (the
              syscalls and the event loop)
  redis-py    the service's clients: a BlockingConnectionPool as the hub and the claim store
              build it, with and without `socket_timeout` (on Python 3.11 each timed send is a
              task of its own through `asyncio.wait_for`)
  pipeline    the same commands 40 to a pipeline

Measured on 2026-12-06 (redis-py 8.2, hiredis 3.5, uvloop, Python 3.11, load average ~2): bare 38-49 us,
redis-py 145-155 us a command whatever its timeout, 40-44 us in a pipeline. So an instance pays about
0.1 ms of Python for each Redis command it does not pipeline; see BENCHMARKS.md (the evening).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlparse

import redis.asyncio as aioredis

KEY = "bench:redis-client:h"
FIELDS = ["a", "b", "c"]


def resp(*parts: str) -> bytes:
    out = [f"*{len(parts)}\r\n".encode()]
    for part in parts:
        data = part.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


async def cpu_per_command(run: Callable[[int], Awaitable[None]], n: int) -> float:
    await run(50)  # connections open, scripts and caches warm
    started = time.process_time()
    await run(n)
    return (time.process_time() - started) / n * 1e6


async def bare(url: str, n: int) -> float:
    where = urlparse(url)
    reader, writer = await asyncio.open_connection(where.hostname or "127.0.0.1", where.port or 6379)
    command = resp("HMGET", KEY, *FIELDS)

    async def run(k: int) -> None:
        for _ in range(k):
            writer.write(command)
            line = await reader.readline()  # *3
            for _ in range(int(line[1:])):
                await reader.readline()  # $-1 (the fields are missing)

    try:
        return await cpu_per_command(run, n)
    finally:
        writer.close()


async def pooled(url: str, n: int, **options: object) -> float:
    pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=64, timeout=2, **options)  # type: ignore[arg-type]
    client = aioredis.Redis(connection_pool=pool)

    async def run(k: int) -> None:
        async def worker(m: int) -> None:
            for _ in range(m):
                await client.hmget(KEY, FIELDS)
        await asyncio.gather(*(worker(k // 16) for _ in range(16)))

    try:
        return await cpu_per_command(run, n)
    finally:
        await client.aclose()


async def pipelined(url: str, n: int) -> float:
    client = aioredis.Redis.from_url(url)

    async def run(k: int) -> None:
        for _ in range(max(1, k // 40)):
            pipe = client.pipeline(transaction=False)
            for _ in range(40):
                pipe.hmget(KEY, FIELDS)
            await pipe.execute()

    try:
        return await cpu_per_command(run, n)
    finally:
        await client.aclose()


async def main(args: argparse.Namespace) -> None:
    variants: dict[str, Callable[[], Awaitable[float]]] = {
        "bare round trip": lambda: bare(args.redis, args.commands),
        "redis-py, socket_timeout=2 (claim store)": lambda: pooled(args.redis, args.commands, socket_timeout=2),
        "redis-py, no socket_timeout (hub)": lambda: pooled(args.redis, args.commands),
        "redis-py pipeline of 40": lambda: pipelined(args.redis, args.commands),
    }
    figures: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.runs):  # alternating, so a busy moment of the machine hits every variant
        for name, variant in variants.items():
            figures[name].append(await variant())
    floor = statistics.median(figures["bare round trip"])
    print(f"load average {os.getloadavg()}; {args.commands} HMGETs a run, medians of {args.runs} runs")
    for name, values in figures.items():
        median = statistics.median(values)
        print(f"  {name:42} {median:7.1f} us CPU a command  ({median / floor:.1f}x the bare round trip)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=4000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    try:
        import uvloop
        uvloop.run(main(parser.parse_args()))
    except ImportError:
        asyncio.run(main(parser.parse_args()))
