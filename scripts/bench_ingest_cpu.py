"""An instance's CPU per ingested event on PostgreSQL + Redis, whole path, trees side by side.

    .venv/bin/python scripts/bench_ingest_cpu.py [--trees /work/wt/base .] [--rooms 4] [--seconds 20]
        [--runs 3] [--texts real|fixed] [--no-orders] [--profile sample|cprofile]

For each run and each tree (alternating, so both see the same machine): a fresh PostgreSQL database
and Redis prefix, ONE real server process of that tree (`livecompanion serve` under a wrapper that
reads `time.process_time()` between two signals, and with `--profile` profiles the same window),
`--rooms` rooms each with the example show live and a flash sale open, and the evening's
ingest (`scripts/bench_evening.py`): 500 events/s a room in batches of a tenth of a second (comments
70%, enters 15%, viewer counts 5%, orders created / paid / cancelled 10%), all to this one instance.
`--texts real` draws each comment's text from the 9,422 real comments of
tests/ingest/data/comments_real.jsonl (a real room repeats itself; the evening's script sends one
text); `fixed` sends the evening's one text. No screens are connected (the fan-out is measured by
scripts/bench_fanout_cpu.py).

Measured: the server's CPU over an idle window (no load: timers, scans) and over the load window
(started after a warm-up, closed once the writer is empty and half a second more), and so CPU per
event = (load CPU - idle rate x load wall) / events. With `--profile` the load window is also profiled
(`--profile sample`: each millisecond of the server's CPU charged to the part of the path on the
stack it interrupted, SIGPROF on ITIMER_PROF, ~2% overhead; `cprofile`: cProfile, which multiplied
the CPU by 4 here and inflates call-heavy code such as SQLAlchemy's pool: use its shares with care).
The parts, and the innermost functions, are printed; the raw data stays in
/tmp/bench_ingest_cpu-TREE-RUN.json.stacks (or .pstats). Figures: BENCHMARKS.md, "An ingested
event's CPU, part by part".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
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


# --- the server side (runs in the tree under test, imports only that tree and the stdlib) --------

def serve_probed(port: int, out: str) -> None:
    import cProfile

    state: dict[str, Any] = {}

    stacks: dict[tuple[str, ...], int] = {}

    def sample(_sig: int, frame: Any) -> None:
        # Every millisecond of the process's CPU (ITIMER_PROF counts CPU, not wall time): where the
        # main thread is. A C call is charged to the Python function that made it.
        names = []
        while frame is not None:
            code = frame.f_code
            names.append(f"{code.co_filename}:{code.co_name}")
            frame = frame.f_back
        key = tuple(names)
        stacks[key] = stacks.get(key, 0) + 1

    def start(_sig: int, _frame: object) -> None:
        state["cpu"], state["wall"] = time.process_time(), time.monotonic()
        mode = os.environ.get("BENCH_PROFILE", "")
        if mode == "cprofile":
            profile = cProfile.Profile(time.process_time)  # CPU, not wall: a preempted call is not charged
            state["profile"] = profile
            profile.enable()
        elif mode == "sample":
            stacks.clear()
            signal.setitimer(signal.ITIMER_PROF, 0.001, 0.001)

    def stop(_sig: int, _frame: object) -> None:
        cpu, wall = time.process_time() - state["cpu"], time.monotonic() - state["wall"]
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        profile = state.pop("profile", None)
        if profile is not None:
            profile.disable()
            profile.dump_stats(out + ".pstats")
        if stacks:
            Path(out + ".stacks").write_text(json.dumps([[list(k), n] for k, n in stacks.items()]))
        Path(out).write_text(json.dumps({"cpu": cpu, "wall": wall}))

    signal.signal(signal.SIGPROF, sample)
    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    from livecompanion.cli import app

    sys.argv = ["livecompanion", "serve", "--port", str(port), "--log-level", "warning"]
    app()


# --- the load side -----------------------------------------------------------------------------

def comment_texts() -> list[str]:
    path = ROOT / "tests" / "ingest" / "data" / "comments_real.jsonl"
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def batch(room: int, n: int, seq: int, texts: list[str] | None, rng: random.Random,
          orders: bool = True) -> list[dict[str, Any]]:
    """`bench_evening.events`, with each comment's text drawn from `texts` when given (and enters
    for the orders when `orders` is false)."""
    now = int(time.time() * 1000)
    out: list[dict[str, Any]] = []
    for i in range(n):
        k = seq * n + i
        r = k % 20
        if r < 14:
            text = rng.choice(texts) if texts else "想要 多少錢?"
            out.append({"type": "comment", "id": f"c{k}", "user_id": f"u{k % 900}", "text": text, "ts": now})
        elif r < 17:
            out.append({"type": "enter", "user_id": f"u{k % 900}", "ts": now})
        elif r == 17:
            out.append({"type": "viewer_count", "count": 1000 + k % 50, "ts": now})
        elif not orders:
            out.append({"type": "enter", "user_id": f"u{k % 900}", "ts": now})
        else:
            order = f"R{room}-{k // 2}"
            out.append({"type": "order", "id": f"o{k}", "order_id": order, "sku": "MASK-01", "qty": 1,
                        "amount": "79", "status": "created" if r == 18 else rng.choice(["paid", "cancelled"]),
                        "ts": now, "user_id": f"u{k % 900}"})
    return out


class Server:
    def __init__(self, tree: Path, database_url: str, prefix: str, out: str, profile: str | None) -> None:
        import httpx

        from tests.conftest import REDIS_URL, free_port

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.out = out
        self.tokens = {role: f"{role}-{secrets.token_hex(6)}" for role in ("operator", "ingest", "viewer")}
        self.tmp = tempfile.TemporaryDirectory()
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIVECOMPANION_")}
        env.update({
            "LIVECOMPANION_DATA_DIR": self.tmp.name, "LIVECOMPANION_DATABASE_URL": database_url,
            "LIVECOMPANION_REDIS_URL": REDIS_URL, "LIVECOMPANION_REDIS_PREFIX": prefix,
            "LIVECOMPANION_OPERATOR_TOKEN": self.tokens["operator"],
            "LIVECOMPANION_INGEST_TOKEN": self.tokens["ingest"], "LIVECOMPANION_VIEWER_TOKEN": self.tokens["viewer"],
            "BENCH_PROFILE": profile or "",
        })
        self.log = Path(self.tmp.name) / "server.log"
        self.process = subprocess.Popen(
            [str(tree / ".venv/bin/python"), str(Path(__file__).resolve()), "--serve", str(self.port), out],
            cwd=tree, env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not start in 60 s")

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def window(self, sig: int) -> None:
        self.process.send_signal(sig)

    def result(self) -> dict[str, float]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if Path(self.out).exists():
                try:
                    return dict(json.loads(Path(self.out).read_text()))
                except ValueError:
                    pass
            time.sleep(0.05)
        raise RuntimeError("the server wrote no figures")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.tmp.cleanup()


def setup_room(server: Server, tree: Path) -> str:
    import httpx

    h = server.headers("operator")
    r = httpx.post(f"{server.base}/api/streams", content=(tree / "examples/autumn-hydration.yaml").read_bytes(),
                   headers={**h, "Content-Type": "application/yaml"}, timeout=30)
    r.raise_for_status()
    sid = str(r.json()["id"])
    httpx.post(f"{server.base}/api/streams/{sid}/segments/next", headers=h, timeout=30).raise_for_status()
    httpx.post(f"{server.base}/api/streams/{sid}/flash-sales", headers=h, timeout=30, json={
        "sku": "BENCH-SALE", "price": 79, "stock": 1000, "duration_seconds": 3600}).raise_for_status()
    return sid


async def load(server: Server, rooms: list[str], seconds: float, rate: int, texts: list[str] | None,
               seq0: int, rng: random.Random, orders: bool = True) -> tuple[int, list[float]]:
    """The rooms' ingest for `seconds`; (events sent, acknowledgement times in ms)."""
    import orjson

    from tests.sales import rawhttp

    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    sent = [0]
    acks: list[float] = []

    async def room(i: int, sid: str) -> None:
        per = max(1, rate // 10)
        conns: list[Any] = []
        pending = set()
        seq = seq0
        due = loop.time()

        async def one(raw: bytes) -> None:
            conn = conns.pop() if conns else await rawhttp.connect(server.base)
            started = time.perf_counter()
            status, _head, body = await conn.send(raw)
            acks.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"ingest answered {status}: {body[:200]!r}")
            conns.append(conn)

        while loop.time() < end:
            body = orjson.dumps(batch(i, per, seq, texts, rng, orders))
            raw = rawhttp.request("POST", server.base, f"/api/streams/{sid}/events", server.headers("ingest"), body)
            pending.add(asyncio.create_task(one(raw)))
            sent[0] += per
            seq += 1
            due += 0.1
            await asyncio.sleep(max(0.0, due - loop.time()))
        await asyncio.gather(*pending)
        for conn in conns:
            conn.close()

    await asyncio.gather(*(room(i, sid) for i, sid in enumerate(rooms)))
    return sent[0], acks


