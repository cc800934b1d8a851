"""What a claim and a drain pass cost the process in CPU, on PostgreSQL + Redis (issue 20).

    .venv/bin/python scripts/bench_drain.py [--claims 300] [--sales 5]
        [--pg-host 127.0.0.1] [--pg-user postgres] [--redis redis://127.0.0.1:6379/0]

In one process, on a throwaway PostgreSQL database and a Redis prefix of its own, with `--sales`
sales (one a stream): `time.process_time` per operation, so the rest of a shared machine does not
count (medians):

  claim        one claim decided by claim.lua through the Redis claim store
  pass, 1      a drain pass over one sale whose log holds one new claim (the evening's usual case:
               2,000 claims a minute a sale, so nearly every claim has its pass to itself)
  pass, N      one drain call over N sales holding a new claim each (one pass: drain_pass.py)
  idle pass    a drain pass that finds nothing new: the floor, measured in the same run

`--evening SECONDS`: two instances (a store and a started drainer each) in this one process, claims
at `--rate` a minute on each of `--sales` sales, each to a random instance and answered once the
record holds it (as the API does, less HTTP): CPU per claim (user + system) and the answers' wait.
`--claims-only` decides the claims and drains nothing. `--tree /work/wt/base` runs another
checkout's code: before and after in one sitting.

What it says (2026-12-06, the code before this session's claimcpu branch, two runs, load ~5): claim
187-275 us, pass 664-765 us, a sale in a pass over five 726-760 us, idle pass 152-185 us. After it
(two runs each, alternating with `--tree /work/wt/base`, load ~3, `--sales 10`): claim 99-111 (base
211-244) us, pass 324-365 (766-780) us, a pass over ten 685-809 (7,460-7,862) us, idle 62-74 (182-212)
us; `--evening 10 --sales 10`: 718-861 (1,008-1,478) us of CPU a claim, both instances together.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if "--tree" in sys.argv:  # another checkout's code (before/after in one run): its livecompanion and tests
    ROOT = Path(sys.argv[sys.argv.index("--tree") + 1]).resolve()
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from tests.sales.conftest import close_store, new_sale, new_stream, open_store  # noqa: E402


async def cpu(step: Callable[[], Awaitable[object]], before: Callable[[], Awaitable[object]] | None,
              n: int) -> float:
    """Median CPU seconds of `step`, each after `before` (not timed)."""
    took = []
    for _ in range(n):
        if before is not None:
            await before()
        started = time.process_time()
        await step()
        took.append(time.process_time() - started)
    return statistics.median(took)


async def evening(args: argparse.Namespace, kind: dict[str, str]) -> None:
    """Two instances (store + started drainer each) in this process, `--sales` sales, claims at
    `--rate` a minute a sale, each to a random instance and answered when the record holds it (as
    `SalesService.claim`): the process's CPU per claim, and the answers' wall-clock wait."""
    import random

    from livecompanion.sales.drain import Drainer

    db, store_a, _ = await open_store(kind)
    _, store_b, _ = await open_store(kind)
    drainers = [Drainer(store_a, "bench-a"), Drainer(store_b, "bench-b")]
    stores = [store_a, store_b]
    try:
        streams = [await new_stream(db) for _ in range(args.sales)]
        sales = [await new_sale(db, stream, stock=1_000_000, per_user_limit=1000) for stream in streams]
        for sale in sales:
            await store_a.prepare(sale)
        for drainer in drainers if not args.claims_only else ():
            drainer.start()
        await asyncio.sleep(0.3)  # both listening
        rng = random.Random(20)
        waits: list[float] = []
        pending: set[asyncio.Task[None]] = set()
        n = 0

        async def one(i: int, stream_id: str, sale_id: str) -> None:
            started = time.perf_counter()
            reply = await stores[i].claim(stream_id, sale_id, f"u{n % 500}", 1, f"o{n}")
            assert reply.entry is not None
            if args.claims_only:
                waits.append(time.perf_counter() - started)
                return
            held = getattr(reply, "holder_lease_ms", None)  # (not in the code before 2026-12-06's claimcpu)
            wait = drainers[i].recorded(stream_id, sale_id, reply.entry, 3.0, *([held] if held else []))
            assert await wait
            waits.append(time.perf_counter() - started)

        per_second = args.rate * args.sales / 60
        loop = asyncio.get_running_loop()
        import os

        cpu0, wall0, times0 = time.process_time(), loop.time(), os.times()
        deadline = wall0 + args.evening
        at = wall0
        while at < deadline:
            at += rng.expovariate(per_second)
            await asyncio.sleep(max(0.0, at - loop.time()))
            n += 1
            i, k = rng.randrange(2), rng.randrange(args.sales)
            task = asyncio.create_task(one(i, streams[k], sales[k].id))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
        cpu, wall, times = time.process_time() - cpu0, loop.time() - wall0, os.times()
        user, system = times.user - times0.user, times.system - times0.system
        waits.sort()
        print(f"evening: {n} claims over {args.sales} sales in {wall:.1f} s ({n / wall:.0f}/s), both instances "
              f"in this process: CPU {cpu:.2f} s = {cpu / n * 1e6:.0f} us a claim ({cpu / wall * 100:.0f}% of a "
              f"core; user {user / n * 1e6:.0f} + system {system / n * 1e6:.0f} us); answered p50 "
              f"{waits[len(waits) // 2] * 1e3:.1f} ms, p99 {waits[int(len(waits) * 0.99)] * 1e3:.1f} ms")
    finally:
        for drainer in drainers:
            await drainer.close()
        await close_store(kind, db, store_a)
        await store_b.close()


async def main(args: argparse.Namespace) -> None:
    name = f"lc_drain_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(host=args.pg_host, user=args.pg_user, database="postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    kind = {"store": "redis", "url": f"postgresql+asyncpg://{args.pg_user}@{args.pg_host}:5432/{name}",
            "redis_url": args.redis, "prefix": f"lcbench:drain:{secrets.token_hex(3)}:"}
    if args.evening:
        if args.gather is not None:
            from livecompanion.sales import drain

            drain.PASS_EVERY_S = args.gather
        try:
            await evening(args, kind)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
        return
    db, store, drainer = await open_store(kind)
    try:
        streams = [await new_stream(db) for _ in range(args.sales)]
        sales = [await new_sale(db, stream, stock=1_000_000) for stream in streams]
        for sale in sales:
            await store.prepare(sale)
        stream_of = {sale.id: stream for sale, stream in zip(sales, streams, strict=True)}
        first = sales[0].id
        n = 0

        async def claim(sale_id: str = first) -> object:
            nonlocal n
            n += 1
            return await store.claim(stream_of[sale_id], sale_id, f"u{n}", 1, f"o{n}")

        async def claim_each() -> None:
            for sale in sales:
                await claim(sale.id)

        async def drain_one() -> int:
            return int(await drainer.drain({first: stream_of[first]}))

        async def drain_all() -> int:
            return int(await drainer.drain(dict(stream_of)))

        for _ in range(50):  # warm: scripts loaded, connections open, positions cached
            await claim()
            await drain_one()
        figures = {
            "claim": await cpu(claim, None, args.claims),
            "pass, 1 sale, 1 new claim": await cpu(drain_one, claim, args.claims),
            f"pass over {args.sales} sales, a new claim each": await cpu(drain_all, claim_each, args.claims // 5),
            "idle pass (the floor)": await cpu(drain_one, None, args.claims),
        }
        for what, seconds in figures.items():
            print(f"{seconds * 1e6:8.0f} us  {what}")
        many = figures[f"pass over {args.sales} sales, a new claim each"]
        print(f"a sale in a pass over {args.sales}: {many / args.sales * 1e6:.0f} us; one pass / idle pass: "
              f"{figures['pass, 1 sale, 1 new claim'] / figures['idle pass (the floor)']:.1f}x")
    finally:
        await drainer.writer.close()
        await close_store(kind, db, store)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=300)
    parser.add_argument("--sales", type=int, default=5)
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--evening", type=float, default=0.0, metavar="SECONDS",
                        help="instead: two instances' claims at --rate for this long (CPU per claim)")
    parser.add_argument("--rate", type=float, default=2000, help="--evening: claims a minute a sale")
    parser.add_argument("--claims-only", action="store_true",
                        help="--evening: claims decided, nothing drained (what the rest costs)")
    parser.add_argument("--tree", help="run another checkout's code (e.g. /work/wt/base)")
    parser.add_argument("--gather", type=float, help="--evening: the drainer's least time between passes (s)")
    asyncio.run(main(parser.parse_args()))
