"""Benchmark: flash-sale claims per second through the HTTP API of two instances on PostgreSQL + Redis,
against a trivial endpoint (/healthz) of the same servers and against raw EVALSHA of the claim script,
in one run, on this machine.

    .venv/bin/python scripts/bench_claims.py [--seconds 5] [--connections 64] [--clients 1]
        [--pg postgresql+asyncpg://postgres@127.0.0.1:5432] [--redis redis://127.0.0.1:6379/0]

It creates a throwaway PostgreSQL database, starts two `livecompanion serve` processes on it and on
Redis, and runs, each for --seconds (bounded in time and count, loopback only):

  healthz:  GET /healthz, alternating between the two instances;
  claims:   POST .../claims, each request a new buyer and order_id, against a sale whose stock
            outlasts the run, so every request is a granted claim that is answered only once the
            record holds it (the durable path); alternating between the instances;
  sellout:  a crowd of 10x the stock of a second sale, every order sent twice (a retry); checked:
            exactly the stock sold, ranks 1..stock, the record equal to the granted claims;
  evalsha:  the claim script straight from Python (redis-py asyncio, same concurrency), new buyers
            on a third sale: what Redis and one client process can do without HTTP.

The load comes from --clients processes (default 1) of a small keep-alive HTTP/1.1 client on uvloop
(no pipelining: each connection sends its next request when the answer is in). The machine has two
cores: the servers, PostgreSQL, Redis and the load generator share them, and the figures say so.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.sales import rawhttp  # noqa: E402

PREFIX = f"lcbench:{secrets.token_hex(4)}:"  # this run's Redis keys (deleted after the run)
GOAL_CLAIMS = 5000
GOAL_RATIO = 0.5


async def hammer(job: dict[str, Any], worker: int, seconds: float) -> dict[str, Any]:
    """Keep `connections` connections busy for `seconds`; count answers by status."""
    loop = asyncio.get_running_loop()
    servers = job["servers"]  # base URLs
    counts: dict[int, int] = {}
    latencies: list[float] = []
    deadline = loop.time() + seconds
    seq = iter(range(worker * 10_000_000, (worker + 1) * 10_000_000))

    async def one_connection(i: int) -> None:
        base = servers[i % len(servers)]
        conn = await rawhttp.connect(base)
        try:
            while loop.time() < deadline:
                n = next(seq)
                if job["kind"] == "healthz":
                    raw = rawhttp.request("GET", base, "/healthz")
                else:
                    body = b'{"user_id":"w%d-%d","order_id":"o%d"}' % (worker, n, n)
                    raw = rawhttp.request(
                        "POST", base, job["path"], {"Authorization": f"Bearer {job['token']}"}, body
                    )
                started = loop.time()
                status, _, _ = await conn.send(raw)
                latencies.append(loop.time() - started)
                counts[status] = counts.get(status, 0) + 1
        finally:
            conn.close()

    started = loop.time()
    await asyncio.gather(*(one_connection(worker * 1000 + i) for i in range(job["connections"])))
    return {"counts": counts, "elapsed": loop.time() - started, "latencies": latencies}


def _worker(job: dict[str, Any], worker: int, seconds: float, out: Any) -> None:
    import uvloop

    out.put(uvloop.run(hammer(job, worker, seconds)))


def run_load(job: dict[str, Any], clients: int, seconds: float) -> dict[str, Any]:
    if clients == 1:
        import uvloop

        results = [uvloop.run(hammer(job, 0, seconds))]
    else:
        queue: Any = mp.Queue()
        per = dict(job, connections=max(1, job["connections"] // clients))
        procs = [mp.Process(target=_worker, args=(per, w, seconds, queue)) for w in range(clients)]
        for p in procs:
            p.start()
        results = [queue.get() for _ in procs]
        for p in procs:
            p.join()
    counts: dict[int, int] = {}
    for r in results:
        for status, n in r["counts"].items():
            counts[status] = counts.get(status, 0) + n
    elapsed = max(r["elapsed"] for r in results)
    lat = sorted(x for r in results for x in r["latencies"])
    total = sum(counts.values())
    return {
        "counts": counts,
        "rate": total / elapsed,
        "p50_ms": 1000 * lat[len(lat) // 2] if lat else None,
        "p99_ms": 1000 * lat[int(len(lat) * 0.99)] if lat else None,
        "total": total,
    }


# --- where the CPU goes ---------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(server_pids: set[int]) -> dict[str, float]:
    """CPU seconds used so far by the servers, PostgreSQL, Redis and this load generator."""
    out = {"servers": 0.0, "postgres": 0.0, "redis": 0.0, "client": 0.0}
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                raw = f.read().decode(errors="replace")
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        used = (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
        pid, ppid = int(entry), int(fields[1])
        if pid in server_pids:
            out["servers"] += used
        elif comm.startswith("postgres"):
            out["postgres"] += used
        elif comm.startswith("redis-server"):
            out["redis"] += used
        elif pid == me or ppid == me:
            out["client"] += used
    return out


def cpu_used(before: dict[str, float], after: dict[str, float]) -> str:
    return ", ".join(f"{k} {after[k] - before[k]:.1f}" for k in before)


# --- the run --------------------------------------------------------------------------------------


async def evalsha_rate(
    redis_url: str,
    db_url: str,
    stream_id: str,
    sale_id: str,
    connections: int,
    seconds: float,
    per_call: int = 1,
) -> float:
    """Claims/s of the claim script called straight from Python, `per_call` claims in each call."""
    from livecompanion.sales.store_redis import RedisClaimStore, connect
    from livecompanion.storage.db import Database

    db = Database(db_url)
    store = RedisClaimStore(db, connect(redis_url, max_connections=connections), prefix=PREFIX)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    done = 0

    async def worker(w: int) -> None:
        nonlocal done
        n = 0
        while loop.time() < deadline:
            claims = []
            for _ in range(per_call):
                n += 1
                claims.append((f"e{per_call}-{w}-{n}", 1, f"e{per_call}-{w}-{n}"))
            keys, args = store.claim_call(stream_id, sale_id, claims)
            reply = await store._claim(keys=keys, args=args)
            assert reply.count(b"\ngranted ") == per_call, reply
            done += per_call

    started = loop.time()
    await asyncio.gather(*(worker(w) for w in range(connections)))
    rate = done / (loop.time() - started)
    await store.close()
    await db.dispose()
    return rate


async def record_of(db_url: str, sale_id: str) -> tuple[int, int, int, int]:
    from sqlalchemy import func, select

    from livecompanion.storage.db import Database
    from livecompanion.storage.tables import ClaimRow, FlashSaleRow

    db = Database(db_url)
    async with db.session() as session:
        n, units, distinct_ranks = (
            await session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(ClaimRow.qty), 0),
                    func.count(func.distinct(ClaimRow.rank)),
                ).where(ClaimRow.sale_id == sale_id)
            )
        ).one()
        sold = await session.scalar(select(FlashSaleRow.sold).where(FlashSaleRow.id == sale_id))
    await db.dispose()
    return int(n), int(units), int(distinct_ranks), int(sold)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=128,
                        help="concurrent buyers (keep-alive connections)")
    parser.add_argument("--clients", type=int, default=1, help="load-generator processes")
    parser.add_argument("--pg", default="postgresql+asyncpg://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    if not 0 < args.seconds <= 60:
        parser.error("--seconds must be in (0, 60]")

    import asyncpg
    import httpx

    from tests.conftest import start_server
    from tests.sales.conftest import create_stream_http, start_sale_http
    from tests.sales.crowd import check_crowd, plan, run_crowd

    name = f"lc_bench_{secrets.token_hex(4)}"
    admin = args.pg.replace("postgresql+asyncpg", "postgresql") + "/postgres"

    async def pg(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    load_before = os.getloadavg()[0]
    asyncio.run(pg(f'CREATE DATABASE "{name}"'))
    db_url = f"{args.pg}/{name}"
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / name
    servers = []
    try:
        tokens = {role: f"{role}-{secrets.token_hex(8)}" for role in ("operator", "ingest", "viewer")}
        for i in range(2):  # two instances of one deployment: same record, same Redis, same tokens
            (tmp / str(i)).mkdir(parents=True)
            env = {"LIVECOMPANION_REDIS_PREFIX": PREFIX}
            servers.append(start_server(tmp / str(i), database_url=db_url, redis_url=args.redis,
                                        tokens=tokens, extra_env=env))
        a, _b = servers
        stream_id = create_stream_http(a)
        hosts = [s.base_url for s in servers]

        pids = {s.process.pid for s in servers}
        c0 = cpu_seconds(pids)
        healthz = run_load(
            {"kind": "healthz", "servers": hosts, "connections": args.connections}, args.clients, args.seconds
        )
        c1 = cpu_seconds(pids)
        big = start_sale_http(a, stream_id, stock=1_000_000, per_user_limit=1, duration_seconds=3600)
        path = f"/api/streams/{stream_id}/flash-sales/{big['id']}/claims"
        c2 = cpu_seconds(pids)
        claims = run_load(
            {
                "kind": "claims",
                "servers": hosts,
                "connections": args.connections,
                "path": path,
                "token": a.tokens["ingest"],
            },
            args.clients,
            args.seconds,
        )
        c3 = cpu_seconds(pids)
        granted = claims["counts"].get(201, 0)
        time.sleep(0.5)
        n, units, ranks, sold = asyncio.run(record_of(db_url, big["id"]))
        claims_ok = n == units == ranks == sold == granted

        stock = 2000
        # One running sale of a sku a stream (issue 12's rule): each sale here on a stream of its own.
        big_stream, stream_id = stream_id, create_stream_http(a)
        sellout = start_sale_http(a, stream_id, stock=stock, per_user_limit=2, duration_seconds=600)
        requests = plan(buyers=8000)  # 20,000 requests: 10x the stock, every order sent twice
        started = time.perf_counter()
        crowd = asyncio.run(
            run_crowd(servers, stream_id, sellout["id"], requests, concurrency=args.connections)
        )
        crowd_seconds = time.perf_counter() - started
        won = check_crowd(crowd, stock, 2, None)  # raises if anything is off: exact stock, ranks, limits
        n2, units2, ranks2, sold2 = asyncio.run(record_of(db_url, sellout["id"]))
        sellout_ok = units2 == sold2 == stock and n2 == ranks2 == len(won)

        stream_id = create_stream_http(a)
        third = start_sale_http(a, stream_id, stock=1_000_000, per_user_limit=1, duration_seconds=3600)
        evalsha = asyncio.run(
            evalsha_rate(args.redis, db_url, stream_id, third["id"], args.connections, args.seconds)
        )
        evalsha_batched = asyncio.run(
            evalsha_rate(
                args.redis,
                db_url,
                stream_id,
                third["id"],
                max(1, args.connections // 8),
                args.seconds,
                per_call=32,
            )
        )
        statuses = httpx.get(
            f"{a.base_url}/api/streams/{big_stream}/flash-sales/{big['id']}", headers=a.headers("viewer")
        ).json()
    finally:
        for s in servers:
            s.stop()
        asyncio.run(pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        import redis

        client = redis.Redis.from_url(args.redis)
        stale = list(client.scan_iter(match=PREFIX + "*"))
        if stale:
            client.delete(*stale)
        client.close()

    ratio = claims["rate"] / healthz["rate"]
    print(
        f"machine: {os.cpu_count()} cores, load average before: {load_before:.2f}, "
        f"after: {os.getloadavg()[0]:.2f}; "
        f"{args.clients} client process(es), {args.connections} connections, {args.seconds:g} s a phase"
    )
    print(
        f"healthz  {healthz['rate']:8.0f} req/s   p50 {healthz['p50_ms']:.1f} ms  "
        f"p99 {healthz['p99_ms']:.1f} ms  {healthz['counts']}"
    )
    print(
        f"claims   {claims['rate']:8.0f} claims/s p50 {claims['p50_ms']:.1f} ms  "
        f"p99 {claims['p99_ms']:.1f} ms  {claims['counts']}  record: {n} claims, sold {sold}  "
        f"{'OK' if claims_ok else 'MISMATCH'}"
    )
    print(
        f"sellout  {len(requests) / crowd_seconds:8.0f} req/s   {len(requests)} requests for {stock} units "
        f"in {crowd_seconds:.2f} s: sold {sold2}, ranks 1..{stock}, record {n2} claims  "
        f"{'OK' if sellout_ok else 'MISMATCH'}"
    )
    print(
        f"evalsha  {evalsha:8.0f} claims/s (the Lua script alone from one Python process, one claim a "
        f"call); {evalsha_batched:.0f} claims/s with 32 claims a call"
    )
    print(
        f"claims / healthz = {ratio:.2f} (goal >= {GOAL_RATIO}); claims/s goal >= {GOAL_CLAIMS}: "
        f"{'met' if claims['rate'] >= GOAL_CLAIMS else 'NOT met'}; oversold: "
        f"{'no' if sellout_ok and claims_ok and statuses['sold'] <= statuses['stock'] else 'CHECK'}"
    )
    print(f"cpu seconds, healthz phase: {cpu_used(c0, c1)}; claims phase: {cpu_used(c2, c3)}")
    return 0 if claims_ok and sellout_ok else 1


if __name__ == "__main__":
    sys.exit(main())
