"""An operator action's own path, in process: CPU and round trips of one pin (issue 20, eighth session).

    .venv/bin/python scripts/bench_operator_action.py [--actions 300] [--load-rooms 2] [--rate 500]
        [--baseline-tree /work/wt/base] [--pairs 3] [--profile]

One process holds instance A (the whole app, `create_app` with its lifespan, on PostgreSQL + Redis,
uvloop as `serve` runs it) and instance B's hub (a second `RedisHub`, its own pub/sub link). The
operator's pin goes through A's ASGI app as uvicorn would hand it over (the middlewares, FastAPI's
routing and body model, the service, the record, the hub), and a subscriber on A's hub and one on
B's each wait for the patch. Per action:

  cpu        `time.process_time()` from the POST to the moment both subscribers hold the patch (both
             hubs' receive and decode included: one process plays both instances' receivers)
  wall       `perf_counter()` over the same span
  sql        PostgreSQL round trips, counted at asyncpg (`Connection.execute`, `.prepare`, `.fetchrow`,
             `PreparedStatement.fetch`): BEGIN, statements, COMMIT and the pool's pings
  redis      Redis round trips, counted at redis-py's `send_packed_command` (a pipeline is one)

`idle`: the instance otherwise idle (its timers run), pins one after the other, alternately plain
and keyed (`Idempotency-Key`, as the operator's console sends with every action). `parts`: the CPU
of the POST alone, the service call, the hub's apply, a receiving hub's dispatch of a patch, and a
request no route serves. `load`: the same pins while `--load-rooms` rooms ingest `--rate` events/s
each through the same app (the mix of `bench_evening.py`: comments, enters, viewer counts, orders),
a pin every 0.1 s to the rooms in turn: the wall time then includes waiting behind ingest on the
loop and in PostgreSQL; the pin's own round trips are timed apart (pg, redis) from the rest.

`--baseline-tree DIR` runs the same script under DIR's own .venv (its code) and this tree's,
alternately, `--pairs` times: before and after in one run. Needs PostgreSQL and Redis (the addresses
of tests/conftest.py); each child works in a scratch database it makes and drops.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextvars
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

PG = os.environ.get("LIVECOMPANION_TEST_PG", "postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("LIVECOMPANION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parent.parent

# ---- round-trip counters ------------------------------------------------------------------------

trips: collections.Counter[str] = collections.Counter()
# Set in the action's own task: its round trips are timed (the load's are only counted).
timed_trips: contextvars.ContextVar[list[tuple[str, float]] | None] = contextvars.ContextVar("timed", default=None)
_COMMAND = re.compile(rb"\*\d+\r\n\$\d+\r\n([A-Za-z]+)\r\n")


def _pg_name(sql: str) -> str:
    words = sql.strip().split()
    head = " ".join(words[:2]).upper() if words else ";"
    return head[:30]


def count_round_trips() -> None:
    """Wrap asyncpg's and redis-py's entry points so each round trip adds to `trips`."""
    import asyncpg
    import asyncpg.prepared_stmt
    import redis.asyncio.connection as rconn

    def wrap(cls: Any, name: str, label: Any) -> None:
        original = getattr(cls, name)

        async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            name = label(self, args, kwargs)
            if name is None:  # not a round trip of its own (it goes through a counted method)
                return await original(self, *args, **kwargs)
            name = "pg " + name
            trips[name] += 1
            mine = timed_trips.get()
            if mine is None:
                return await original(self, *args, **kwargs)
            started = time.perf_counter()
            try:
                return await original(self, *args, **kwargs)
            finally:
                mine.append((name, (time.perf_counter() - started) * 1e3))

        setattr(cls, name, counted)

    # The simple-query protocol (BEGIN, COMMIT, ROLLBACK); with arguments `execute` goes to `_execute`,
    # which also serves fetch, fetchrow and fetchval. SQLAlchemy prepares, then runs the statement.
    wrap(asyncpg.Connection, "execute", lambda s, a, k: None if a[1:] or k.get("args") else _pg_name(a[0]))
    wrap(asyncpg.Connection, "_execute", lambda s, a, k: _pg_name(k.get("query", a[0] if a else "?")))
    wrap(asyncpg.Connection, "prepare", lambda s, a, k: "prepare " + _pg_name(a[0]))
    wrap(asyncpg.prepared_stmt.PreparedStatement, "fetch", lambda s, a, k: _pg_name(s._query))

    send = rconn.AbstractConnection.send_packed_command

    async def counted_send(self: Any, command: Any, check_health: bool = True) -> None:
        raw = command if isinstance(command, bytes | str) else b"".join(
            c if isinstance(c, bytes) else bytes(c) for c in command)
        if isinstance(raw, str):
            raw = raw.encode()
        names = [n.decode().upper() for n in _COMMAND.findall(raw)]
        trips["redis " + ("+".join(names) if len(names) < 5 else f"{names[0]}..{len(names)}")] += 1
        await send(self, command, check_health)

    read = rconn.AbstractConnection.read_response

    async def timed_read(self: Any, *args: Any, **kwargs: Any) -> Any:
        mine = timed_trips.get()
        if mine is None:
            return await read(self, *args, **kwargs)
        started = time.perf_counter()
        try:
            return await read(self, *args, **kwargs)
        finally:
            mine.append(("redis reply", (time.perf_counter() - started) * 1e3))

    rconn.AbstractConnection.read_response = timed_read  # type: ignore[method-assign]

    rconn.AbstractConnection.send_packed_command = counted_send  # type: ignore[method-assign]


# ---- the child: one tree's code ---------------------------------------------------------------

def events(room: int, n: int, seq: int) -> bytes:
    now = int(time.time() * 1000)
    out: list[dict[str, Any]] = []
    for i in range(n):
        k = seq * n + i
        r = k % 20
        if r < 14:
            out.append({"type": "comment", "id": f"c{k}", "user_id": f"u{k % 900}", "text": "想要 多少錢?", "ts": now})
        elif r < 17:
            out.append({"type": "enter", "user_id": f"u{k % 900}", "ts": now})
        elif r == 17:
            out.append({"type": "viewer_count", "count": 1000 + k % 50, "ts": now})
        else:
            out.append({"type": "order", "id": f"o{k}", "order_id": f"R{room}-{k // 2}", "sku": "MASK-01", "qty": 1,
                        "amount": "79", "status": "created" if r == 18 else ("paid" if k % 3 else "cancelled"),
                        "ts": now, "user_id": f"u{k % 900}"})
    return orjson.dumps(out)


async def asgi_post(app: Any, path: str, token: str, body: bytes, key: str | None = None) -> tuple[int, bytes]:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode()),
                         (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
             + ([(b"idempotency-key", key.encode())] if key else []),
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never hangs up
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def scratch_db(make: bool, name: str) -> str:
    import asyncpg

    user, _, hostport = PG.partition("@")
    host, _, port = hostport.partition(":")
    conn = await asyncpg.connect(host=host, port=int(port), user=user, database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if make:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"postgresql+asyncpg://{user}@{host}:{port}/{name}"


async def wait_for_mark(feed: Any, mark: str) -> None:
    while True:
        message = await feed.get()
        if message["type"] == "patch" and mark in message.encoded().decode():
            return


async def child(args: argparse.Namespace) -> dict[str, Any]:
    from livecompanion.api.app import create_app
    from livecompanion.config import Settings
    from livecompanion.realtime.redis_hub import RedisHub
    from livecompanion.scripts import check_file
    from livecompanion.storage.migrate import upgrade_async
    from livecompanion.storage.streams import create_stream
    from livecompanion.stream import service

    name = f"lc_bench_action_{secrets.token_hex(4)}"
    url = await scratch_db(True, name)
    prefix = f"benchaction:{secrets.token_hex(4)}:"
    result: dict[str, Any] = {"tree": str(Path(service.__file__).resolve().parents[2])}
    try:
        await upgrade_async(url)
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(database_url=url, redis_url=REDIS_URL, redis_prefix=prefix, data_dir=Path(tmp),
                                operator_token="op-bench", ingest_token="in-bench", viewer_token="vi-bench")
            app = create_app(settings)
            async with app.router.lifespan_context(app):
                services = app.state.services
                script = check_file(ROOT / "examples" / "autumn-hydration.yaml").script
                assert script is not None
                source = (ROOT / "examples" / "autumn-hydration.yaml").read_text()
                rooms = [await create_stream(services.db, script, source) for _ in range(max(1, args.load_rooms))]
                for stream_id in rooms:
                    await service.next_segment(services, stream_id)
                hub_b = RedisHub.from_url(REDIS_URL, prefix=prefix)
                try:
                    result |= await measure(app, services, hub_b, rooms, args)
                finally:
                    await hub_b.close()
    finally:
        await scratch_db(False, name)
    return result


async def measure(app: Any, services: Any, hub_b: Any, rooms: list[str], args: argparse.Namespace) -> dict[str, Any]:
    from livecompanion.stream import service

    out: dict[str, Any] = {}
    feeds: dict[str, tuple[Any, Any]] = {}
    for stream_id in rooms:
        feed_a = services.hub.subscribe(stream_id)
        feed_b = hub_b.subscribe(stream_id)
        await feed_a.__aenter__()
        await feed_b.__aenter__()
        await service.load_state(services, stream_id)
        feeds[stream_id] = (feed_a, feed_b)
    n = 0

    phases: list[dict[str, float]] = []

    async def action(stream_id: str, keyed: bool = False) -> tuple[float, float, collections.Counter[str]]:
        """One pin, with an Idempotency-Key if `keyed` (the console sends one with every action)."""
        nonlocal n
        n += 1
        mark = f"BNCH{n}x"
        feed_a, feed_b = feeds[stream_id]
        before = collections.Counter(trips)
        mine: list[tuple[str, float]] = []
        cpu, wall = time.process_time(), time.perf_counter()
        token = timed_trips.set(mine)
        try:
            status, body = await asgi_post(app, f"/api/streams/{stream_id}/pins", "op-bench",
                                           orjson.dumps({"text": mark}), f"key-{mark}" if keyed else None)
        finally:
            timed_trips.reset(token)
        answered = time.perf_counter()
        await asyncio.gather(wait_for_mark(feed_a, mark), wait_for_mark(feed_b, mark))
        cpu, done = time.process_time() - cpu, time.perf_counter()
        assert status == 200, (status, body)
        phase = {"keyed": float(keyed), "answer": (answered - wall) * 1e3, "after_answer": (done - answered) * 1e3}
        for name, ms in mine:
            key = "redis" if name.startswith("redis") else "pg"
            phase[key] = phase.get(key, 0.0) + ms
        phase["other"] = phase["answer"] - phase.get("pg", 0.0) - phase.get("redis", 0.0)
        phases.append(phase)
        return cpu * 1e6, (done - wall) * 1e3, collections.Counter(trips) - before

    for k in range(20):  # warm: prepared statements, pool connections, first uses
        await action(rooms[0], keyed=k % 2 == 1)
    if args.profile:  # yappi (pip install yappi): CPU time per function, coroutines counted right
        import yappi

        yappi.set_clock_type("cpu")
        yappi.start()
    series: dict[bool, tuple[list[float], list[float], list[collections.Counter[str]]]] = {
        False: ([], [], []), True: ([], [], [])}
    for k in range(2 * args.actions):
        await asyncio.sleep(0.005)
        cpu, wall, count = await action(rooms[0], keyed=k % 2 == 1)
        cpus, walls, counts = series[k % 2 == 1]
        cpus.append(cpu)
        walls.append(wall)
        counts.append(count)
    if args.profile:
        yappi.stop()
        stats = yappi.get_func_stats()
        stats.sort("ttot").print_all(out=sys.stderr, columns={0: ("name", 90), 1: ("ncall", 8), 3: ("ttot", 8),
                                                               2: ("tsub", 8)})
    for keyed, (cpus, walls, counts) in series.items():
        usual, times = collections.Counter(tuple(sorted(c.items())) for c in counts).most_common(1)[0]

        def per_action(kind: str, counts: list[collections.Counter[str]] = counts) -> float:
            return sum(v for c in counts for k, v in c.items() if k.startswith(kind)) / len(counts)

        out["idle keyed" if keyed else "idle"] = {
            "cpu_us": statistics.median(cpus), "wall_ms": statistics.median(walls), "wall_p99_ms": pct(walls, 0.99),
            "round_trips": dict(usual), "usual_share": times / len(counts), "pg_per_action": per_action("pg"),
            "redis_per_action": per_action("redis")}
    out["parts"] = await parts(app, services, hub_b, rooms[0], feeds[rooms[0]], args.actions)
    if args.load_rooms:
        phases.clear()
        out["load"] = await under_load(app, rooms, args, action)
        for keyed in (False, True):
            mine = [p for p in phases if p["keyed"] == keyed]
            names = [k for k in mine[0] if k != "keyed"]
            label = "keyed" if keyed else "plain"
            out["load"][f"{label} p50 ms"] = {k: statistics.median(p.get(k, 0.0) for p in mine) for k in names}
            out["load"][f"{label} p90 ms"] = {k: pct([p.get(k, 0.0) for p in mine], 0.9) for k in names}
    return out


async def parts(app: Any, services: Any, hub_b: Any, stream_id: str, feeds: tuple[Any, Any],
                n: int) -> dict[str, float]:
    """Median CPU (us) of the action's parts, each on its own: the POST until its answer, the
    service function, the hub's apply, one hub's receive of a patch, and a request no route serves."""
    from livecompanion.realtime import set_op
    from livecompanion.stream import service

    async def drain() -> None:
        await asyncio.sleep(0.003)
        for feed in feeds:
            while feed.get_nowait() is not None:
                pass

    async def timed(work: Any) -> float:
        await drain()
        cpu = time.process_time()
        await work()
        return (time.process_time() - cpu) * 1e6

    out: dict[str, list[float]] = collections.defaultdict(list)
    path = f"/api/streams/{stream_id}/pins"
    for k in range(n):
        body = orjson.dumps({"text": f"part {k}"})
        op = [set_op(["pinned"], {"text": f"hub {k}", "nickname": None, "pinned_ms": 1})]
        out["post_answer"].append(await timed(lambda b=body: asgi_post(app, path, "op-bench", b)))
        out["service_pin"].append(await timed(lambda k=k: service.pin(services, stream_id, f"svc {k}")))
        out["hub_apply"].append(await timed(lambda o=op: services.hub.apply(stream_id, o)))
        out["unrouted_404"].append(await timed(lambda: asgi_post(app, "/api/nothing-here", "op-bench", b"{}")))
    await drain()
    raw = orjson.dumps({"type": "patch", "rev": 7, "server_time": 1, "ops": [set_op(["pinned"], {"text": "x" * 40})]})
    channel = hub_b._channel(stream_id).encode()
    cpu = time.process_time()
    for _ in range(n):
        hub_b._dispatch(channel, raw)
    out["dispatch_one"] = [(time.process_time() - cpu) / n * 1e6]
    await drain()
    return {name: statistics.median(values) for name, values in out.items()}


async def under_load(app: Any, rooms: list[str], args: argparse.Namespace, action: Any) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    stop = loop.time() + args.load_seconds
    acks: list[float] = []
    pending: set[asyncio.Task[Any]] = set()

    async def batch(stream_id: str, body: bytes) -> None:
        started = time.perf_counter()
        status, answer = await asgi_post(app, f"/api/streams/{stream_id}/events", "in-bench", body)
        if status != 200:
            raise RuntimeError(f"ingest answered {status}: {answer[:200]!r}")
        acks.append((time.perf_counter() - started) * 1e3)

    async def room(k: int, stream_id: str) -> None:
        per, seq, due = max(1, args.rate // 10), 0, loop.time()
        while loop.time() < stop:
            task = asyncio.create_task(batch(stream_id, events(k, per, seq)))
            pending.add(task)
            task.add_done_callback(pending.discard)
            seq += 1
            due += 0.1
            await asyncio.sleep(max(0.0, due - loop.time()))

    lags: list[float] = []

    async def heartbeat() -> None:  # how late the loop runs a 2 ms timer: its queue of ready work
        while loop.time() < stop:
            due = time.perf_counter() + 0.002
            await asyncio.sleep(0.002)
            lags.append((time.perf_counter() - due) * 1e3)

    loaders = [asyncio.create_task(room(k, s)) for k, s in enumerate(rooms)]
    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(1.0)  # the load settles
    lags.clear()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    walls: dict[bool, list[float]] = {False: [], True: []}
    counts = []
    i = 0
    while loop.time() < stop - 0.5:
        keyed = i % 2 == 1
        _, wall, count = await action(rooms[(i // 2) % len(rooms)], keyed)
        walls[keyed].append(wall)
        counts.append(count)
        i += 1
        await asyncio.sleep(0.1)
    busy = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    await asyncio.gather(*loaders, beat)
    await asyncio.gather(*pending)
    del counts
    return {"loop_lag_p50_ms": statistics.median(lags), "loop_lag_p99_ms": pct(lags, 0.99),
            "loop_lag_max_ms": max(lags), "actions": len(walls[False]), "wall_ms": statistics.median(walls[False]),
            "wall_p99_ms": pct(walls[False], 0.99), "wall_max_ms": max(walls[False]),
            "keyed_wall_ms": statistics.median(walls[True]), "keyed_wall_p99_ms": pct(walls[True], 0.99),
            "ack_ms": statistics.median(acks), "ack_p99_ms": pct(acks, 0.99),
            "process_busy": busy}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ---- the parent: trees alternately --------------------------------------------------------------

def run_child(tree: Path, args: argparse.Namespace) -> dict[str, Any]:
    command = [str(tree / ".venv" / "bin" / "python"), str(Path(__file__).resolve()), "--child",
               "--actions", str(args.actions), "--load-rooms", str(args.load_rooms), "--rate", str(args.rate),
               "--load-seconds", str(args.load_seconds)]
    done = subprocess.run(command, cwd=tree, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"the run of {tree} failed")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def show(label: str, r: dict[str, Any]) -> None:
    for name in ("idle", "idle keyed"):
        idle = r[name]
        trips_text = ", ".join(f"{k} {v}" for k, v in sorted(idle["round_trips"].items()))
        print(f"{label if name == 'idle' else '':9} {name + ':':11} cpu {idle['cpu_us']:5.0f} us, wall "
              f"{idle['wall_ms']:5.2f} ms (p99 {idle['wall_p99_ms']:5.2f}), pg {idle['pg_per_action']:.2f}, redis "
              f"{idle['redis_per_action']:.2f} a pin [{trips_text}] ({idle['usual_share']:.0%} of pins)", flush=True)
    print(f"{'':9} parts (cpu us): " + ", ".join(f"{k} {v:.0f}" for k, v in r["parts"].items()), flush=True)
    load = r.get("load")
    if load:
        print(f"{'':9} load: pin wall p50 / p99 / max {load['wall_ms']:.1f} / {load['wall_p99_ms']:.1f} / "
              f"{load['wall_max_ms']:.1f} ms over {load['actions']}, keyed {load['keyed_wall_ms']:.1f} / "
              f"{load['keyed_wall_p99_ms']:.1f}; ingest ack p50 / p99 {load['ack_ms']:.1f} / "
              f"{load['ack_p99_ms']:.1f} ms; loop lag p50 / p99 / max {load['loop_lag_p50_ms']:.1f} / "
              f"{load['loop_lag_p99_ms']:.1f} / {load['loop_lag_max_ms']:.1f} ms; "
              f"process {load['process_busy']:.0%} of a core", flush=True)
        for which in ("plain p50", "plain p90", "keyed p50", "keyed p90"):
            spent = ", ".join(f"{k} {v:.1f}" for k, v in load[f"{which} ms"].items())
            print(f"{'':9}       {which} (ms): {spent}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, default=300)
    parser.add_argument("--load-rooms", type=int, default=2, help="rooms ingesting during the load phase (0: none)")
    parser.add_argument("--rate", type=int, default=500, help="events/s a room during the load phase")
    parser.add_argument("--load-seconds", type=float, default=15.0)
    parser.add_argument("--baseline-tree", type=Path)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile of the idle actions, to stderr")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child or args.baseline_tree is None:
        count_round_trips()
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run(child(args))
        if args.child:
            print(json.dumps(result))
        else:
            show("this tree", result)
        return
    print(f"load average {os.getloadavg()[0]:.1f} at the start; {args.actions} pins idle, then "
          f"{args.load_rooms} rooms x {args.rate} events/s for {args.load_seconds:g} s", flush=True)
    for _ in range(args.pairs):
        show("baseline", run_child(args.baseline_tree, args))
        show("this tree", run_child(ROOT, args))
    print(f"load average {os.getloadavg()[0]:.1f} at the end", flush=True)


if __name__ == "__main__":
    main()
