"""Fan-out benchmark: operator action (HTTP POST) -> every connected screen (WebSocket).

    .venv/bin/python scripts/bench_fanout.py [--screens 200] [--trials 200] [--idle 500] [--skip-two]

Runs real server processes (`python -m livecompanion serve`):
  one instance   SQLite file, in-memory hub; all screens on it
  two instances  PostgreSQL + Redis; the operator posts to A, half the screens watch A and half B
Baseline, measured in the same run: one WebSocket message sent to one socket by a bare `websockets`
server (one-way, send -> receive, on the machine's monotonic clock). Latency of a screen = time from
just before the POST is sent until that screen has received and decoded the patch. The screens run
in this process (on uvloop when installed), so their own decoding is in the figures. Other work on
the machine shows directly in p99: the load average at the start is printed with the results.
Memory: RSS of the one-instance server before and after --idle idle screens connect, per socket.
Needs PostgreSQL and Redis for the two-instance part (see tests/conftest.py for the addresses).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
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

from tests.conftest import (  # noqa: E402
    EXAMPLE_SCRIPT,
    PG_HOST,
    PG_PORT,
    PG_USER,
    REDIS_URL,
    ServerProcess,
    free_port,
    start_server,
)

# The same app as `livecompanion serve`, but with per-message compression off in uvicorn: each
# compressed socket keeps zlib state of its own (~45 KB), which idle screens do not need.
NO_DEFLATE_SERVER = r"""
import sys, uvicorn
from livecompanion.config import Settings
from livecompanion.storage.migrate import upgrade
from livecompanion.api.app import create_app
settings = Settings(port=int(sys.argv[1])).with_generated_tokens()
upgrade(settings.resolved_database_url())
uvicorn.run(create_app(settings), host="127.0.0.1", port=settings.port, log_level="warning",
            ws_ping_interval=20, ws_ping_timeout=20, ws_per_message_deflate=False)
