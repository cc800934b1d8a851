"""An instance's CPU per published change and per screen message, measured inside the instance.

    .venv/bin/python scripts/bench_fanout_cpu.py [--sockets 50,500] [--changes 200] [--rounds 3]
        [--hub redis,memory] [--baseline-tree /work/wt/base] [--profile DIR] [--perf DIR]

Each case starts one instance of a source tree (its own .venv) as `livecompanion serve` runs it
(`server.uvicorn_config`: uvicorn, websockets-sansio, uvloop) in a process of its own, on SQLite
plus, for `redis`, the real Redis (a key prefix of its own). This script opens `--sockets` viewer
sockets to it (real WebSockets, `websockets` client; each checks that it gets every rev once, in
order) and then publishes `--changes` changes of a stream, a mix as a show's screens get them
(flash-sale stock, live numbers, the ticker, questions: 0.1-1.1 KB a message):

  redis   published by this process through its own RedisHub on the same prefix, as the other
          instance would: the instance measured does Redis pub/sub -> decode -> fan-out -> sends
  memory  applied inside the instance (MemoryHub): apply -> fan-out -> sends

The instance reads `time.process_time()` (all its threads) when told, before the first change and
after every socket got the last one, and, with `--profile`, runs cProfile over the same window
(`--perf`: `perf record` of the instance instead: `perf report -i FILE --sort dso` splits kernel,
interpreter and uvloop).
Printed per tree, hub and socket count: CPU per change, per message sent (= per change / sockets)
and the idle CPU of the same window length (keepalive, timers: subtracted from neither); medians over
`--rounds`, cases interleaved tree by tree so both trees see the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("LIVECOMPANION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def change(i: int) -> list[dict[str, Any]]:
    """The i-th change of the mix: stock, live numbers, ticker, questions in turn."""
    kind = i % 4
    if kind == 0:
        return [{"op": "set", "path": ["flash_sales", "fs-bench", "remaining"], "value": 1000 - i},
                {"op": "set", "path": ["flash_sales", "fs-bench", "claimed"], "value": i}]
    if kind == 1:
        return [{"op": "set", "path": ["metrics"], "value": {
            "viewers": 8000 + i, "comments_per_min": 1200 + i % 50, "orders": i, "gmv": 99 * i,
            "intent": {"想要": 40 + i % 7, "多少錢": 12, "尺寸": 5, "發貨": 3}}}]
    if kind == 2:
        return [{"op": "set", "path": ["ticker"], "value": [
            {"nickname": f"觀眾{i - k}", "sku": "MASK-01", "qty": 1 + k % 2, "amount": 99, "ts": 1765000000000 + i - k}
            for k in range(10)]}]
    return [{"op": "set", "path": ["questions"], "value": [
        {"text": f"這個面膜敏感肌可以用嗎 {k}", "count": 50 - k, "key": f"q{k}", "last": 1765000000000 + i}
        for k in range(10)]}]


# ---- the instance (runs with the tree's own python and code) ------------------------------------

def instance_main(tree: Path, port: int) -> None:
    sys.path.insert(0, str(tree))
    import uvloop

    from livecompanion.config import Settings
    from livecompanion.storage.migrate import upgrade

    settings = Settings(port=port).with_generated_tokens()
    upgrade(settings.resolved_database_url())
    uvloop.run(_instance(settings))


async def _instance(settings: Any) -> None:
    import cProfile

    import uvicorn

    from livecompanion.api.app import create_app
    from livecompanion.server import uvicorn_config

    app = create_app(settings)
    server = uvicorn.Server(uvicorn_config(app, settings, "warning"))
    serving = asyncio.create_task(server.serve())
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    profile: cProfile.Profile | None = None

    def answer(**fields: Any) -> None:
        sys.stdout.write(json.dumps(fields) + "\n")
        sys.stdout.flush()

    while line := (await reader.readline()).decode().split():
        command = line[0]
        if command == "cpu":
            times = os.times()
            answer(cpu=time.process_time(), user=times.user, system=times.system)
        elif command == "profile":
            if profile is None:
                profile = cProfile.Profile(time.process_time)  # CPU, not wall time: the machine is shared
                profile.enable()
                answer(profiling=True)
            else:
                profile.disable()
                profile.dump_stats(line[1])
                profile = None
                answer(profiling=False)
        elif command == "apply":  # memory hub: the changes are made here, as the operator's would be
            from livecompanion.api.deps import services_of

            hub = services_of(app.state).hub
            stream_id, first, n, gap = line[1], int(line[2]), int(line[3]), float(line[4])
            rev = 0
            for i in range(first, first + n):
                rev = await hub.apply(stream_id, change(i))
                await asyncio.sleep(gap)
            answer(rev=rev)
        elif command == "quit":
            break
    server.should_exit = True
    await serving


# ---- the driver -------------------------------------------------------------------------------

class Instance:
    def __init__(self, tree: Path, hub: str, tmp: Path) -> None:
        self.tree = tree
        self.port = _free_port()
        self.prefix = f"lcbench{secrets.token_hex(4)}:"
        self.tokens = {role: f"{role}-{secrets.token_hex(6)}" for role in ("operator", "ingest", "viewer")}
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIVECOMPANION_")}
        env.update({"LIVECOMPANION_DATA_DIR": str(tmp), "PYTHONUNBUFFERED": "1",
                    **{f"LIVECOMPANION_{role.upper()}_TOKEN": t for role, t in self.tokens.items()}})
        if hub == "redis":
            env.update({"LIVECOMPANION_REDIS_URL": REDIS_URL, "LIVECOMPANION_REDIS_PREFIX": self.prefix})
        self.log = (tmp / "instance.log").open("wb")
        self.process = subprocess.Popen(
            [str(tree / ".venv/bin/python"), __file__, "instance", str(tree), str(self.port)],
            cwd=tree, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
        )
        self.base = f"http://127.0.0.1:{self.port}"

    async def ready(self) -> None:
        import httpx

        async with httpx.AsyncClient() as client:
            for _ in range(300):
                if self.process.poll() is not None:
                    raise RuntimeError(f"instance exited: see {self.log.name}")
                try:
                    if (await client.get(f"{self.base}/healthz", timeout=1)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("instance did not start")

    async def ask(self, *words: object) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write((" ".join(map(str, words)) + "\n").encode())
        self.process.stdin.flush()
        line = await asyncio.to_thread(self.process.stdout.readline)
        return dict(json.loads(line))

    def stop(self) -> None:
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(b"quit\n")
            self.process.stdin.flush()
            self.process.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        self.log.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Screens:
    """Viewer sockets; each checks it gets every rev once and in order."""

    def __init__(self) -> None:
        self.sockets: list[Any] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.revs: list[int] = []
        self.snapshots = 0
        self.out_of_order = 0

    async def open(self, url: str, n: int) -> None:
        import orjson
        from websockets.asyncio.client import connect

        async def one() -> None:
            ws = await connect(url, max_queue=None, ping_interval=None)
            index = len(self.sockets)
            self.sockets.append(ws)
            self.revs.append(0)
            first = orjson.loads(await ws.recv())
            assert first["type"] == "snapshot"
            self.revs[index] = first["rev"]
            self.tasks.append(asyncio.create_task(self._read(ws, index)))

        for start in range(0, n, 50):
            await asyncio.gather(*(one() for _ in range(min(50, n - start))))

    async def _read(self, ws: Any, index: int) -> None:
        import orjson

        async for raw in ws:
            message = orjson.loads(raw)
            if message["type"] == "snapshot":
                self.snapshots += 1
            elif message["rev"] != self.revs[index] + 1:
                self.out_of_order += 1
            self.revs[index] = message["rev"]

    async def all_at(self, rev: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while min(self.revs) < rev:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{sum(r < rev for r in self.revs)} sockets short of rev {rev}")
            await asyncio.sleep(0.005)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


async def run_case(tree: Path, hub_kind: str, sockets: int, args: argparse.Namespace, label: str) -> dict[str, Any]:
    import httpx

    from tests.conftest import EXAMPLE_SCRIPT

    with tempfile.TemporaryDirectory() as tmp:
        instance = Instance(tree, hub_kind, Path(tmp))
        publisher = None
        try:
            await instance.ready()
            async with httpx.AsyncClient(base_url=instance.base) as client:
                made = await client.post("/api/streams", content=EXAMPLE_SCRIPT.read_bytes(), headers={
                    "Authorization": f"Bearer {instance.tokens['operator']}", "Content-Type": "application/yaml"})
                made.raise_for_status()
                stream_id = made.json()["id"]
                (await client.get(f"/api/streams/{stream_id}",
                                  headers={"Authorization": f"Bearer {instance.tokens['viewer']}"})).raise_for_status()
            screens = Screens()
            await screens.open(f"ws://127.0.0.1:{instance.port}/ws/streams/{stream_id}?token="
                               f"{instance.tokens['viewer']}", sockets)
            if hub_kind == "redis":
                from livecompanion.realtime.redis_hub import RedisHub

                publisher = RedisHub.from_url(REDIS_URL, prefix=instance.prefix)
            # one warm-up change, then an idle window as long as the measured one will be
            gap = args.gap_ms / 1000
            window = args.changes * gap
            rev = await publish(instance, publisher, stream_id, 0, 1, gap)
            await screens.all_at(rev)
            idle_start = (await instance.ask("cpu"))["cpu"]
            await asyncio.sleep(window)
            idle = (await instance.ask("cpu"))["cpu"] - idle_start
            if args.profile:
                await instance.ask("profile")
            perf = None
            if args.perf:  # the kernel's view of the same window: who spends the instance's CPU
                perf = subprocess.Popen(["perf", "record", "-q", "-p", str(instance.process.pid), "-o",
                                         str(Path(args.perf) / f"{label}-{hub_kind}-{sockets}.data")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                await asyncio.sleep(0.5)
            start = await instance.ask("cpu")
            rev = await publish(instance, publisher, stream_id, 1, args.changes, gap)
            await screens.all_at(rev)
            end = await instance.ask("cpu")
            if perf is not None:
                perf.send_signal(signal.SIGINT)
                perf.wait()
            used = end["cpu"] - start["cpu"]
            system = end["system"] - start["system"]
            if args.profile:
                path = Path(args.profile) / f"{label}-{hub_kind}-{sockets}.prof"
                await instance.ask("profile", path)
            await screens.close()
            return {"cpu_per_change_us": used / args.changes * 1e6,
                    "cpu_per_message_us": used / args.changes / sockets * 1e6,
                    "idle_per_change_us": idle / args.changes * 1e6,
                    "system_share": system / used if used else 0.0,
                    "snapshots": screens.snapshots, "out_of_order": screens.out_of_order}
        finally:
            if publisher is not None:
                keys = [k async for k in publisher.redis.scan_iter(match=instance.prefix + "*")]  # type: ignore[union-attr]
                if keys:
                    await publisher.redis.delete(*keys)  # type: ignore[union-attr]
                await publisher.close()
            instance.stop()


async def publish(instance: Instance, publisher: Any, stream_id: str, first: int, n: int, gap: float) -> int:
    if publisher is None:
        return int((await instance.ask("apply", stream_id, first, n, gap))["rev"])
    rev = 0
    for i in range(first, first + n):
        rev = await publisher.apply(stream_id, change(i))
        await asyncio.sleep(gap)
    return int(rev)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", default="50,500")
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=40.0, help="between two changes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hub", default="redis,memory")
    parser.add_argument("--baseline-tree", type=Path, default=None)
    parser.add_argument("--profile", default=None, help="directory for cProfile dumps of each case")
    parser.add_argument("--perf", default=None, help="directory for `perf record` data of each case's window")
    args = parser.parse_args()
    for directory in (args.profile, args.perf):
        if directory:
            Path(directory).mkdir(parents=True, exist_ok=True)
    trees = ([("baseline", args.baseline_tree.resolve())] if args.baseline_tree else []) + [("this tree", ROOT)]
    results: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    print(f"load average at start: {os.getloadavg()}", flush=True)
    for round_no in range(args.rounds):
        for hub_kind in args.hub.split(","):
            for sockets in (int(s) for s in args.sockets.split(",")):
                for label, tree in trees:
                    got = await run_case(tree, hub_kind, sockets, args, label.replace(" ", "_"))
                    results.setdefault((label, hub_kind, sockets), []).append(got)
                    print(f"round {round_no + 1} {label:9} {hub_kind:6} {sockets:4} sockets: "
                          f"{got['cpu_per_change_us']:8.0f} us a change, {got['cpu_per_message_us']:6.2f} us a "
                          f"message ({got['system_share']:.0%} in the kernel), idle "
                          f"{got['idle_per_change_us']:5.0f} us a change's time, snapshots {got['snapshots']}, "
                          f"out of order {got['out_of_order']}", flush=True)
    print(f"load average at end: {os.getloadavg()}")
    print("\nmedians: tree, hub, sockets, us a change, us a message (ratio to the baseline's)")
    for (label, hub_kind, sockets), runs in results.items():
        change_us = statistics.median(r["cpu_per_change_us"] for r in runs)
        message_us = statistics.median(r["cpu_per_message_us"] for r in runs)
        base = results.get(("baseline", hub_kind, sockets))
        ratio = ""
        if base and label != "baseline":
            ratio = f"  ({message_us / statistics.median(r['cpu_per_message_us'] for r in base):.2f}x)"
        print(f"  {label:9} {hub_kind:6} {sockets:4}  {change_us:8.0f}  {message_us:6.2f}{ratio}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "instance":
        instance_main(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.path.insert(0, str(ROOT))
        try:
            import uvloop

            uvloop.run(main())
        except ImportError:
            asyncio.run(main())
