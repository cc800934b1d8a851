"""What each part of the soak costs in memory, one part at a time, two identical waves each (issue 13).

    .venv/bin/python scripts/memory_parts.py [--parts control stalled slowloris viewers fuzz show]
        [--wave 40] [--rest 10] [--viewers 200] [--stalled 25] [--slowloris 100] [--arena-max N]

The soak (scripts/soak.py) saw both instances' resident memory step up ~17 MB in its first ~10 s,
while stalled sockets filled, the first slowloris wave arrived and the fuzzer started at once. Here
each part runs alone against a fresh instance (PostgreSQL + Redis, as the soak), with the soak's
probes as a steady feed (a claim and an ingest POST of 10 comments every 0.2 s) under every part,
`control` being the feed alone. A part runs `--wave` seconds, rests `--rest`, and again (`--waves`
times, 2 by default): a one-time warm-up (lazy imports, bounded caches, allocator arenas) shows in the first wave
and not in the second; a leak shows in both. A part name may join others with "+" (`stalled+show`).

The instance runs under scripts/serve_probed.py: `livecompanion serve` with two signals added
(a diagnostic, never in the service): SIGUSR2 writes one line of figures, SIGRTMIN the same then
glibc `malloc_trim(0)` and the resident memory after it. The figures: resident memory (RSS), Python's
live small-object blocks (`sys.getallocatedblocks`) and its arenas (held, used, free inside),
glibc's bytes in use and free (`mallinfo2`), open fds, asyncio tasks, and with `--trace` the
tracemalloc total (traced from start: slower, and its own tables inflate RSS). Live objects grow
blocks / bytes in use; fragmentation grows RSS and the free room (pymalloc's or glibc's), and
glibc's part of it is given back by the trim.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_probed import ask
from soak_clients import (
    PY,
    ROOT,
    Timings,
    dropped,
    free_port,
    probes,
    reader,
    slowloris,
    stalled_socket,
    wait_up,
)

SERVE = Path(__file__).resolve().parent / "serve_probed.py"


def loadavg() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


counts_tasks: dict[int, list[asyncio.Task[None]]] = {}  # a wave's tasks, kept until it ends


async def part_load(name: str, base: str, port: int, stream_id: str, tokens: dict[str, str], args: argparse.Namespace,
                    work: Path, stop: asyncio.Event, counts: dict[str, int]) -> list[subprocess.Popen[bytes]]:
    """Start one wave of the named parts; tasks stop with `stop`, processes are returned to be ended."""
    procs: list[subprocess.Popen[bytes]] = []
    tasks = counts_tasks.setdefault(id(stop), [])
    ws = base.replace("http://", "ws://") + f"/ws/streams/{stream_id}?token={tokens['viewer']}"
    for part in name.split("+"):
        if part == "viewers":
            for i in range(args.viewers):
                tasks.append(asyncio.create_task(reader(ws, stop, counts)))
                if i % 100 == 99:
                    await asyncio.sleep(0.2)
        elif part == "stalled":
            socks = [s for _ in range(args.stalled)
                     if (s := stalled_socket("127.0.0.1", port, ws.split(str(port), 1)[1])) is not None]

            async def watch(socks: list[object] = socks) -> None:
                await stop.wait()
                counts["stalled_dropped"] += sum(dropped(s) for s in socks)  # type: ignore[arg-type]
                counts["stalled"] += len(socks)
                for s in socks:
                    s.close()  # type: ignore[attr-defined]
            tasks.append(asyncio.create_task(watch()))
        elif part == "slowloris":
            tasks.append(asyncio.create_task(slowloris("127.0.0.1", port, args.slowloris, stop, counts)))
        elif part == "fuzz":
            procs.append(subprocess.Popen(
                [str(Path(PY).parent / "st"), "run", f"{base}/openapi.json", "-H",
                 f"Authorization: Bearer {tokens['operator']}", "--checks", "not_a_server_error", "--max-time",
                 str(int(args.wave)), "--workers", "1", "--suppress-health-check", "all"],
                cwd=work, stdout=(work / "fuzz.log").open("ab"), stderr=subprocess.STDOUT))
        elif part == "show":
            procs.append(subprocess.Popen(
                [PY, "scripts/simulate.py", "drive", "--url", base, "--speed", str(args.speed), "--room",
                 str(args.room), "--operator-token", tokens["operator"], "--ingest-token", tokens["ingest"]],
                cwd=ROOT, stdout=(work / "simulate.log").open("ab"), stderr=subprocess.STDOUT))
        elif part != "control":
            raise SystemExit(f"unknown part {part!r}")
    return procs


async def run_part(name: str, env: dict[str, str], args: argparse.Namespace, work: Path) -> list[tuple[str, dict]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    out = work / f"figures-{name}.jsonl"
    server_env = {**env, "MEMORY_PARTS_OUT": str(out)}
    if args.trace:
        server_env["PYTHONTRACEMALLOC"] = "1"
    if args.arena_max:
        server_env["MALLOC_ARENA_MAX"] = str(args.arena_max)
    server = subprocess.Popen([PY, str(SERVE), "--port", str(port), "--log-level", "warning"], cwd=ROOT,
                              env=server_env, stdout=(work / f"server-{name}.log").open("wb"),
                              stderr=subprocess.STDOUT)
    rows: list[tuple[str, dict]] = []
    try:
        wait_up(base)
        tokens = {r: env[f"LIVECOMPANION_{r.upper()}_TOKEN"] for r in ("operator", "ingest", "viewer")}
        feed_stop = asyncio.Event()
        claims, ingest = Timings(), Timings()
        feed = asyncio.create_task(probes([base, base], tokens, feed_stop, claims, ingest))
        op = {"Authorization": f"Bearer {tokens['operator']}"}
        async with httpx.AsyncClient(timeout=10) as client:
            while not (streams := (await client.get(f"{base}/api/streams", headers=op)).json()):
                await asyncio.sleep(0.2)
        stream_id = streams[0]["id"]
        rows.append(("started", await asyncio.to_thread(ask, server, out, False)))
        await asyncio.sleep(args.warm)
        rows.append(("warm, trimmed", await asyncio.to_thread(ask, server, out, True)))
        counts = {"open": 0, "messages": 0, "reconnects": 0, "loris_opened": 0, "loris_closed": 0,
                  "stalled": 0, "stalled_dropped": 0}
        for wave in range(1, args.waves + 1):
            stop = asyncio.Event()
            started = time.monotonic()
            procs = await part_load(name, base, port, stream_id, tokens, args, work, stop, counts)
            await asyncio.sleep(max(0.0, 10 - (time.monotonic() - started)))
            rows.append((f"wave {wave} +10 s", await asyncio.to_thread(ask, server, out, False)))
            await asyncio.sleep(max(0.0, args.wave - (time.monotonic() - started)))
            rows.append((f"wave {wave} end", await asyncio.to_thread(ask, server, out, False)))
            stop.set()
            await asyncio.gather(*counts_tasks.pop(id(stop), []), return_exceptions=True)
            for proc in procs:
                proc.terminate()
                await asyncio.to_thread(proc.wait, 30)
            await asyncio.sleep(args.rest)
            rows.append((f"wave {wave} rest, trimmed", await asyncio.to_thread(ask, server, out, True)))
        feed_stop.set()
        await asyncio.gather(feed, return_exceptions=True)
        print(f"[{name}] {claims.line('claims')}\n[{name}] {ingest.line('ingest')}\n[{name}] {counts}", flush=True)
    finally:
        server.terminate()
        server.wait(30)
    return rows


def table(name: str, rows: list[tuple[str, dict]]) -> str:
    cols = ("rss", "rss_trimmed", "blocks", "py_arena_mb", "py_used_mb", "py_free_mb", "malloc_used_mb",
            "malloc_free_mb", "traced_mb", "fds", "tasks")
    lines = [f"== {name} ==", f"{'':24}" + "".join(f"{c:>12}" for c in cols)]
    for label, row in rows:
        lines.append(f"{label:24}" + "".join(f"{'' if row.get(c) is None else row[c]:>12}" for c in cols))
    return "\n".join(lines)


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parts", nargs="+", default=["control", "stalled", "slowloris", "viewers", "fuzz", "show"])
    ap.add_argument("--wave", type=float, default=40)
    ap.add_argument("--rest", type=float, default=10)
    ap.add_argument("--waves", type=int, default=2)
    ap.add_argument("--warm", type=float, default=15)
    ap.add_argument("--viewers", type=int, default=200)
    ap.add_argument("--stalled", type=int, default=25)
    ap.add_argument("--slowloris", type=int, default=100)
    ap.add_argument("--room", type=int, default=600)
    ap.add_argument("--speed", type=float, default=20)
    ap.add_argument("--trace", action="store_true", help="tracemalloc from start (PYTHONTRACEMALLOC=1)")
    ap.add_argument("--arena-max", type=int, default=0, help="MALLOC_ARENA_MAX for the instance (0: glibc's)")
    ap.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = ap.parse_args()

    print(f"load average at the start {loadavg()}", flush=True)
    db = f"lc_parts_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(args.postgres)
    await admin.execute(f"CREATE DATABASE {db}")
    await admin.close()
    work = Path(f"/tmp/{db}")
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVECOMPANION_")}
    env.update({f"LIVECOMPANION_{r.upper()}_TOKEN": secrets.token_urlsafe(12)
                for r in ("operator", "ingest", "viewer")})
    env.update({"LIVECOMPANION_DATABASE_URL": args.postgres.rsplit("/", 1)[0].replace(
        "postgresql://", "postgresql+asyncpg://") + f"/{db}", "LIVECOMPANION_REDIS_URL": args.redis,
        "LIVECOMPANION_REDIS_PREFIX": f"{db}:", "LIVECOMPANION_DATA_DIR": str(work / "data"),
        "LIVECOMPANION_WS_PER_ADDRESS": str(args.viewers + args.stalled + 100),
        **{f"LIVECOMPANION_{k}": v for k, v in {  # as the soak: configured shops answer the fuzzer
            "SHOPIFY_SECRET": "m", "DOUDIAN_APP_KEY": "m", "DOUDIAN_APP_SECRET": "m", "YOUZAN_CLIENT_ID": "m",
            "YOUZAN_CLIENT_SECRET": "m", "WECHAT_SHOP_TOKEN": "m", "WECHAT_SHOP_AES_KEY": "a" * 43,
            "WECHAT_SHOP_APPID": "wxm", "SHOP_WEBHOOK_SECRET": "m"}.items()}})
    try:
        for name in args.parts:
            rows = await run_part(name, env, args, work)
            print(table(name, rows) + f"\nload average {loadavg()}\n", flush=True)
    finally:
        admin = await asyncpg.connect(args.postgres)
        await admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        await admin.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
