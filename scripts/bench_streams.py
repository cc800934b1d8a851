"""Memory of one server process across hundreds of short streams, and what each leaves in Redis (issue 20).

    .venv/bin/python scripts/bench_streams.py [--streams 400] [--at-once 4] [--end-release 1] [--trace]

One `livecompanion serve` on a fresh PostgreSQL database and its own Redis prefix, started with
LIVECOMPANION_END_RELEASE_SECONDS=--end-release (what the process holds of an ended stream goes
that long after its End; 120 s in service, lowered here so that 400 streams take minutes, not
hours). Each stream plays a short show over HTTP, as a show would: created from
examples/autumn-hydration.yaml, 開播 (segments/next), a viewer socket open on it throughout, a
flash sale (stock 50) with 20 claims, a lottery on 想要, 120 audience events (enters, comments and
questions, viewer counts, 10 paid orders, one cancelled), End; every `--report-every`th stream
(20) also has its report read (a report computes every earlier stream's report afresh for the
history figures: its cost grows with the streams before it, so not every stream's).
`--at-once` streams play at the same time.

After 10 (warm-up), 100, 200, 300 and 400 streams, once the ended streams' release is due, the
process's figures (scripts/serve_probed.py, a diagnostic: resident memory, Python's live
blocks, glibc's bytes in use; the last line also after malloc_trim). Then every key left under the
prefix, grouped by shape (a stream's id as <sid>, a sale's or lottery's as <id>), with how many per
ended stream and their TTLs. With `--trace`, tracemalloc runs from stream 100 on and the growth
between streams 200 and 400 is printed by line (slower: a diagnostic, not a figure).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory_parts import loadavg
from serve_probed import ask  # the diagnostic serve mode's figures
from soak import print_growth, snapshot_of
from soak_clients import EXAMPLE, PY, ROOT, free_port, wait_up


def audience(i: int, now: int) -> list[dict[str, Any]]:
    """120 events of a short show: enters, comments (some questions), viewer counts, orders."""
    events: list[dict[str, Any]] = [{"type": "enter", "user_id": f"u{j}", "nickname": f"觀眾{j}", "ts": now + j}
                                    for j in range(50)]
    texts = ["想要", "多少錢?", "敏感肌可以用嗎?", "扣1", "已拍", "好看"]
    events += [{"type": "comment", "id": f"c{j}", "user_id": f"u{j}", "text": texts[j % len(texts)], "ts": now + 60 + j}
               for j in range(40)]
    events += [{"type": "viewer_count", "id": f"v{j}", "count": 100 + j, "ts": now + 100 + j} for j in range(5)]
    events += [{"type": "order", "id": f"o{j}", "order_id": f"S{i}-{j}", "user_id": f"u{j}", "sku": "MASK-01",
                "qty": 1, "amount": "99", "status": "paid", "ts": now + 120 + j} for j in range(10)]
    events += [{"type": "order", "id": "o-cancel", "order_id": f"S{i}-0", "user_id": "u0", "sku": "MASK-01",
                "qty": 1, "amount": "99", "status": "cancelled", "ts": now + 140}]
    events += [{"type": "leave", "user_id": f"u{j}", "ts": now + 150 + j} for j in range(14)]
    return events


async def watch(url: str, opened: asyncio.Event, stop: asyncio.Event, counts: dict[str, int]) -> None:
    async with connect(url, open_timeout=30, max_size=None) as ws:
        await ws.recv()  # the snapshot
        opened.set()
        while not stop.is_set():
            try:
                await asyncio.wait_for(ws.recv(), 0.2)
                counts["messages"] += 1
            except TimeoutError:
                continue


async def one_stream(i: int, client: httpx.AsyncClient, base: str, tokens: dict[str, str],
                     ids: dict[str, set[str]], counts: dict[str, int], report: bool) -> None:
    op = {"Authorization": f"Bearer {tokens['operator']}"}
    sender = {"Authorization": f"Bearer {tokens['ingest']}"}

    async def ok(method: str, path: str, **kw: Any) -> Any:
        if method == "POST" and kw.get("headers") is op:  # a retry below must not do it twice
            kw["headers"] = {**op, "Idempotency-Key": secrets.token_hex(8)}
        answer = await client.request(method, base + path, **kw)
        # 503 + Retry-After: the report is still being built, or a claim's answer did not come in time
        # (granted or not: sent again with the same order_id, it is answered once); each is asked again.
        for _ in range(60):
            if answer.status_code != 503 or "Retry-After" not in answer.headers:
                break
            await asyncio.sleep(float(answer.headers["Retry-After"]))
            answer = await client.request(method, base + path, **kw)
        if answer.status_code >= 300:
            raise SystemExit(f"stream {i}: {method} {path} answered {answer.status_code}: {answer.text[:300]}")
        return answer.json() if answer.content else None

    sid = (await ok("POST", "/api/streams", content=EXAMPLE.read_bytes(),
                    headers={**op, "Content-Type": "application/yaml"}))["id"]
    ids["stream"].add(sid)
    await ok("POST", f"/api/streams/{sid}/segments/next", headers=op)
    opened, stop = asyncio.Event(), asyncio.Event()
    ws = asyncio.create_task(watch(base.replace("http://", "ws://") + f"/ws/streams/{sid}?token={tokens['viewer']}",
                                   opened, stop, counts))
    await asyncio.wait([asyncio.create_task(opened.wait()), ws], return_when=asyncio.FIRST_COMPLETED)
    sale = (await ok("POST", f"/api/streams/{sid}/flash-sales", headers=op, json={
        "sku": "MASK-01", "price": 99, "stock": 50, "duration_seconds": 600, "per_user_limit": 2}))["id"]
    lottery = (await ok("POST", f"/api/streams/{sid}/lotteries", headers=op, json={
        "keyword": "想要", "winners": 1, "duration_seconds": 600}))["id"]
    ids["other"].update((sale, lottery))
    for j in range(20):
        await ok("POST", f"/api/streams/{sid}/flash-sales/{sale}/claims", headers=sender,
                 json={"user_id": f"u{j}", "order_id": f"S{i}-claim-{j}"})
    now = int(time.time() * 1000)
    events = audience(i, now)
    for start in range(0, len(events), 40):
        await ok("POST", f"/api/streams/{sid}/events", headers=sender, json=events[start:start + 40])
    if report:
        await ok("GET", f"/api/streams/{sid}/report", headers=op)
    await ok("POST", f"/api/streams/{sid}/end", headers=op)
    stop.set()
    await asyncio.gather(ws, return_exceptions=True)
    counts["streams"] += 1


async def redis_left(url: str, prefix: str, ids: dict[str, set[str]], streams: int) -> list[str]:
    client = aioredis.from_url(url)
    shapes: dict[str, list[int]] = defaultdict(list)
    try:
        known = sorted(ids["stream"] | ids["other"], key=len, reverse=True)
        pattern = re.compile("|".join(re.escape(x) for x in known))
        keys = [k async for k in client.scan_iter(match=prefix + "*", count=1000)]
        ttls = []
        for start in range(0, len(keys), 500):
            pipe = client.pipeline(transaction=False)
            for key in keys[start:start + 500]:
                pipe.ttl(key)
            ttls += await pipe.execute()
        for key, ttl in zip(keys, ttls, strict=True):
            shape = pattern.sub(lambda m: "<sid>" if m.group(0) in ids["stream"] else "<id>",
                                key.decode()[len(prefix):])
            shapes[shape].append(int(ttl))
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
    lines = [f"{len(keys)} keys under the prefix after {streams} ended streams "
             f"({len(keys) / max(1, streams):.1f} a stream)"]
    for shape, found in sorted(shapes.items()):
        without = sum(1 for t in found if t < 0)
        hours = sorted(t / 3600 for t in found if t >= 0)
        ttl = f"TTL {hours[0]:.1f}-{hours[-1]:.1f} h" if hours else ""
        lines.append(f"  {shape:42} {len(found):6}  {len(found) / max(1, streams):5.2f}/stream  {ttl}"
                     + (f"  NO TTL: {without}" if without else ""))
    return lines


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--streams", type=int, default=400)
    ap.add_argument("--at-once", type=int, default=4)
    ap.add_argument("--report-every", type=int, default=20, help="read the report of every Nth stream")
    ap.add_argument("--end-release", type=float, default=1.0, help="LIVECOMPANION_END_RELEASE_SECONDS")
    ap.add_argument("--trace", action="store_true", help="tracemalloc from stream 100: growth 200 -> 400 by line")
    ap.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = ap.parse_args()

    load_at_start = loadavg()
    db = f"lc_streams_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(args.postgres)
    await admin.execute(f"CREATE DATABASE {db}")
    await admin.close()
    work = Path(f"/tmp/{db}")
    work.mkdir()
    tokens = {r: secrets.token_urlsafe(12) for r in ("operator", "ingest", "viewer")}
    prefix = f"{db}:"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVECOMPANION_")}
    env.update({f"LIVECOMPANION_{r.upper()}_TOKEN": t for r, t in tokens.items()})
    env.update({"LIVECOMPANION_DATABASE_URL": args.postgres.rsplit("/", 1)[0].replace(
        "postgresql://", "postgresql+asyncpg://") + f"/{db}", "LIVECOMPANION_REDIS_URL": args.redis,
        "LIVECOMPANION_REDIS_PREFIX": prefix, "LIVECOMPANION_DATA_DIR": str(work / "data"),
        "LIVECOMPANION_END_RELEASE_SECONDS": str(args.end_release), "MEMORY_PARTS_OUT": str(work / "figures.jsonl"),
        **({"LIVECOMPANION_MEMORY_SNAPSHOTS": "1"} if args.trace else {})})
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([PY, str(ROOT / "scripts" / "serve_probed.py"), "--port", str(port),
                               "--log-level", "warning"], cwd=ROOT, env=env,
                              stdout=(work / "server.log").open("wb"), stderr=subprocess.STDOUT)
    out = work / "figures.jsonl"
    ids: dict[str, set[str]] = {"stream": set(), "other": set()}
    counts = {"streams": 0, "messages": 0}
    rows: list[tuple[int, dict[str, Any]]] = []
    snapshots: list[Path | None] = []
    started = time.monotonic()
    try:
        wait_up(base)
        rows.append((0, await asyncio.to_thread(ask, server, out, False)))
        async with httpx.AsyncClient(timeout=60) as client:
            done = 0
            for mark in sorted({10, *range(100, args.streams + 1, 100), args.streams}):
                while done < mark:
                    batch = range(done, min(mark, done + args.at_once))
                    await asyncio.gather(*(one_stream(i, client, base, tokens, ids, counts, i % args.report_every == 0)
                                           for i in batch))
                    done = batch[-1] + 1
                await asyncio.sleep(args.end_release + 3)  # the release pass after the last End
                rows.append((done, await asyncio.to_thread(ask, server, out, done == args.streams)))
                r = rows[-1][1]
                print(f"{done:4} streams  {time.monotonic() - started:6.0f} s  rss {r['rss']:6.1f} MB  "
                      f"blocks {r['blocks']:8}  malloc used {r['malloc_used_mb']:6.1f} MB  fds {r['fds']}  "
                      f"tasks {r['tasks']}", flush=True)
                if args.trace and done == 100:
                    server.send_signal(signal.SIGUSR1)  # tracing from here
                elif args.trace and done in (200, args.streams):
                    snapshots.append(await asyncio.to_thread(snapshot_of, server, work / "data", len(snapshots) + 1))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    logs = (work / "server.log").read_text(errors="replace")
    print(f"\n== {counts['streams']} streams in {time.monotonic() - started:.0f} s, {args.at_once} at once; "
          f"viewer messages {counts['messages']}; end release {args.end_release} s ==")
    print(f"{'streams':>8} {'rss MB':>8} {'blocks':>9} {'py arenas MB':>13} {'py used MB':>11} {'py free MB':>11} "
          f"{'malloc used MB':>15} {'malloc free MB':>15} {'fds':>5} {'tasks':>6}")
    for n, r in rows:
        print(f"{n:8} {r['rss']:8.1f} {r['blocks']:9} {r['py_arena_mb']:13.1f} {r['py_used_mb']:11.1f} "
              f"{r['py_free_mb']:11.1f} {r['malloc_used_mb']:15.1f} {r['malloc_free_mb']:15.1f} {r['fds']:5} "
              f"{r['tasks']:6}")
    last = rows[-1][1]
    print(f"after malloc_trim(0) at the end: rss {last.get('rss_trimmed')} MB")
    at100 = next((r for n, r in rows if n == 100), None)
    if at100 is not None:
        print(f"growth 100 -> {rows[-1][0]} streams: rss {last['rss'] - at100['rss']:+.1f} MB, blocks "
              f"{last['blocks'] - at100['blocks']:+}, malloc used "
              f"{last['malloc_used_mb'] - at100['malloc_used_mb']:+.1f} MB, python arenas "
              f"{last['py_arena_mb'] - at100['py_arena_mb']:+.1f} MB "
              f"({(last['rss'] - at100['rss']) * 1024 / max(1, rows[-1][0] - 100):.1f} KB of rss a stream)")
    print(f"server tracebacks: {logs.count('Traceback')}")
    print("\n".join(await redis_left(args.redis, prefix, ids, counts["streams"])))
    admin = await asyncpg.connect(args.postgres)
    await admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    await admin.close()
    print(f"load average at the start {load_at_start}, at the end {loadavg()}")
    if len(snapshots) == 2 and all(snapshots):
        print_growth(snapshots[0], snapshots[1])  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
