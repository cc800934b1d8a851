"""Replay a recorded event log (NDJSON) into a running service, for rehearsal and load.

    # at real speed, timestamps rebased to now, over HTTP batches
    .venv/bin/python scripts/replay.py stream.ndjson --url http://127.0.0.1:8000 --stream ID --token INGEST

    # 20x faster over the ingest WebSocket, keeping the recorded timestamps
    .venv/bin/python scripts/replay.py stream.ndjson --stream ID --speed 20 --via ws --keep-ts

    # as fast as the service takes it, 4 requests in flight (load test)
    .venv/bin/python scripts/replay.py big.ndjson --stream ID --speed max --concurrency 4 --batch 1000

Events are sent in file order. At `--speed N` an event recorded at `ts` is sent `(ts - first ts) / N`
after the start; events due within `--window` milliseconds of each other go in one batch (at most
`--batch` events). With `--rebase` (default) each event's `ts` becomes the moment it is sent, so the
live screens and the report see a stream happening now (N times faster); `--keep-ts` sends the
recorded times. `--id-prefix P` puts P before every `id`, so the same log can be replayed into the
same stream again as new events (without it, a second replay is all duplicates, as it should be).

Prints a progress line a second (sent, accepted, duplicates, rejected, how far behind schedule) and
a summary; exits 1 if anything was rejected or refused, 0 otherwise. `--stream` may be replaced by
`--script FILE --operator-token OP` to create a stream first. Tokens also come from
LIVECOMPANION_INGEST_TOKEN and LIVECOMPANION_OPERATOR_TOKEN.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livecompanion.ingest.answers import IngestCounts


@dataclass
class Totals(IngestCounts):
    refused: int = 0  # requests answered with an error status (events not stored)
    behind_ms: float = 0.0

    def add_answer(self, answer: dict[str, Any], size: int) -> None:
        """An answer to `size` events: counted, or (an error status) all of them refused."""
        if answer.get("type") == "error" or "accepted" not in answer:
            self.refused += size
            self.count_reason(f"{answer.get('status', '?')}: {answer.get('detail', answer)}")
            return
        self.add(answer, reasons_per_answer=3)

    def line(self, elapsed: float) -> str:
        return (
            f"{elapsed:7.1f}s sent {self.sent:>9,}  accepted {self.accepted:>9,}  dup {self.duplicates:>7,}  "
            f"rejected {self.rejected:>5,}  refused {self.refused:>5,}  behind {self.behind_ms / 1000:5.1f}s"
        )


def read_log(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, event) for every JSON object line; bad lines are reported and skipped."""
    with sys.stdin.buffer if str(path) == "-" else path.open("rb") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                print(f"{path}:{lineno}: error: not JSON: {exc}", file=sys.stderr)
                continue
            if not isinstance(event, dict):
                print(f"{path}:{lineno}: error: not an event object", file=sys.stderr)
                continue
            yield lineno, event


def ts_of(event: dict[str, Any]) -> int | None:
    from livecompanion.events.models import ts_to_ms

    try:
        return ts_to_ms(event["ts"]) if event.get("ts") is not None else None
    except ValueError:
        return None


async def batches(args: argparse.Namespace, totals: Totals) -> AsyncIterator[list[dict[str, Any]]]:
    """Batches of events, released on schedule (or at once at `--speed max`)."""
    speed = None if args.speed == "max" else float(args.speed)
    start = time.monotonic()
    now0 = int(time.time() * 1000)
    first_ts: int | None = None
    batch: list[dict[str, Any]] = []
    batch_due = 0.0
    for _, event in read_log(args.log):
        ts = ts_of(event)
        if first_ts is None and ts is not None:
            first_ts = ts
        due = 0.0 if speed is None or ts is None or first_ts is None else (ts - first_ts) / speed / 1000
        if batch and (len(batch) >= args.batch or due - batch_due > args.window / 1000):
            yield batch
            batch = []
        if not batch:
            batch_due = due
            if speed is not None:
                wait = start + due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                totals.behind_ms = max(0.0, -wait * 1000)
        if args.id_prefix and event.get("id") is not None:
            event["id"] = f"{args.id_prefix}{event['id']}"
        if args.rebase and ts is not None and first_ts is not None:
            event["ts"] = now0 + int((ts - first_ts) / (speed or 1.0))
        batch.append(event)
    if batch:
        yield batch


