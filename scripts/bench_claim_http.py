"""What the HTTP layers cost a claim, in process: the app's ASGI stack against the service call.

    .venv/bin/python scripts/bench_claim_http.py [--claims 400] [--rounds 5]
        [--pg-host 127.0.0.1] [--pg-user postgres] [--redis redis://127.0.0.1:6379/0] [--tree DIR]

One process builds the real app (`create_app`, its lifespan: PostgreSQL + Redis, a throwaway database
and key prefix), starts a sale, and times CPU (`time.process_time`) per granted claim, each answered
once the record holds it (the drainer runs in this process, so its pass is in both figures):

  service      `SalesService.claim` called directly
  asgi         the same claim as a POST through the app (Guard, Idempotency, Starlette's
               middlewares and router, the claim route: token, body, JSON answer); no socket and
               no uvicorn (its HTTP parsing is not in the figure)

Medians of `--rounds` rounds, alternating. The difference is what the app's layers cost a claim.

Measured (2026-12-06, load ~3, 5 rounds of 300): main at that session's start, service 1,065-1,168 us,
through the app 1,137-1,545 us; with the one-pass drainer and the lean Redis connection 554-580 /
871-1,001 us; with `ClaimsFirst` too (api/sales.py) 538-566 / 731-739 us. The difference of two
medians swings (50-447 us): compare the through-the-app figures.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if "--tree" in sys.argv:
    ROOT = Path(sys.argv[sys.argv.index("--tree") + 1]).resolve()
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
from inprocess_app import asgi_post, scratch_app  # noqa: E402

from tests.sales.conftest import new_sale, new_stream  # noqa: E402


async def main(args: argparse.Namespace) -> None:
    async with scratch_app(args, "claimhttp") as app:
        services = app.state.services
        stream_id = await new_stream(services.db)
        sale = await new_sale(services.db, stream_id, stock=1_000_000, per_user_limit=1000)
        await services.sales.store.prepare(sale)
        path = f"/api/streams/{stream_id}/flash-sales/{sale.id}/claims"
        n = 0

        async def by_service() -> None:
            nonlocal n
            n += 1
            await services.sales.claim(stream_id, sale.id, f"u{n % 100_000}", 1, f"o{n}")

        async def by_asgi() -> None:
            nonlocal n
            n += 1
            body = orjson.dumps({"user_id": f"u{n % 100_000}", "order_id": f"o{n}"})
            status = await asgi_post(app, path, "ingest-token", body)
            assert status == 201, status

        async def cpu(step: object, count: int) -> float:
            took = []
            for _ in range(count):
                started = time.process_time()
                await step()  # type: ignore[operator]
                took.append(time.process_time() - started)
            return statistics.median(took)

        await cpu(by_service, 50)
        await cpu(by_asgi, 50)
        figures: dict[str, list[float]] = {"service": [], "asgi": []}
        for _ in range(args.rounds):
            figures["service"].append(await cpu(by_service, args.claims))
            figures["asgi"].append(await cpu(by_asgi, args.claims))
        service, asgi = (statistics.median(v) * 1e6 for v in figures.values())
        print(f"a granted claim, CPU: service {service:.0f} us, through the app {asgi:.0f} us: the app's "
              f"layers {asgi - service:.0f} us (medians of {args.rounds} rounds of {args.claims})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--tree", help="run another checkout's code (e.g. /work/wt/base)")
    asyncio.run(main(parser.parse_args()))