async def drained(server: Server) -> None:
    """Until the writer and the after-commit queues are empty (the stats answer a few times)."""
    import httpx

    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(100):
            stats = (await client.get(f"{server.base}/api/ingest/stats", headers=server.headers("operator"))).json()
            if stats["pending_events"] == 0:
                break
            await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # the live recorder and the order mover (their queues are not in the stats)


def one_case(tree: Path, args: argparse.Namespace, texts: list[str] | None, tag: str) -> dict[str, Any]:
    from tests.conftest import PG_HOST, PG_PORT, PG_USER, _pg_admin

    name = f"lc_ingestcpu_{secrets.token_hex(4)}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    out = f"/tmp/bench_ingest_cpu-{tag}.json"
    for stale in (out, out + ".pstats", out + ".stacks"):
        Path(stale).unlink(missing_ok=True)
    server = Server(tree, url, f"lcingestcpu:{secrets.token_hex(4)}:", out, args.profile)
    rng = random.Random(7)
    try:
        rooms = [setup_room(server, tree) for _ in range(args.rooms)]
        asyncio.run(load(server, rooms, args.warmup, args.rate, texts, 0, rng, not args.no_orders))
        time.sleep(1.0)
        server.window(signal.SIGUSR1)  # idle: what the instance costs with no events
        time.sleep(args.idle)
        server.window(signal.SIGUSR2)
        idle = server.result()
        Path(out).unlink()

        async def measured() -> tuple[int, list[float]]:
            server.window(signal.SIGUSR1)
            result = await load(server, rooms, args.seconds, args.rate, texts, 100_000, rng, not args.no_orders)
            await drained(server)
            server.window(signal.SIGUSR2)
            return result

        events, acks = asyncio.run(measured())
        busy = server.result()
    finally:
        server.stop()
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    idle_rate = idle["cpu"] / idle["wall"]
    per_event = (busy["cpu"] - idle_rate * busy["wall"]) / events * 1e6
    acks.sort()
    return {"tree": str(tree), "events": events, "cpu_s": busy["cpu"], "wall_s": busy["wall"],
            "idle_pct": idle_rate * 100, "us_per_event": per_event,
            "ack_p50": acks[len(acks) // 2], "ack_p99": acks[min(len(acks) - 1, int(0.99 * len(acks)))],
            "profile": out + (".pstats" if args.profile == "cprofile" else ".stacks") if args.profile else None}


def show_profile(path: str, limit: int) -> None:
    import pstats

    stats = pstats.Stats(path)
    stats.sort_stats("cumulative").print_stats(limit)
    stats.sort_stats("tottime").print_stats(limit)


# The parts of an ingested event's path, by the first of these functions found on a sampled stack
# (innermost first): each sample is charged to one part.
PARTS = (
    ("comment understanding", ("triage.py:handle",)),
    ("live numbers: rest of record", ("live.py:record",)),
    ("live numbers: publish", ("live.py:_publish",)),
    ("alerts on commit", ("alerts/service.py:on_commit",)),
    ("lotteries (comment listener)", ("lottery/service.py:on_comments",)),
    ("order step (flash sales)", ("sales/service.py:on_orders",)),
    ("after-commit: rest", ("service.py:_after_commit", "service.py:_record_one", "service.py:_record_live",
                            "service.py:_move_orders")),
    ("rows: parse_event (orders)", ("rows.py:record_of", "models.py:parse_event")),
    ("rows: plain checks + JSON", ("rows.py:records_of_values",)),
    ("body decode", ("batch.py:decode_body",)),
    ("ingest: rest of the request", ("service.py:ingest_values", "service.py:ingest_body")),
    ("the INSERT (COPY, commit)", ("store_pg.py:write",)),
    ("writer: rest", ("writer.py:",)),
    ("HTTP: FastAPI + middleware", ("fastapi/", "starlette/", "api/guards.py", "api/idempotency.py")),
    ("HTTP: uvicorn", ("uvicorn/protocols/",)),
    ("realtime hub", ("realtime/",)),
    ("flash-sale drainer / board", ("sales/",)),
    ("redis-py (other)", ("redis/",)),
    ("PostgreSQL client (other)", ("asyncpg/", "sqlalchemy/")),
)


def part_of(stack: list[str]) -> str:
    for name, marks in PARTS:  # the list's order decides which part a stack belongs to
        if any(mark in frame for frame in stack for mark in marks):
            return name
    return "event loop, sockets, other"


def show_samples(path: str, limit: int) -> None:
    samples = [(stack, n) for stack, n in json.loads(Path(path).read_text())]
    total = sum(n for _, n in samples)
    parts: dict[str, int] = {}
    leaves: dict[str, int] = {}
    for stack, n in samples:
        part = part_of(stack)
        parts[part] = parts.get(part, 0) + n
        leaf = stack[0].replace(str(ROOT) + "/", "").split("site-packages/")[-1] if stack else "?"
        leaves[leaf] = leaves.get(leaf, 0) + n
    print(f"  {total} samples (1 ms of CPU each)")
    for part, n in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"  {100 * n / total:5.1f}%  {part}")
    print("  innermost functions:")
    for leaf, n in sorted(leaves.items(), key=lambda kv: -kv[1])[:limit]:
        print(f"  {100 * n / total:5.1f}%  {leaf}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--trees", nargs="+", type=Path, default=[ROOT])
    parser.add_argument("--rooms", type=int, default=4)
    parser.add_argument("--rate", type=int, default=500, help="events a second a room")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=4.0)
    parser.add_argument("--idle", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--texts", choices=("real", "fixed"), default="real")
    parser.add_argument("--no-orders", action="store_true", help="enters instead of the orders (their share apart)")
    parser.add_argument("--profile", choices=("sample", "cprofile"),
                        help="sample: where each ms of CPU went (SIGPROF); cprofile: cProfile (inflates calls)")
    parser.add_argument("--show", type=int, default=45, help="functions printed of each profile")
    args = parser.parse_args()
    if args.serve:
        serve_probed(int(args.serve[0]), args.serve[1])
        return
    sys.path.insert(0, str(ROOT))
    texts = comment_texts() if args.texts == "real" else None
    results: dict[str, list[dict[str, Any]]] = {}
    for run in range(args.runs):
        for n, tree in enumerate(args.trees):
            tree = tree.resolve()
            r = one_case(tree, args, texts, f"{n}-{run}")
            results.setdefault(str(tree), []).append(r)
            print(f"run {run + 1} {tree}: {r['events']} events, {r['us_per_event']:.1f} us CPU an event "
                  f"(load {r['cpu_s']:.2f} s CPU over {r['wall_s']:.1f} s, idle {r['idle_pct']:.1f}% of a core), "
                  f"ack p50 / p99 {r['ack_p50']:.1f} / {r['ack_p99']:.1f} ms", flush=True)
            if args.profile == "cprofile":
                show_profile(r["profile"], args.show)
            elif args.profile == "sample":
                show_samples(r["profile"], args.show)
    medians = {tree: statistics.median(r["us_per_event"] for r in rs) for tree, rs in results.items()}
    for tree, median in medians.items():
        print(f"median {tree}: {median:.1f} us CPU an event over {len(results[tree])} runs")
    if len(medians) == 2:
        a, b = medians.values()
        print(f"ratio second / first: {b / a:.2f}")


if __name__ == "__main__":
    main()
