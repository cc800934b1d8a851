"""Cost of following a stream's document for its comments' selling context (issue 18), per change.

    .venv/bin/python scripts/bench_watch.py [--patches 20000] [--runs 5]

Ingest's live numbers follow `flash_sales` and `explaining` of every stream they hold with a hub
watch (livecompanion/ingest/selling.py). With Redis, that makes the instance's pub/sub listener
decode every change of a followed stream, most of them the live numbers' own `metrics` and
`questions` patches (at most 4 a second per stream, the publish gate's budget), where before it
dropped the message of a stream nobody on the instance watched. Timed here: `RedisHub._dispatch`
of such a patch, as published by the hub's Lua script, with a watch (current) and without any
subscriber (the baseline, the cost before), alternating, medians. No Redis connection is made: the
listener's dispatch is called directly.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import orjson

from livecompanion.ingest.comments import CommentTriage
from livecompanion.ingest.selling import SellingContexts
from livecompanion.realtime.redis_hub import RedisHub


def patches(n: int) -> list[bytes]:
    metrics = {"viewers": 812, "comments_per_min": 233, "orders": 41, "gmv": 4059,
               "intent": {"想要": 120, "扣1": 88, "已拍": 12}}
    questions = [{"text": f"第{i}个问题多少钱", "count": 10 - i, "key": f"k{i}", "last": 1_733_480_000_000 + i}
                 for i in range(10)]
    return [orjson.dumps({"type": "patch", "rev": rev, "server_time": 1_733_480_000_000, "ops": [
        {"op": "set", "path": ["metrics"], "value": metrics},
        {"op": "set", "path": ["questions"], "value": questions}]}) for rev in range(1, n + 1)]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patches", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("load average at start:", _load())
    hub = RedisHub.from_url("redis://127.0.0.1:6379/0", prefix="bench-watch:")
    channel = b"bench-watch:live:s1"
    timings: dict[str, list[float]] = {"no subscriber (before)": [], "followed (watch)": []}
    for _ in range(args.runs):
        for kind in timings:
            contexts = SellingContexts(hub, lambda: None)
            if kind.startswith("followed"):
                contexts._contexts["s1"] = __import__("livecompanion.ingest.selling", fromlist=["_"]).DocumentContext(
                    CommentTriage())
                contexts._watches["s1"] = await _watch_without_listener(hub, contexts)
            messages = patches(args.patches)
            start = time.perf_counter()
            for message in messages:
                hub._dispatch(channel, message)
            timings[kind].append((time.perf_counter() - start) / args.patches * 1e6)
            contexts.close()
    for kind, values in timings.items():
        print(f"{kind}: {statistics.median(values):.2f} µs a patch (median of {args.runs} x {args.patches}; "
              + ", ".join(f"{v:.2f}" for v in values) + ")")
    print("load average at end:", _load())
    await hub.close()


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def _watch_without_listener(hub: RedisHub, contexts: SellingContexts):  # type: ignore[no-untyped-def]
    from functools import partial

    from livecompanion.realtime.hub import Watch, _HubBase

    watch = Watch(hub, "s1", partial(contexts._on_message, "s1"))
    await _HubBase._attach(hub, watch)  # registered for fan-out, without starting the pub/sub link
    return watch


if __name__ == "__main__":
    asyncio.run(main())
