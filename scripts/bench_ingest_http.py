"""What the HTTP layers cost an ingest batch, in process: past the router, through it, and the service.

    .venv/bin/python scripts/bench_ingest_http.py [--batches 200] [--rounds 5] [--events 50]
        [--pg-host 127.0.0.1] [--pg-user postgres] [--redis redis://127.0.0.1:6379/0] [--tree DIR]

One process builds the real app (`create_app`, its lifespan: PostgreSQL + Redis, a throwaway database
and key prefix), creates a stream, and times CPU (`time.process_time`) per batch of `--events` events
(the evening's mix without orders: comments, enters, viewer counts; `bench_ingest_cpu.batch`), each
answered once committed (the writer runs in this process, so its commit is in every figure):

  service   `IngestService.ingest_body` called directly (the route's work without HTTP)
  hot       a POST through the app: Guard, Idempotency, `HotPathsFirst` (api/hot_paths.py)
  route     the same POST with a root path, which `HotPathsFirst` leaves to FastAPI's router
            (its exception layer, exit stack, route matching, dependencies, response model)

Medians of `--rounds` rounds, the three taking turns request by request, all in one process on one
machine; no socket and no uvicorn (its HTTP parsing is in neither figure). On a tree without
api/hot_paths.py, `hot` is routed too. Figures: BENCHMARKS.md, "Hot paths past FastAPI's routing".
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if "--tree" in sys.argv:
    ROOT = Path(sys.argv[sys.argv.index("--tree") + 1]).resolve()
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import orjson  # noqa: E402
from bench_ingest_cpu import batch  # noqa: E402
from inprocess_app import asgi_post, scratch_app  # noqa: E402

from tests.sales.conftest import new_stream  # noqa: E402


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    async with scratch_app(args, "ingesthttp") as app:
        services = app.state.services
        stream_id = await new_stream(services.db)
        path = f"/api/streams/{stream_id}/events"
        seq = 0

        def next_body() -> bytes:
            nonlocal seq
            seq += 1
            return orjson.dumps(batch(0, args.events, seq, None, rng, orders=False))

        async def by_service() -> None:
            result = await services.ingest.ingest_body(stream_id, next_body(), "application/json")
            assert result.accepted + result.duplicates == args.events, result

        def by_app(root_path: str) -> Callable[[], Awaitable[None]]:
            async def post() -> None:
                status = await asgi_post(app, path, "ingest-token", next_body(), root_path)
                assert status == 200, status

            return post

        async def cpu(step: Callable[[], Awaitable[None]]) -> float:
            started = time.process_time()
            await step()
            return (time.process_time() - started) * 1e6

        ways = {"service": by_service, "hot": by_app(""), "route": by_app("/lc")}
        for _ in range(30):
            for step in ways.values():
                await cpu(step)
        figures: dict[str, list[float]] = {way: [] for way in ways}
        for _ in range(args.rounds):
            took: dict[str, list[float]] = {way: [] for way in ways}
            for _ in range(args.batches):  # request by request in turn: the machine's noise hits all three
                for way, step in ways.items():
                    took[way].append(await cpu(step))
            for way, values in took.items():
                figures[way].append(statistics.median(values))
        for way, values in figures.items():
            rounds = " / ".join(f"{v:,.0f}" for v in values)
            print(f"{way:8} {rounds} us: median {statistics.median(values):,.0f}")
        hot, route, service = (statistics.median(figures[w]) for w in ("hot", "route", "service"))
        ratios = " ".join(f"{h / r:.2f}" for h, r in zip(figures["hot"], figures["route"], strict=True))
        print(f"a batch of {args.events}, CPU medians of {args.rounds} rounds of {args.batches}: hot/route "
              f"{hot / route:.2f} (rounds: {ratios}); past the service: hot {hot - service:,.0f} us, "
              f"route {route - service:,.0f} us")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--tree", help="run another checkout's code (e.g. /work/wt/base)")
    asyncio.run(main(parser.parse_args()))
