"""What the multi-room wall costs: one socket per room (`WS /ws/streams/{id}`, as web/static/wall.js).

    .venv/bin/python scripts/bench_wall.py [--rooms 10] [--walls 3] [--rate 50] [--seconds 20] [--rounds 2]

One real server process (`python -m livecompanion serve`, SQLite, in-memory hub: the sends to the
wall's sockets are local to the instance serving the wall either way). `--rooms` rooms go live; each
gets `--rate` events a second (comments 70%, enters 15%, viewer counts 5%, paid orders 10%) in
batches every 0.1 s, and a running flash sale with 2 claims a second. Phases of `--seconds` each,
alternating `--rounds` times in one run:

  baseline  the same load, no wall connected
  walls     the same load with `--walls` walls connected (walls x rooms sockets)

Printed: the server's CPU (user + system from /proc, percent of one core) per phase, and the
difference per wall; the same per 1000 events taken (the load generator shares the machine and its
rate moves between phases, so this is the steadier figure); per wall: messages and bytes a second,
snapshot bytes a room, and the share of messages (and of their bytes) that change a section the
wall shows (stream, segment, metrics, flash_sales, alerts): what a fan-in wall socket (the design
not taken) could have saved in sends; server RSS before and after the walls connect. The load
average is printed: the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import EXAMPLE_SCRIPT, ServerProcess, start_server  # noqa: E402

WALL_SECTIONS = {"stream", "segment", "metrics", "flash_sales", "alerts"}


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Load:
    """Events and claims into every room, until stopped."""

    def __init__(self, server: ServerProcess, rooms: list[str], sales: dict[str, str], rate: int) -> None:
        self.server, self.rooms, self.sales, self.rate = server, rooms, sales, rate
        self.stop = asyncio.Event()
        self.seq = 0
        self.late = 0
        self.sent = 0  # events posted (all rooms)

    def batch(self, room: str, n: int) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for _ in range(n):
            self.seq += 1
            r = random.random()
            user = f"u{random.randrange(20000)}"
            if r < 0.70:
                text = random.choice(["想要", "多少錢", "扣1", "好看"])
                events.append({"type": "comment", "user_id": user, "text": text})
            elif r < 0.85:
                events.append({"type": "enter", "user_id": user})
            elif r < 0.90:
                events.append({"type": "viewer_count", "count": random.randrange(5000, 50000)})
            else:
                events.append({"type": "order", "user_id": user, "order_id": f"o{self.seq}", "sku": "MASK-01",
                               "qty": 1, "amount": 99, "status": "paid"})
        return events

    async def run(self) -> None:
        headers = self.server.headers("ingest")
        async with httpx.AsyncClient(base_url=self.server.base_url, headers=headers, timeout=30) as client:
            tick, claims = 0, 0
            while not self.stop.is_set():
                started = time.monotonic()
                per = max(1, self.rate // 10)
                await asyncio.gather(*(client.post(f"/api/streams/{room}/events", json=self.batch(room, per))
                                       for room in self.rooms))
                self.sent += per * len(self.rooms)
                if tick % 5 == 0:  # 2 claims a second a room
                    claims += 1
                    await asyncio.gather(*(client.post(f"/api/streams/{room}/flash-sales/{sale}/claims",
                                                       json={"user_id": f"c{claims}"})
                                           for room, sale in self.sales.items()))
                tick += 1
                spare = 0.1 - (time.monotonic() - started)
                if spare > 0:
                    await asyncio.sleep(spare)
                else:
                    self.late += 1


class WallSockets:
    """One wall: a socket per room, counting what arrives."""

    def __init__(self, server: ServerProcess, rooms: list[str]) -> None:
        self.server, self.rooms = server, rooms
        self.messages = self.bytes = self.relevant = self.relevant_bytes = 0
        self.snapshot_bytes: list[int] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.ready = 0

    async def one(self, room: str) -> None:
        url = f"{self.server.ws_url}/ws/streams/{room}?token={self.server.tokens['viewer']}"
        async with connect(url, max_size=None, compression=None) as ws:
            async for text in ws:
                message = orjson.loads(text)
                if message["type"] == "snapshot":
                    self.snapshot_bytes.append(len(text))
                    self.ready += 1
                    continue
                self.messages += 1
                self.bytes += len(text)
                wall_ops = [op for op in message.get("ops", ()) if op["path"][0] in WALL_SECTIONS]
                if wall_ops:
                    self.relevant += 1
                    self.relevant_bytes += len(orjson.dumps(wall_ops))

    def start(self) -> None:
        self.tasks = [asyncio.create_task(self.one(room)) for room in self.rooms]

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def phase(server: ServerProcess, load: Load, seconds: float, walls: list[WallSockets]) -> dict[str, float]:
    for wall in walls:
        wall.messages = wall.bytes = wall.relevant = wall.relevant_bytes = 0
    cpu0, t0, sent0 = cpu_s(server.process.pid), time.monotonic(), load.sent
    await asyncio.sleep(seconds)
    cpu1, t1 = cpu_s(server.process.pid), time.monotonic()
    out = {"cpu_pct": 100 * (cpu1 - cpu0) / (t1 - t0), "events_per_s": (load.sent - sent0) / (t1 - t0),
           "cpu_ms_per_1000": 1e6 * (cpu1 - cpu0) / max(1, load.sent - sent0)}
    if walls:
        out["msgs_per_s"] = statistics.mean(w.messages for w in walls) / (t1 - t0)
        out["kb_per_s"] = statistics.mean(w.bytes for w in walls) / (t1 - t0) / 1024
        out["relevant_share"] = sum(w.relevant for w in walls) / max(1, sum(w.messages for w in walls))
        out["relevant_bytes"] = sum(w.relevant_bytes for w in walls) / max(1, sum(w.bytes for w in walls))
    return out


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-wall-"))
    server = start_server(tmp)
    op = server.headers("operator")
    try:
        rooms, sales = [], {}
        async with httpx.AsyncClient(base_url=server.base_url, headers=op, timeout=30) as client:
            for _ in range(args.rooms):
                created = await client.post("/api/streams", content=EXAMPLE_SCRIPT.read_bytes(),
                                            headers={"Content-Type": "application/yaml"})
                room = created.json()["id"]
                rooms.append(room)
                await client.post(f"/api/streams/{room}/segments/next")
                sale = await client.post(f"/api/streams/{room}/flash-sales", json={
                    "sku": "MASK-01", "price": 79, "stock": 100000, "duration_seconds": 3600})
                sales[room] = sale.json()["id"]
        load = Load(server, rooms, sales, args.rate)
        loader = asyncio.create_task(load.run())
        await asyncio.sleep(3)  # warm up
        print(f"load average at start: {os.getloadavg()[0]:.1f}; {args.rooms} rooms, {args.rate} events/s a room, "
              f"{args.walls} walls ({args.walls * args.rooms} sockets), {args.seconds:.0f} s a phase", flush=True)
        results: dict[str, list[dict[str, float]]] = {"baseline": [], "walls": []}
        rss = []
        for _ in range(args.rounds):
            results["baseline"].append(await phase(server, load, args.seconds, []))
            before = rss_kb(server.process.pid)
            walls = [WallSockets(server, rooms) for _ in range(args.walls)]
            for wall in walls:
                wall.start()
            while sum(w.ready for w in walls) < args.walls * args.rooms:
                await asyncio.sleep(0.05)
            rss.append((rss_kb(server.process.pid) - before) / args.walls)
            results["walls"].append(await phase(server, load, args.seconds, walls))
            snapshot = statistics.median(b for w in walls for b in w.snapshot_bytes)
            for wall in walls:
                await wall.close()
        load.stop.set()
        await loader
        base = [r["cpu_pct"] for r in results["baseline"]]
        with_walls = [r["cpu_pct"] for r in results["walls"]]
        rate = statistics.median(r["events_per_s"] for rs in results.values() for r in rs)
        print(f"events taken: {rate:.0f}/s in all (median of the phases)")
        print(f"server CPU, baseline (no wall): {', '.join(f'{v:.1f}%' for v in base)} of one core")
        print(f"server CPU, {args.walls} walls:          {', '.join(f'{v:.1f}%' for v in with_walls)}")
        per_wall = (statistics.median(with_walls) - statistics.median(base)) / args.walls
        print(f"  per wall (median difference / walls): {per_wall:.2f}% of one core")
        base_k = [r["cpu_ms_per_1000"] for r in results["baseline"]]
        walls_k = [r["cpu_ms_per_1000"] for r in results["walls"]]
        print(f"server CPU per 1000 events taken (the load generator shares the machine, so the rate moves): "
              f"baseline {', '.join(f'{v:.0f}' for v in base_k)} ms; {args.walls} walls "
              f"{', '.join(f'{v:.0f}' for v in walls_k)} ms; ratio of medians "
              f"{statistics.median(walls_k) / statistics.median(base_k):.3f}")
        w = results["walls"]
        print(f"per wall: {statistics.median(r['msgs_per_s'] for r in w):.1f} messages/s, "
              f"{statistics.median(r['kb_per_s'] for r in w):.1f} KB/s; snapshot {snapshot / 1024:.1f} KB a room; "
              f"{100 * statistics.median(r['relevant_share'] for r in w):.0f}% of the messages touch a section "
              "the wall shows, "
              f"{100 * statistics.median(r['relevant_bytes'] for r in w):.0f}% of the bytes")
        print(f"server RSS per wall ({args.rooms} sockets): {', '.join(f'{v / 1024:.2f} MB' for v in rss)}")
        print(f"load batches late (the load generator could not keep 10 a second): {load.late}; "
              f"load average at end: {os.getloadavg()[0]:.1f}")
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--walls", type=int, default=3)
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    asyncio.run(main(parser.parse_args()))
