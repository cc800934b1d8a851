"""Ingest benchmark on PostgreSQL: sustained events/s from HTTP batches, against asyncpg COPY of the
same rows into a plain table, and the latency of an order reaching a screen while events flow.

    .venv/bin/python scripts/bench_ingest.py [--events 300000] [--clients 16] [--batch 1000] [--runs 5]
        [--rate 5000] [--probes 200] [--redis] [--pg-host 127.0.0.1] [--pg-user postgres]

1. A fresh database and ONE server process (`livecompanion serve`, PostgreSQL, no Redis unless
   `--redis`). The events are a simulated big room (`livecompanion.demo.simulator`, 50,000 viewers:
   impressions, enters, comments, likes, product clicks, orders ...), serialised in batches and
   framed as HTTP requests before the clock starts, so the load generator costs little.
2. Throughput: `--clients` keep-alive connections post the batches as fast as they are answered.
   events/s = events stored / wall time. CPU seconds of the server, PostgreSQL and this script are
   read from /proc, to say what dominates.
3. COPY: the same rows (the columns of `events`) copied with asyncpg `copy_records_to_table` into an
   unindexed table of the same columns, in the same database. Ingest runs (each into a fresh
   stream) and COPY runs alternate, `--runs` of each, each after a checkpoint with no autovacuum
   running; the ratio of each pair is printed, and the medians.
4. Latency while `--rate` events/s flow (a paced background sender): `--probes` times, one at a
   time, (a) a flash-sale claim (`POST .../claims`) until a viewer socket sees the sale's `remaining`
   drop, (b) the `order` event cancelling that claim (`POST .../events`) until the socket sees the
   unit back in `remaining` (order arrival -> stock change, through ingest and flash sales), and
   (c) a paid `order` event until the socket sees `metrics.orders` move. p50 / p99 / max of each.
"""

from __future__ import annotations

import argparse
import asyncio
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from livecompanion.realtime.state import apply_ops  # noqa: E402
from tests.sales import rawhttp  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