"""


def start_no_deflate(tmp: Path) -> ServerProcess:
    port = free_port()
    tokens = {role: f"{role}-{secrets.token_hex(6)}" for role in ("operator", "ingest", "viewer")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVECOMPANION_")}
    env.update({"LIVECOMPANION_DATA_DIR": str(tmp / "data"), "LIVECOMPANION_OPERATOR_TOKEN": tokens["operator"],
                "LIVECOMPANION_INGEST_TOKEN": tokens["ingest"], "LIVECOMPANION_VIEWER_TOKEN": tokens["viewer"]})
    log = tmp / "server.log"
    process = subprocess.Popen([sys.executable, "-c", NO_DEFLATE_SERVER, str(port)], cwd=ROOT, env=env,
                               stdout=log.open("wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return ServerProcess(base, tokens, process, log)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(log.read_text())


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(name: str, ms: list[float]) -> dict[str, Any]:
    return {"name": name, "n": len(ms), "p50_ms": round(pct(ms, 50), 3), "p99_ms": round(pct(ms, 99), 3),
            "max_ms": round(max(ms), 3), "mean_ms": round(statistics.fmean(ms), 3)}


def cpu_ms(pid: int) -> float:
    """User + system CPU time of a process so far (steadier than wall time on a busy machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


# ---- baseline: a bare websockets server sends one message to one socket --------------------------

BARE_SERVER = r"""
import asyncio, sys, time
from websockets.asyncio.server import serve

async def handler(ws):
    async for _ in ws:
        await ws.send(repr(time.perf_counter()))

async def main():
    async with serve(handler, "127.0.0.1", 0) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()

asyncio.run(main())
"""


async def baseline(trials: int) -> list[float]:
    proc = subprocess.Popen([sys.executable, "-c", BARE_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())  # type: ignore[union-attr]
        latencies = []
        async with connect(f"ws://127.0.0.1:{port}") as ws:
            for _ in range(trials):
                await ws.send("go")
                sent = float(await ws.recv())
                latencies.append((time.perf_counter() - sent) * 1000)
                await asyncio.sleep(0.01)
        return latencies
    finally:
        proc.terminate()
        proc.wait()


# ---- the service ------------------------------------------------------------------------------------

def create_stream(server: ServerProcess) -> str:
    response = httpx.post(f"{server.base_url}/api/streams", content=EXAMPLE_SCRIPT.read_bytes(),
                          headers={**server.headers("operator"), "Content-Type": "application/yaml"})
    response.raise_for_status()
    stream_id = response.json()["id"]
    httpx.get(f"{server.base_url}/api/streams/{stream_id}", headers=server.headers("viewer")).raise_for_status()
    return stream_id


class Screens:
    """N viewer sockets; each records when it saw the pin with a given text."""

    def __init__(self) -> None:
        self.sockets: list[Any] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.seen: dict[str, list[float]] = {}
        self.expected = 0

    async def open(self, server: ServerProcess, stream_id: str, n: int) -> None:
        url = f"{server.ws_url}/ws/streams/{stream_id}?token={server.tokens['viewer']}"
        for _ in range(n):
            ws = await connect(url, max_queue=None, ping_interval=None)
            snapshot = orjson.loads(await ws.recv())
            assert snapshot["type"] == "snapshot"
            self.sockets.append(ws)
            self.tasks.append(asyncio.create_task(self._read(ws)))
        self.expected += n

    async def _read(self, ws: Any) -> None:
        async for raw in ws:
            message = orjson.loads(raw)
            now = time.perf_counter()
            if message["type"] != "patch":
                continue
            for op in message["ops"]:
                if op["path"] == ["pinned"] and op.get("value"):
                    self.seen.setdefault(op["value"]["text"], []).append(now)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


async def fanout(
    operator: ServerProcess, stream_id: str, screens: Screens, trials: int
) -> tuple[list[float], list[float]]:
    """(latency of every screen, latency of the last screen) per operator action, in ms."""
    every, last = [], []
    async with httpx.AsyncClient(base_url=operator.base_url, headers=operator.headers("operator")) as client:
        await client.post(f"/api/streams/{stream_id}/pins", json={"text": "warm-up"})
        await asyncio.sleep(0.3)
        for i in range(trials):
            text = f"bench {i} {secrets.token_hex(3)}"
            start = time.perf_counter()
            response = await client.post(f"/api/streams/{stream_id}/pins", json={"text": text})
            response.raise_for_status()
            deadline = time.monotonic() + 5
            while len(screens.seen.get(text, ())) < screens.expected:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {len(screens.seen.get(text, ()))} of {screens.expected} screens got it")
                await asyncio.sleep(0.001)
            times = [(t - start) * 1000 for t in screens.seen.pop(text)]
            every += times
            last.append(max(times))
            await asyncio.sleep(0.03)
    return every, last


async def idle_memory(server: ServerProcess, stream_id: str, n: int) -> dict[str, Any]:
    pid = server.process.pid
    await asyncio.sleep(0.5)
    before = rss_kb(pid)
    screens = Screens()
    await screens.open(server, stream_id, n)
    await asyncio.sleep(1.5)
    after = rss_kb(pid)
    await screens.close()
    return {"idle_sockets": n, "rss_before_kb": before, "rss_after_kb": after,
            "per_socket_kb": round((after - before) / n, 2)}


async def one_instance(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    (tmp / "one").mkdir()
    server = start_server(tmp / "one") if args.ws_deflate else start_no_deflate(tmp / "one")
    try:
        stream_id = create_stream(server)
        memory = await idle_memory(server, stream_id, args.idle)
        screens = Screens()
        await screens.open(server, stream_id, args.screens)
        single = Screens()  # the same pipeline to one screen, for comparison
        cpu_before = cpu_ms(server.process.pid)
        every, last = await fanout(server, stream_id, screens, args.trials)
        cpu_per_action = (cpu_ms(server.process.pid) - cpu_before) / (args.trials + 1)
        await screens.close()
        await single.open(server, stream_id, 1)
        one, _ = await fanout(server, stream_id, single, args.trials)
        await single.close()
        return {"fanout": summary(f"1 instance, {args.screens} screens", every),
                "server_cpu_ms_per_action": round(cpu_per_action, 2),
                "last_screen": summary("slowest screen per action", last),
                "one_screen": summary("1 instance, 1 screen", one), "memory": memory}
    finally:
        server.stop()


async def two_instances(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    import asyncpg

    name = f"lc_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    tokens = {role: f"{role}-{secrets.token_hex(6)}" for role in ("operator", "ingest", "viewer")}
    servers: list[ServerProcess] = []
    try:
        for label in ("a", "b"):
            (tmp / label).mkdir()
            servers.append(start_server(tmp / label, database_url=url, redis_url=REDIS_URL, tokens=tokens))
        a, b = servers
        stream_id = create_stream(a)
        screens = Screens()
        half = args.screens // 2
        await screens.open(a, stream_id, half)
        await screens.open(b, stream_id, args.screens - half)
        cpu_before = [cpu_ms(s.process.pid) for s in servers]
        every, last = await fanout(a, stream_id, screens, args.trials)
        cpu = [(cpu_ms(s.process.pid) - c) / (args.trials + 1) for s, c in zip(servers, cpu_before)]
        await screens.close()
        from livecompanion.realtime import make_hub

        hub = make_hub(REDIS_URL)
        await hub.drop(stream_id)
        await hub.close()
        return {"fanout": summary(f"2 instances over Redis, {args.screens} screens (half on each)", every),
                "server_cpu_ms_per_action": {"a (operator + screens)": round(cpu[0], 2),
                                             "b (screens)": round(cpu[1], 2)},
                "last_screen": summary("slowest screen per action", last)}
    finally:
        for server in servers:
            server.stop()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screens", type=int, default=200)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--idle", type=int, default=500, help="idle sockets for the memory figure")
    parser.add_argument("--skip-two", action="store_true", help="skip the PostgreSQL + Redis part")
    parser.add_argument("--no-ws-deflate", dest="ws_deflate", action="store_false",
                        help="one instance: run the app with uvicorn's per-message deflate off")
    args = parser.parse_args()
    results: dict[str, Any] = {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                               "ws_per_message_deflate": args.ws_deflate,
                               "client_loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
                               "load_average_at_start": os.getloadavg()}
    results["baseline"] = summary("bare websockets: one message to one socket", await baseline(args.trials))
    with tempfile.TemporaryDirectory() as tmp:
        results["one_instance"] = await one_instance(args, Path(tmp))
        if not args.skip_two:
            results["two_instances"] = await two_instances(args, Path(tmp))
    base = results["baseline"]["p50_ms"]
    for key in ("one_instance", "two_instances"):
        if key in results:
            results[key]["p99_over_baseline_p50"] = round(results[key]["fanout"]["p99_ms"] / base, 1)
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    try:  # the screens' own decoding is part of the figures: keep it as cheap as the server's loop
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