async def via_http(args: argparse.Namespace, totals: Totals) -> None:
    headers = {"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"}
    limit = asyncio.Semaphore(args.concurrency)
    async with httpx.AsyncClient(base_url=args.url, headers=headers, timeout=60) as client:

        async def send(batch: list[dict[str, Any]]) -> None:
            try:
                for attempt in range(5):
                    r = await client.post(f"/api/streams/{args.stream}/events", content=orjson.dumps(batch))
                    if r.status_code == 503 and attempt < 4:  # saturated: come back as told
                        await asyncio.sleep(float(r.headers.get("retry-after", "1")))
                        continue
                    answer = (
                        r.json()
                        if r.status_code == 200
                        else {"type": "error", "status": r.status_code, "detail": r.text[:200]}
                    )
                    totals.add_answer(answer, len(batch))
                    return
            finally:
                limit.release()

        tasks = set()
        async for batch in batches(args, totals):
            await limit.acquire()
            totals.sent += len(batch)
            task = asyncio.create_task(send(batch))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)


async def via_ws(args: argparse.Namespace, totals: Totals) -> None:
    from websockets.asyncio.client import connect

    url = args.url.replace("http", "ws", 1) + f"/ws/streams/{args.stream}/ingest?token={args.token}"
    sizes: dict[int, int] = {}
    window = asyncio.Semaphore(max(1, args.concurrency) * 4)
    async with connect(url, max_size=None) as ws:

        async def read_acks() -> None:
            async for raw in ws:
                answer = orjson.loads(raw)
                totals.add_answer(answer, sizes.pop(answer.get("seq"), 0))
                window.release()

        reader = asyncio.create_task(read_acks())
        seq = 0
        async for batch in batches(args, totals):
            await window.acquire()
            seq += 1
            sizes[seq] = len(batch)
            totals.sent += len(batch)
            await ws.send(orjson.dumps({"seq": seq, "events": batch}).decode())
        while sizes and not reader.done():
            await asyncio.sleep(0.05)
        reader.cancel()


def create_stream(args: argparse.Namespace) -> str:
    headers = {"Authorization": f"Bearer {args.operator_token}", "Content-Type": "application/yaml"}
    r = httpx.post(f"{args.url}/api/streams", content=args.script.read_bytes(), headers=headers, timeout=30)
    if r.status_code != 201:
        sys.exit(f"creating the stream failed: {r.status_code} {r.text[:300]}")
    return r.json()["id"]


async def main(args: argparse.Namespace) -> int:
    totals = Totals()
    started = time.monotonic()

    async def progress() -> None:
        while True:
            await asyncio.sleep(1)
            print(totals.line(time.monotonic() - started), file=sys.stderr)

    ticker = asyncio.create_task(progress())
    try:
        await (via_ws if args.via == "ws" else via_http)(args, totals)
    finally:
        ticker.cancel()
    elapsed = time.monotonic() - started
    print(totals.line(elapsed), file=sys.stderr)
    print(
        f"replayed {totals.sent:,} events in {elapsed:.1f} s ({totals.sent / max(elapsed, 1e-9):,.0f}/s) "
        f"into stream {args.stream}: accepted {totals.accepted:,}, duplicates {totals.duplicates:,}, "
        f"rejected {totals.rejected:,}, refused {totals.refused:,}"
    )
    for reason, n in sorted(totals.reasons.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  {n:>6} x {reason}", file=sys.stderr)
    return 1 if totals.rejected or totals.refused else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("log", type=Path, help="NDJSON event log ('-' for stdin)")
    p.add_argument("--url", default="http://127.0.0.1:8000")
    p.add_argument("--stream", help="the stream to feed")
    p.add_argument("--script", type=Path, help="create a stream from this live script instead of --stream")
    p.add_argument("--token", default=os.environ.get("LIVECOMPANION_INGEST_TOKEN"), help="ingest token")
    p.add_argument("--operator-token", default=os.environ.get("LIVECOMPANION_OPERATOR_TOKEN"))
    p.add_argument("--speed", default="1", help="N times real speed, or 'max'")
    p.add_argument("--via", choices=("http", "ws"), default="http")
    p.add_argument("--batch", type=int, default=500, help="at most this many events a request or message")
    p.add_argument("--window", type=float, default=100, help="events due within this many ms share a batch")
    p.add_argument("--concurrency", type=int, default=2, help="requests in flight (HTTP)")
    ts = p.add_mutually_exclusive_group()
    ts.add_argument(
        "--rebase", dest="rebase", action="store_true", default=True, help="ts = when sent (default)"
    )
    ts.add_argument("--keep-ts", dest="rebase", action="store_false", help="send the recorded ts")
    p.add_argument("--id-prefix", default="", help="prefix every event id (replay the same log again as new)")
    args = p.parse_args(argv)
    if args.speed != "max" and not float(args.speed) > 0:
        p.error("--speed must be above zero or 'max'")
    if not args.token:
        p.error("an ingest token is needed: --token or LIVECOMPANION_INGEST_TOKEN")
    if not 1 <= args.batch <= 10_000:
        p.error("--batch must be from 1 to 10000 (the service's limit per request)")
    if args.stream is None:
        if args.script is None or not args.operator_token:
            p.error("--stream ID, or --script FILE with --operator-token")
        args.stream = create_stream(args)
    args.url = args.url.rstrip("/")
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