# --- processes and CPU ---------------------------------------------------------------------------


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the processes, and of their children that have exited (PostgreSQL's
    autovacuum workers and closed backends come and go: the postmaster collects their time)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        except (OSError, IndexError):
            continue
    return total / TICKS


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip().startswith("postgres"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    database_url: str, redis_url: str | None, tmp: Path
) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    port = free_port()
    tokens = {role: f"{role}-{secrets.token_hex(6)}" for role in ("operator", "ingest", "viewer")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVECOMPANION_")}
    env.update(
        {
            "LIVECOMPANION_DATA_DIR": str(tmp),
            "LIVECOMPANION_DATABASE_URL": database_url,
            "LIVECOMPANION_OPERATOR_TOKEN": tokens["operator"],
            "LIVECOMPANION_INGEST_TOKEN": tokens["ingest"],
            "LIVECOMPANION_VIEWER_TOKEN": tokens["viewer"],
        }
    )
    if redis_url:
        env["LIVECOMPANION_REDIS_URL"] = redis_url
    log = open(tmp / "server.log", "wb")  # noqa: SIM115 - the server process writes it until stopped
    proc = subprocess.Popen(
        [sys.executable, "-m", "livecompanion", "serve", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited:\n{(tmp / 'server.log').read_text()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base, tokens
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    sys.exit("server did not start")


# --- the load ------------------------------------------------------------------------------------


def make_batches(n: int, batch: int, seed: int) -> tuple[list[bytes], list[dict[str, Any]]]:
    from livecompanion.demo import load_script
    from livecompanion.demo.simulator import Simulator

    events = []
    for event in Simulator(load_script(), seed=seed, room_size=50_000).events():
        if event["type"] == "segment":
            continue
        events.append(event)
        if len(events) >= n:
            break
    # The simulated show starts at a fixed date; ingest refuses a ts more than a day from its clock
    # (LIVECOMPANION_MAX_TS_SKEW_HOURS), so the show is moved to now, every gap kept.
    shift = int(time.time() * 1000) - int(events[0]["ts"])
    for event in events:
        if isinstance(event.get("ts"), int):
            event["ts"] += shift
    bodies = [orjson.dumps(events[i : i + batch]) for i in range(0, len(events), batch)]
    return bodies, events


async def throughput(
    base: str, sid: str, token: str, bodies: list[bytes], clients: int
) -> tuple[int, float, int]:
    """`clients` keep-alive connections post the prepared requests as fast as they are answered
    (tests/sales/rawhttp.py: the load generator must cost little next to the server)."""
    path = f"/api/streams/{sid}/events"
    headers = {"Authorization": f"Bearer {token}"}
    queue = [rawhttp.request("POST", base, path, headers, body) for body in reversed(bodies)]
    stored = refused = 0

    async def client() -> None:
        nonlocal stored, refused
        conn = await rawhttp.connect(base)
        try:
            while queue:
                raw = queue.pop()
                status, _head, answer = await conn.send(raw)
                if status == 200:
                    stored += orjson.loads(answer)["accepted"]
                else:
                    refused += 1
                    queue.append(raw)
                    await asyncio.sleep(1.0 if status == 503 else 0.2)
        finally:
            conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return stored, time.perf_counter() - started, refused


def copy_rows(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The rows ingest stores for these events (the columns of `events`), for the COPY baseline."""
    from livecompanion.ingest.rows import records_of_values

    received = int(time.time() * 1000)
    records = records_of_values("bench", list(enumerate(events)), received, [])
    return [r.row for r in records]


async def copy_baseline(dsn: str, rows: list[tuple[Any, ...]], table: str) -> tuple[int, float]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            f"CREATE TABLE {table} (stream_id varchar(32), event_id varchar(200), type varchar(32),"
            " ts_ms bigint, user_id varchar(200), body json, received_ms bigint)"
        )
        started = time.perf_counter()
        await conn.copy_records_to_table(table, records=rows)
        return len(rows), time.perf_counter() - started
    finally:
        await conn.close()


async def settle(dsn: str, timeout: float = 60) -> None:
    """Start each measurement from the same state: a checkpoint done, no autovacuum worker busy
    (after a few hundred thousand rows PostgreSQL vacuums and analyzes `events` in the background,
    which would land on whichever measurement comes next)."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
        ):
            await asyncio.sleep(0.5)
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


class Screen:
    """A viewer socket keeping the document, waiting for a condition to hold."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.state: dict[str, Any] = {}
        self.rev = 0
        self.changed = asyncio.Event()

    async def run(self) -> None:
        async for raw in self.ws:
            msg = orjson.loads(raw)
            if msg["type"] == "snapshot":
                self.state, self.rev = msg["state"], msg["rev"]
            elif msg["type"] == "patch" and msg["rev"] == self.rev + 1:
                self.state, self.rev = apply_ops(self.state, msg["ops"]), msg["rev"]
            elif msg["type"] == "patch":
                await self.ws.send('{"type": "resync"}')
            self.changed.set()

    async def until(self, predicate: Any, timeout: float = 10) -> None:
        deadline = time.perf_counter() + timeout
        while not predicate(self.state):
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(0.001, deadline - time.perf_counter()))


async def latency(
    base: str, sid: str, tokens: dict[str, str], events: list[dict[str, Any]], rate: int, probes: int
) -> dict[str, list[float]]:
    from websockets.asyncio.client import connect

    ingest = {"Authorization": f"Bearer {tokens['ingest']}"}
    operator = {"Authorization": f"Bearer {tokens['operator']}"}
    results: dict[str, list[float]] = {
        "claim -> flash_sales.remaining": [],
        "cancelled order event -> remaining": [],
        "paid order event -> metrics.orders": [],
        "  of which POST answered (committed)": [],
    }
    async with (
        connect(
            f"{base.replace('http', 'ws', 1)}/ws/streams/{sid}?token={tokens['viewer']}",
            max_size=None,
            max_queue=None,
        ) as ws,
        httpx.AsyncClient(base_url=base, timeout=30) as http,
    ):
        screen = Screen(ws)
        reader = asyncio.create_task(screen.run())
        await screen.until(lambda s: "metrics" in s)
        sale = await http.post(
            f"/api/streams/{sid}/flash-sales",
            headers=operator,
            json={
                "sku": "MASK-01",
                "price": 79,
                "stock": 1_000_000,
                "duration_seconds": 3600,
                "per_user_limit": 1,
            },
        )
        sale_id = sale.json()["id"] if sale.status_code == 201 else None
        if sale_id is None:
            print(f"  (no flash sales here: {sale.status_code} {sale.text[:120]}; claim probe skipped)")
            results.pop("claim -> flash_sales.remaining")
            results.pop("cancelled order event -> remaining")
        else:
            await screen.until(lambda s: sale_id in s.get("flash_sales", {}))

        stop = asyncio.Event()
        background = asyncio.create_task(_paced(base, sid, ingest, events, rate, stop))
        await asyncio.sleep(2)  # let the flow settle
        run = secrets.token_hex(3)
        for i in range(probes):
            if sale_id is not None:
                before = screen.state["flash_sales"][sale_id]["remaining"]
                started = time.perf_counter()
                r = await http.post(
                    f"/api/streams/{sid}/flash-sales/{sale_id}/claims",
                    headers=ingest,
                    json={"user_id": f"probe-{run}-{i}", "qty": 1, "order_id": f"p{run}-{i}"},
                )
                assert r.status_code == 201, r.text
                await screen.until(lambda s, b=before: s["flash_sales"][sale_id]["remaining"] <= b - 1)
                results["claim -> flash_sales.remaining"].append((time.perf_counter() - started) * 1000)
                # The buyer cancels: an `order` event through ingest releases the unit.
                await asyncio.sleep(0.05)
                before = screen.state["flash_sales"][sale_id]["remaining"]
                cancel = {
                    "type": "order",
                    "id": f"cancel-{run}-{i}",
                    "order_id": f"p{run}-{i}",
                    "sku": "MASK-01",
                    "qty": 1,
                    "amount": "79",
                    "status": "cancelled",
                    "user_id": f"probe-{run}-{i}",
                }
                started = time.perf_counter()
                r = await http.post(f"/api/streams/{sid}/events", headers=ingest, json=[cancel])
                assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
                await screen.until(lambda s, b=before: s["flash_sales"][sale_id]["remaining"] >= b + 1)
                results["cancelled order event -> remaining"].append((time.perf_counter() - started) * 1000)
            before_orders = screen.state["metrics"]["orders"]
            order = {
                "type": "order",
                "id": f"probe-{run}-{i}",
                "order_id": f"probe-{run}-{i}",
                "sku": "SERUM-02",
                "qty": 1,
                "amount": "1.00",
                "status": "paid",
                "user_id": f"probe-{i}",
            }
            started = time.perf_counter()
            r = await http.post(f"/api/streams/{sid}/events", headers=ingest, json=[order])
            assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
            results["  of which POST answered (committed)"].append((time.perf_counter() - started) * 1000)
            await screen.until(lambda s, b=before_orders: s["metrics"]["orders"] >= b + 1)
            results["paid order event -> metrics.orders"].append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.05)
        stop.set()
        sent = await background
        reader.cancel()
    results["_background"] = [sent]
    return results


async def _paced(
    base: str, sid: str, headers: dict[str, str], events: list[dict[str, Any]], rate: int, stop: asyncio.Event
) -> float:
    """Send `rate` events a second in 10 batches a second; returns the rate achieved."""
    per_tick = max(1, rate // 10)
    run = secrets.token_hex(3)
    sent = 0
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        tick = 0
        while not stop.is_set():
            chunk = [
                dict(e, id=f"bg{run}-{tick}-{j}")
                for j, e in enumerate(events[(tick * per_tick) % len(events) :][:per_tick])
            ]
            r = await http.post(
                f"/api/streams/{sid}/events",
                content=orjson.dumps(chunk),
                headers={"Content-Type": "application/json"},
            )
            if r.status_code == 200:
                sent += len(chunk)
            tick += 1
            wait = started + tick / 10 - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
    return sent / (time.perf_counter() - started)


_last_stats: dict[str, Any] = {}


def print_stats(base: str, tokens: dict[str, str]) -> None:
    """The server's own account since the last call: flushes, their size, where the time went."""
    r = httpx.get(
        f"{base}/api/ingest/stats", headers={"Authorization": f"Bearer {tokens['operator']}"}, timeout=10
    )
    w = r.json()["writer"]
    d = {
        k: w[k] - _last_stats.get(k, 0)
        for k in ("flushes", "events", "seconds_writing", "seconds_after_commit")
    }
    _last_stats.update(w)
    if d["flushes"]:
        print(
            f"  server: {d['flushes']:,} flushes, {d['events'] / d['flushes']:,.0f} events each on average "
            f"(largest so far {w['largest_flush']:,}, up to {w['most_requests_in_a_flush']} requests); "
            f"writing {d['seconds_writing']:.1f} s, after-commit steps {d['seconds_after_commit']:.1f} s "
            f"(slowest so far: write {w['slowest_write'] * 1000:.0f} ms, "
            f"after-commit {w['slowest_after_commit'] * 1000:.0f} ms)"
        )


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def new_stream(base: str, tokens: dict[str, str]) -> str:
    script = (ROOT / "examples" / "autumn-hydration.yaml").read_bytes()
    headers = {"Authorization": f"Bearer {tokens['operator']}", "Content-Type": "application/yaml"}
    return httpx.post(f"{base}/api/streams", content=script, timeout=30, headers=headers).json()["id"]


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


async def ingest_run(
    args: argparse.Namespace, proc: Any, base: str, tokens: dict[str, str], bodies: list[bytes], run: int
) -> float:
    """One throughput run into a fresh stream (so the same events are new again); events/s."""
    sid = new_stream(base, tokens)
    pg0, srv0, me0 = cpu_seconds(postgres_pids()), cpu_seconds([proc.pid]), time.process_time()
    stored, seconds, refused = await throughput(base, sid, tokens["ingest"], bodies, args.clients)
    pg, srv = cpu_seconds(postgres_pids()) - pg0, cpu_seconds([proc.pid]) - srv0
    me = time.process_time() - me0
    print(f"\nHTTP ingest run {run + 1}: 1 server process, {args.clients} clients, batches of {args.batch}")
    rate = stored / seconds
    print(f"  {stored:,} events stored in {seconds:.2f} s = {rate:,.0f} events/s (503s: {refused})")
    print(
        f"  CPU s: server {srv:.1f} ({srv / seconds:.0%} of a core), PostgreSQL {pg:.1f} "
        f"({pg / seconds:.0%}), load generator {me:.1f} ({me / seconds:.0%}); {os.cpu_count()} cores, "
        f"load {load_average()}"
    )
    print(
        f"  CPU per event: server {srv / stored * 1e6:.1f} us, PostgreSQL {pg / stored * 1e6:.1f} us"
        f" (one server process with a core of its own: {stored / srv:,.0f} events/s)"
    )
    print_stats(base, tokens)
    return stored / seconds


async def main(args: argparse.Namespace) -> None:
    import asyncpg

    name = f"lc_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(host=args.pg_host, user=args.pg_user, database="postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    tmp = Path(tempfile.mkdtemp(prefix="lc-bench-"))
    url = f"postgresql+asyncpg://{args.pg_user}@{args.pg_host}/{name}"
    proc, base, tokens = start_server(url, args.redis_url if args.redis else None, tmp)
    try:
        print(f"preparing {args.events:,} simulated events in batches of {args.batch} ...")
        bodies, events = make_batches(args.events, args.batch, args.seed)
        kinds: dict[str, int] = {}
        for e in events:
            kinds[e["type"]] = kinds.get(e["type"], 0) + 1
        ranked = sorted(kinds.items(), key=lambda kv: -kv[1])
        print("  mix: " + ", ".join(f"{k} {v / len(events):.0%}" for k, v in ranked))
        print(f"load average before: {load_average()} (other work on this machine)")
        # Ingest and COPY alternate, each from a settled database, so that drift on a shared
        # machine lands on both; each pair gives a ratio, and the medians are what to quote.
        dsn = f"postgresql://{args.pg_user}@{args.pg_host}/{name}"
        rows = copy_rows(events)
        rates, copies = [], []
        for run in range(args.runs):
            await settle(dsn)
            rates.append(await ingest_run(args, proc, base, tokens, bodies, run))
            await settle(dsn)
            n, copy_s = await copy_baseline(dsn, rows, f"bench_plain_{run}")
            copies.append(n / copy_s)
            print(
                f"  asyncpg COPY of the same {n:,} rows into a plain table: {copy_s:.2f} s = "
                f"{n / copy_s:,.0f} rows/s (load {load_average()}); ratio of this pair "
                f"{rates[-1] / copies[-1]:.2f}"
            )
        ratios = [r / c for r, c in zip(rates, copies)]
        print(
            f"\nHTTP ingest: median {statistics.median(rates):,.0f} events/s (best {max(rates):,.0f}); "
            f"COPY: median {statistics.median(copies):,.0f} rows/s (best {max(copies):,.0f}); "
            f"ratio: median of the pairs {statistics.median(ratios):.2f} "
            f"(pairs {', '.join(f'{x:.2f}' for x in ratios)}), best/best {max(rates) / max(copies):.2f}"
        )

        print(
            f"\nlatency while {args.rate:,} events/s flow, {args.probes} probes each (load {load_average()}):"
        )
        lat = await latency(base, new_stream(base, tokens), tokens, events, args.rate, args.probes)
        print(f"  background achieved {lat.pop('_background')[0]:,.0f} events/s")
        for label, values in lat.items():
            print(
                f"  {label:36} p50 {statistics.median(values):6.1f} ms  p99 {pct(values, 99):6.1f} ms  "
                f"max {max(values):6.1f} ms  (n={len(values)})"
            )
        print_stats(base, tokens)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        if not args.keep:
            admin = await asyncpg.connect(host=args.pg_host, user=args.pg_user, database="postgres")
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
        log = (tmp / "server.log").read_text()
        if "Traceback" in log or "ERROR" in log:
            print("\nserver log:\n" + log[-3000:])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5, help="ingest and COPY runs, alternating (medians)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--redis", action="store_true", help="run the server with Redis (shared tallies)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    asyncio.run(main(parser.parse_args()))
