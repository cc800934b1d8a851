"""A team's evening (issue 20): two instances on PostgreSQL + Redis, N rooms selling at once.

    .venv/bin/python scripts/bench_evening.py [--rooms 10] [--screens 100] [--rate 500] [--seconds 60]
        [--baseline-tree /work/wt/base] [--no-one-room]

Each case starts two real server processes (`python -m livecompanion serve` of a source tree, with
that tree's own .venv) on a fresh PostgreSQL database and a Redis key prefix of its own, and runs,
for every room at once, for `--seconds`:
  screens     `--screens` viewer sockets a room, half on each instance, in their own processes
              (`--screen-procs` of them), each reading every message it is sent (timing the marked pins,
              counting the rest; a browser would also apply each patch, which is the screen's cost, not the
              instance's). Since 2026-12-07 the screens read their sockets with scripts/screen_socket.py
              (the wire work of a screen only) and the harness runs on uvloop: at ten rooms the screens
              took 29-34% of a core with the websockets client on asyncio, 14-17% now, CPU the
              instances share on this machine and would not on a real evening (viewers' browsers are
              elsewhere). `--screen-client websockets --harness-loop asyncio` runs the old harness.
  ingest      `--rate` events a second a room (comments, enters, viewer counts, orders created /
              paid / cancelled) in batches of a tenth of a second, to the instances in turn
  operator    a pin every `--action-every` seconds a room, to the instances in turn
  spread      each room's batches, pins and claims start at room/rooms of their period, as ten rooms'
              bridges, operators and buyers would (`--aligned`: every room at the same instants, the
              harness before 2026-12-07, whose bursts of ten pins or five batches at once raised the
              pin and ack tails)
  flash sale  one a room: stock `--stock`, `--claims` claims a minute (pro rata of --seconds), each
              to a random instance, 5% sent again (same order_id) to the other one
and prints per case: operator action -> every screen of the room (p50/p99 over every screen and
action), ingest batch acknowledged (p50/p99), granted claim (p50/p99), flash-sale patches a screen
gets a second, the CPU each instance and the screens' processes used (percent of one core over the
load), and how long each instance took to exit on SIGTERM after the load. Under the table's row:
  a screen     messages and bytes a second, and patches a second by the sections they touch
  machine      the whole machine's CPU, PostgreSQL's and Redis's, and each instance's time on a core
               and time runnable but waiting for one (/proc/PID/task/*/schedstat): an instance at 38%
               of a core may be starved, not idle
  timeline     the run in windows of `--window` seconds: each instance's CPU, the machine's, and the
               p99s of the requests sent in that window (are the tails the selling phase?)
  load         events a second sent (the schedule: 500 a room), the load processes' CPU and the p99
               lag of their event loops (a late sender counts its own lateness in every latency)
  writer       each instance's flushes, time writing and in after-commit steps, and its own
               submit -> answer times (`/api/ingest/stats` answer_ms, where the tree has it)
  stalls       each instance's event-loop stalls over 50 ms (`/api/ingest/stats` loop_lag, where the
               tree reports them) and the load processes' own, at their second of the run
  collector    each instance's cyclic collections per generation and the longest pause (where the
               tree reports them: `/api/ingest/stats` collector)

The load comes from `--load-procs` processes (the rooms shared out), each sending on a schedule: one
process sending ten rooms' load on one event loop used to fall behind, sending about half the rate
with its own lag inside every latency it measured.

`--baseline-tree` runs the same cases on another checkout first (e.g. the code before a change),
so before and after come from one run on the same machine. The one-room case runs in the same run
unless `--no-one-room`; `--sweep 1,2,3,5,10` runs those room counts instead (where the goals stop holding
on this machine). The machine's load average is printed: on a shared machine quote ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import random
import secrets
import signal
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

from tests.conftest import PG_HOST, PG_PORT, PG_USER, REDIS_URL, _pg_admin, free_port, wait_serving  # noqa: E402
from tests.sales import rawhttp  # noqa: E402

MARK = b"BNCH"


# --- servers ------------------------------------------------------------------------------------

class Target:
    """What a load process needs of a server (picklable)."""

    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.base, self.tokens = base, tokens

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


class Server:
    def __init__(self, tree: Path, tmp: Path, database_url: str, prefix: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws = self.base.replace("http://", "ws://")
        self.tokens = {role: f"{role}-{secrets.token_hex(6)}" for role in ("operator", "ingest", "viewer")}
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIVECOMPANION_")}
        env.update({
            "LIVECOMPANION_DATA_DIR": str(tmp / f"data-{self.port}"), "LIVECOMPANION_DATABASE_URL": database_url,
            "LIVECOMPANION_REDIS_URL": REDIS_URL, "LIVECOMPANION_REDIS_PREFIX": prefix,
            "LIVECOMPANION_OPERATOR_TOKEN": self.tokens["operator"],
            "LIVECOMPANION_INGEST_TOKEN": self.tokens["ingest"], "LIVECOMPANION_VIEWER_TOKEN": self.tokens["viewer"],
        })
        self.log = tmp / f"server-{self.port}.log"
        self.stopping = 0.0  # when SIGTERM was first sent
        self.process = subprocess.Popen(
            [str(tree / ".venv/bin/python"), "-m", "livecompanion", "serve", "--port", str(self.port),
             "--log-level", "warning"], cwd=tree, env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        wait_serving(self.process, self.base, self.log)

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def target(self) -> Target:
        return Target(self.base, self.tokens)

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def sched_s(self) -> tuple[float, float]:
        """(seconds on a core, seconds runnable but waiting for a core), over the process's threads."""
        return sched_of(self.process.pid)

    def terminate(self) -> None:
        self.stopping = time.monotonic()
        self.process.send_signal(signal.SIGTERM)

    def stop(self) -> float:
        """SIGTERM (again); seconds until the process is gone (killed after 60 s: reported as inf)."""
        started = self.stopping or time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return float("inf")
        return time.monotonic() - started


def sched_of(pid: int) -> tuple[float, float]:
    ran = waited = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "schedstat").read_text().split()
        except OSError:
            continue
        ran, waited = ran + int(fields[0]), waited + int(fields[1])
    return ran / 1e9, waited / 1e9


def machine() -> dict[str, float]:
    """CPU seconds so far: the whole machine busy, and PostgreSQL's and Redis's processes."""
    out = {"busy": machine_busy(), "postgres": 0.0, "redis": 0.0}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        key = "postgres" if name.startswith("postgres") else "redis" if name.startswith("redis") else None
        if key:
            fields = stat.rsplit(")", 1)[1].split()
            out[key] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


# --- screens, in their own processes -----------------------------------------------------------

def run_loop(main: Any, loop: str) -> None:
    """The harness's processes stand in for viewers' browsers and a platform's feed, which run on
    other machines: on uvloop (as the servers are) they take less of the cores the instances share."""
    if loop == "uvloop":
        import uvloop

        uvloop.run(main)
    else:
        asyncio.run(main)


def screen_worker(sockets: list[tuple[str, str, str, int]], ready: Any, stop: Any, out: Any,
                  loop: str = "asyncio", client: str = "raw") -> None:
    """Opens the sockets; records when each marked (operator) patch arrives and counts sale patches.
    `client`: "raw" reads frames with scripts/screen_socket.py (a screen's wire work only), "websockets"
    with the websockets library's client (~3x the screens' CPU on this machine, taken from the cores
    the instances share)."""
    import asyncio

    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from scripts.screen_socket import open_screen

    seen: dict[bytes, list[float]] = {}
    sale_patches = 0
    opened = 0
    messages = 0
    size = 0
    sections: dict[str, int] = {}  # the sections a message touched ("+"-joined) -> messages

    def note(raw: bytes, at: float) -> None:
        nonlocal sale_patches, messages, size
        messages += 1
        size += len(raw)
        if raw.startswith(b'{"type":"patch"'):
            touched = sorted({part.split(b'"', 1)[0].decode() for part in raw.split(b'"path":["')[1:]})
            key = "+".join(touched)
            sections[key] = sections.get(key, 0) + 1
        if MARK in raw:
            i = raw.index(MARK)
            seen.setdefault(raw[i:i + 24].split(b'"')[0], []).append(at)
        elif b'"flash_sales"' in raw and b'"patch"' in raw:
            sale_patches += 1

    async def one(url: str) -> None:
        nonlocal opened
        if client == "raw":
            screen = await open_screen(asyncio.get_running_loop(), url, note)
            opened += 1
            try:
                await screen.closed  # the server stopped (the SIGTERM at the end)
            finally:
                if screen.transport is not None:
                    screen.transport.close()
            return
        async with connect(url, max_queue=None, open_timeout=60, ping_interval=None) as ws:
            opened += 1
            while True:
                try:
                    raw = await ws.recv(decode=False)
                except ConnectionClosed:  # the server stopped (the SIGTERM at the end)
                    return
                note(raw, time.time())

    async def main() -> None:
        tasks = [asyncio.create_task(one(f"{ws}/ws/streams/{sid}?token={token}"))
                 for ws, sid, token, n in sockets for _ in range(n)]
        while opened < len(tasks):
            await asyncio.sleep(0.05)
            failed = [t for t in tasks if t.done()]
            if failed:
                failed[0].result()
        ready.release()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        cpu = time.process_time()
        for t in tasks:
            t.cancel()
        out.put({"seen": {k.decode(): v for k, v in seen.items()}, "sale_patches": sale_patches,
                 "screens": len(tasks), "cpu": cpu, "messages": messages, "bytes": size, "sections": sections})

    run_loop(main(), loop)


# --- load --------------------------------------------------------------------------------------

def events(room: int, n: int, seq: int) -> bytes:
    now = int(time.time() * 1000)
    out = []
    for i in range(n):
        k = seq * n + i
        r = k % 20
        if r < 14:
            out.append({"type": "comment", "id": f"c{k}", "user_id": f"u{k % 900}", "text": "想要 多少錢?", "ts": now})
        elif r < 17:
            out.append({"type": "enter", "user_id": f"u{k % 900}", "ts": now})
        elif r == 17:
            out.append({"type": "viewer_count", "count": 1000 + k % 50, "ts": now})
        else:  # orders: created, then paid or cancelled in a later batch
            order = f"R{room}-{k // 2}"
            out.append({"type": "order", "id": f"o{k}", "order_id": order, "sku": "MASK-01", "qty": 1,
                        "amount": "79", "status": "created" if r == 18 else random.choice(["paid", "cancelled"]),
                        "ts": now, "user_id": f"u{k % 900}"})
    return orjson.dumps(out)


async def room_load(servers: list[Target], stream_id: str, sale_id: str, room: int, args: argparse.Namespace,
                    marks: dict[str, float], acks: list[tuple[float, float]], claims: list[tuple[float, float]],
                    failures: list[str],
                    resets: list[str], sent: list[int], answered: dict[str, float]) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + args.seconds
    clients = [RawClient(s.base) for s in servers]
    # Where in each period this room's batches, pins and claims fall: ten rooms' operators, bridges
    # and buyers do not act in the same millisecond, so rooms are spread evenly over the period
    # (room i at i/rooms of it), unless --aligned (every room at once, as before 2026-12-07).
    phase = 0.0 if args.aligned else room / args.rooms_total

    async def timed(i: int, method: str, path: str, role: str, out: list[tuple[float, float]] | None,
                    ok: tuple[int, ...], body: bytes) -> int | None:
        at, started = time.time(), time.perf_counter()
        raw = rawhttp.request(method, servers[i].base, path, servers[i].headers(role), body)
        for attempt in (1, 2):
            try:
                status, answer = await clients[i].send(raw)
                break
            except ConnectionError as exc:
                # A keep-alive connection the server closed as the request went out: sent again
                # (events carry ids, claims an order_id: a repeat changes nothing), counted apart.
                resets.append(f"{path}: {exc!r}")
                if attempt == 2:
                    failures.append(f"{path}: {exc!r}")
                    return None
            except (OSError, TimeoutError) as exc:
                failures.append(f"{path}: {exc!r}")
                return None
        if status not in ok:
            failures.append(f"{path}: {status} {answer[:80]!r}")
        elif out is not None:
            out.append((at, (time.perf_counter() - started) * 1000))
        return status

    async def ingest() -> None:
        per = max(1, args.rate // 10)
        seq = 0
        pending = set()
        due = loop.time() + phase * 0.1
        await asyncio.sleep(phase * 0.1)
        while loop.time() < end:
            pending.add(asyncio.create_task(timed(seq % 2, "POST", f"/api/streams/{stream_id}/events", "ingest", acks,
                                                  (200,), events(room, per, seq))))
            sent[0] += per
            seq += 1
            due += 0.1  # on a schedule: a late batch does not push the later ones back
            await asyncio.sleep(max(0.0, due - loop.time()))
        await asyncio.gather(*pending)

    async def operator() -> None:
        k = 0
        await asyncio.sleep(phase * args.action_every)
        while loop.time() < end:
            mark = f"BNCH{room}x{k}"
            marks[mark] = time.time()
            took: list[tuple[float, float]] = []
            await timed(k % 2, "POST", f"/api/streams/{stream_id}/pins", "operator", took, (200,),
                        orjson.dumps({"text": mark}))
            if took:
                answered[mark] = took[0][1]
            k += 1
            await asyncio.sleep(args.action_every)

    async def claim(n: int) -> None:
        first = random.randrange(2)
        body = {"user_id": f"buyer{n}", "qty": 1, "order_id": f"F{room}-{n}"}
        path = f"/api/streams/{stream_id}/flash-sales/{sale_id}/claims"
        raw = orjson.dumps(body)
        sends = [timed(first, "POST", path, "ingest", None, (201, 409), raw)]
        if random.random() < 0.05:
            sends.append(timed(1 - first, "POST", path, "ingest", None, (201, 409), raw))
        at, started = time.time(), time.perf_counter()
        replies = await asyncio.gather(*sends)
        if replies[0] == 201:
            claims.append((at, (time.perf_counter() - started) * 1000))

    async def sale() -> None:
        total = int(args.claims * args.seconds / 60)
        tasks = []
        await asyncio.sleep(phase * args.seconds / total)
        for n in range(total):
            tasks.append(asyncio.create_task(claim(n)))
            await asyncio.sleep(args.seconds / total)
        await asyncio.gather(*tasks)

    try:
        await asyncio.gather(ingest(), operator(), sale())
    finally:
        for c in clients:
            c.close()


class RawClient:
    """Keep-alive connections to one server, one request at a time each (tests/sales/rawhttp.py):
    httpx cost the load process about 1.8 ms of CPU a request, so the load took a share of the two
    cores that the servers needed, and its lag was counted in its latencies."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.free: list[rawhttp.Connection] = []

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        conn = None
        while self.free:
            conn = self.free.pop()
            if conn.transport is not None and not conn.transport.is_closing():
                break
            conn = None
        if conn is None:
            conn = await rawhttp.connect(self.base)
        try:
            async with asyncio.timeout(30):
                status, head, body = await conn.send(raw)
        except BaseException:
            conn.close()
            raise
        if b"\r\nconnection: close" in head.lower():
            conn.close()
        else:
            self.free.append(conn)
        return status, body

    def close(self) -> None:
        for conn in self.free:
            conn.close()
        self.free = []


def load_worker(servers: list[Target], rooms: list[tuple[int, str, str]], args: argparse.Namespace, ready: Any,
                go: Any, out: Any) -> None:
    """Sends the load of `rooms` (in a process of its own: one event loop sending ten rooms' load
    was itself the bottleneck, and its lag was counted in every latency)."""
    marks: dict[str, float] = {}
    acks: list[tuple[float, float]] = []  # (when sent, ms to the answer)
    claims: list[tuple[float, float]] = []
    failures: list[str] = []
    resets: list[str] = []
    sent = [0]
    lags: list[float] = []
    stalls: list[tuple[float, float]] = []  # (wall time, ms late) of the load's own loop, over 50 ms
    answered: dict[str, float] = {}  # pin -> ms until its POST was answered

    async def lag_probe(stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            at = loop.time()
            await asyncio.sleep(0.01)
            lags.append((loop.time() - at - 0.01) * 1000)
            if lags[-1] > 50:
                stalls.append((time.time(), lags[-1]))

    async def main() -> None:
        stop = asyncio.Event()
        probe = asyncio.create_task(lag_probe(stop))
        await asyncio.gather(*(room_load(servers, sid, sale, i, args, marks, acks, claims, failures, resets, sent,
                                         answered) for i, sid, sale in rooms))
        stop.set()
        await probe

    ready.release()
    go.wait()
    cpu = time.process_time()
    run_loop(main(), args.harness_loop)
    out.put({"marks": marks, "answered": answered, "acks": acks, "claims": claims, "failures": failures,
             "resets": resets, "sent": sent[0], "cpu": time.process_time() - cpu,
             "lag": (pct(lags, 0.5), pct(lags, 0.99)), "stalls": stalls})


def setup_room(a: Server, tree: Path, args: argparse.Namespace) -> tuple[str, str]:
    h = a.headers("operator")
    r = httpx.post(f"{a.base}/api/streams", content=(tree / "examples/autumn-hydration.yaml").read_bytes(),
                   headers={**h, "Content-Type": "application/yaml"}, timeout=30)
    r.raise_for_status()
    sid = r.json()["id"]
    httpx.post(f"{a.base}/api/streams/{sid}/segments/next", headers=h, timeout=30).raise_for_status()
    r = httpx.post(f"{a.base}/api/streams/{sid}/flash-sales", headers=h, timeout=30, json={
        "sku": "BENCH-SALE", "price": 79, "stock": args.stock, "duration_seconds": 3600})
    r.raise_for_status()
    return sid, r.json()["id"]


class Sampler:
    """Each instance's CPU and the whole machine's, read once a second on a thread of the harness's
    main process (which does nothing else while the load runs), for the timeline: every second, or four
    times a window when windows are shorter."""

    def __init__(self, servers: list[Server], every: float) -> None:
        import threading

        self.servers, self.every = servers, every
        self.rows: list[tuple[float, list[float], float]] = []  # (wall time, CPU s of each instance, machine s)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while True:
            self.rows.append((time.time(), [s.cpu_s() for s in self.servers], machine_busy()))
            if self.done.wait(self.every):
                return

    def stop(self) -> list[tuple[float, list[float], float]]:
        self.done.set()
        self.thread.join()
        return self.rows


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all but idle and waiting for I/O)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def timeline(samples: list[tuple[float, list[float], float]], pins: list[tuple[float, float]],
             acks: list[tuple[float, float]], claims: list[tuple[float, float]], window: float) -> list[str]:
    """The run in windows of `window` seconds: where the tails fall (while the sales sell, or not)
    against how busy each instance and the machine were in that window. A latency counts in the
    window its request was sent in."""
    if len(samples) < 2:
        return []
    t0, lines = samples[0][0], list[str]()
    edges = [t0 + k * window for k in range(int((samples[-1][0] - t0) // window) + 1)]
    for lo in edges:
        hi = lo + window
        inside = [s for s in samples if lo <= s[0] <= hi]
        if len(inside) < 2:
            continue
        span = inside[-1][0] - inside[0][0]
        cpu = [(b - a) / span * 100 for a, b in zip(inside[0][1], inside[-1][1], strict=True)]
        busy = (inside[-1][2] - inside[0][2]) / span * 100
        part = [[ms for at, ms in series if lo <= at < hi] for series in (pins, acks, claims)]
        lines.append(f"{lo - t0:5.0f}-{hi - t0:<3.0f} s | CPU A / B {cpu[0]:3.0f}% / {cpu[1]:3.0f}% | machine "
                     f"{busy:3.0f}% | pin p99 {pct(part[0], 0.99):5.0f} | ack p99 {pct(part[1], 0.99):5.0f} "
                     f"| claim p99 {pct(part[2], 0.99):5.0f} ms ({len(part[2])} granted)")
    return lines


def stalls_line(t0: float, stats: list[dict[str, Any]], load: list[tuple[float, float]]) -> str:
    """Each instance's loop stalls over 50 ms (`/api/ingest/stats` loop_lag, where the tree has it)
    and the load processes' own, at their second of the run: a stall in one instance alone is that
    instance's; one in every process at once is the machine's."""
    parts = []
    for name, st in zip("AB", stats, strict=True):
        if "loop_lag" in st:
            mine = [(at / 1000, ms) for at, ms in st["loop_lag"]["stalls"] if at / 1000 >= t0]
            parts.append(f"{name}: " + (", ".join(f"{at - t0:.1f} s {ms:.0f} ms" for at, ms in mine) or "none"))
    parts.append("load: " + (", ".join(f"{at - t0:.1f} s {ms:.0f} ms" for at, ms in sorted(load)) or "none"))
    return "; ".join(parts)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def run_case(tree: Path, rooms: int, args: argparse.Namespace) -> dict[str, Any]:
    args = argparse.Namespace(**vars(args), rooms_total=rooms)  # the load spreads this case's rooms
    name = f"lc_evening_{secrets.token_hex(4)}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    prefix = f"lcbench:{secrets.token_hex(4)}:"
    servers: list[Server] = []
    workers: list[Any] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            logs = Path(tmp)
            servers.append(Server(tree, Path(tmp), url, prefix))  # the first one migrates the database
            servers.append(Server(tree, Path(tmp), url, prefix))
            a, b = servers
            room_ids = [setup_room(a, tree, args) for _ in range(rooms)]
            ctx = mp.get_context("spawn")
            ready, stop, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
            plan: list[list[tuple[str, str, str, int]]] = [[] for _ in range(args.screen_procs)]
            for i, (sid, _) in enumerate(room_ids):
                for j, server in enumerate((a, b)):
                    n = args.screens // 2 + (args.screens % 2 if j == 0 else 0)
                    plan[(2 * i + j) % args.screen_procs].append((server.ws, sid, server.tokens["viewer"], n))
            for sockets in plan:
                if sockets:
                    workers.append(ctx.Process(target=screen_worker,
                                               args=(sockets, ready, stop, out, args.harness_loop,
                                                     args.screen_client)))
                    workers[-1].start()
            for _ in workers:
                if not ready.acquire(timeout=180):
                    raise RuntimeError("screens did not connect in 180 s")
            loads: list[Any] = []
            load_out, go = ctx.Queue(), ctx.Event()
            shares = [[(i, sid, sale) for i, (sid, sale) in enumerate(room_ids) if i % args.load_procs == k]
                      for k in range(args.load_procs)]
            for share in shares:
                if share:
                    loads.append(ctx.Process(target=load_worker, args=([s.target() for s in servers], share, args,
                                                                       ready, go, load_out)))
                    loads[-1].start()
            for _ in loads:
                if not ready.acquire(timeout=60):
                    raise RuntimeError("load processes did not start in 60 s")
            cpu0 = [s.cpu_s() for s in servers]
            sched0 = [s.sched_s() for s in servers]
            machine0 = machine()
            started = time.monotonic()
            sampler = Sampler(servers, min(1.0, args.window / 4))
            go.set()
            sent = [load_out.get(timeout=args.seconds + 300) for _ in loads]
            took = time.monotonic() - started
            samples = sampler.stop()
            machine1 = machine()
            sched = [tuple((b - a) / took * 100 for a, b in zip(s0, s.sched_s(), strict=True))
                     for s0, s in zip(sched0, servers, strict=True)]
            for w in loads:
                w.join(30)
            cpu = [(s.cpu_s() - c) / took * 100 for s, c in zip(servers, cpu0, strict=True)]
            marks = {k: v for r in sent for k, v in r["marks"].items()}
            answered = {k: v for r in sent for k, v in r["answered"].items()}
            acks_at = [v for r in sent for v in r["acks"]]
            claims_at = [v for r in sent for v in r["claims"]]
            acks, claims = [ms for _, ms in acks_at], [ms for _, ms in claims_at]
            failures = [v for r in sent for v in r["failures"]]
            resets = [v for r in sent for v in r["resets"]]
            load_stalls = [st for r in sent for st in r["stalls"]]
            load_cpu = sum(r["cpu"] for r in sent) / took * 100
            rate = sum(r["sent"] for r in sent) / args.seconds
            lag = max(r["lag"][1] for r in sent)
            stats = [httpx.get(f"{s.base}/api/ingest/stats", headers=s.headers("operator"), timeout=30).json()
                     for s in servers]
            time.sleep(2)  # the last patches arrive
            # SIGTERM with every screen still connected (a restart during a show), both at once.
            for s in servers:
                s.terminate()
            exits = [s.stop() for s in servers]
            kept = Path(args.logs) / name
            kept.mkdir(parents=True, exist_ok=True)
            for log in logs.glob("server-*.log"):  # kept: an error's traceback outlives the case
                (kept / log.name).write_bytes(log.read_bytes())
            stop.set()
            results = [out.get(timeout=60) for _ in workers]
            for w in workers:
                w.join(30)
    finally:
        for w in workers:
            if w.is_alive():
                w.kill()
        for s in servers:
            if s.process.poll() is None:
                s.process.kill()
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    latencies, missing, pins, pins_at = [], 0, [], []
    for mark, sent in marks.items():
        arrived = [t for r in results for t in r["seen"].get(mark, [])]
        missing += args.screens - len(arrived)
        mine = [(t - sent) * 1000 for t in arrived]
        latencies += mine
        pins_at += [(sent, ms) for ms in mine]
        if mine:
            pins.append((max(mine), answered.get(mark, float("nan")), min(mine)))
    pins.sort(reverse=True)
    screens = sum(r["screens"] for r in results)
    return {
        "rooms": rooms, "action": (pct(latencies, 0.5), pct(latencies, 0.99)), "missing": missing,
        "ack": (pct(acks, 0.5), pct(acks, 0.99)), "claim": (pct(claims, 0.5), pct(claims, 0.99)),
        "granted": len(claims), "failures": failures, "resets": len(resets), "cpu": cpu,
        "screens_cpu": sum(r["cpu"] for r in results) / took * 100, "load_cpu": load_cpu, "stats": stats,
        "rate": rate, "lag": lag, "sched": sched,
        "messages": sum(r["messages"] for r in results) / max(1, screens) / took,
        "bytes": sum(r["bytes"] for r in results) / max(1, screens) / took,
        "sections": {k: sum(r["sections"].get(k, 0) for r in results) / max(1, screens) / took
                     for k in {k for r in results for k in r["sections"]}},
        "timeline": timeline(samples, pins_at, acks_at, claims_at, args.window),
        "stalls": stalls_line(samples[0][0] if samples else 0.0, stats, load_stalls),
        "machine": {k: (machine1[k] - machine0[k]) / took * 100 for k in machine0},
        "sale_patches": sum(r["sale_patches"] for r in results) / max(1, screens) / took, "exits": exits,
        "slowest_pins": pins[:3], "pin_answer": (pct(list(answered.values()), 0.5), pct(list(answered.values()), 0.99)),
    }


def row(label: str, r: dict[str, Any]) -> str:
    f = "{:.0f} / {:.0f}".format
    return (f"| {label} | {r['rooms']} | {f(*r['action'])} | {f(*r['ack'])} | {f(*r['claim'])} | "
            f"{r['sale_patches']:.1f} | {r['cpu'][0]:.0f}% / {r['cpu'][1]:.0f}% | {r['screens_cpu']:.0f}% | "
            f"{' / '.join(f'{e:.1f}' for e in r['exits'])} | {r['missing']} | {len(r['failures'])} ({r['resets']}) |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rooms", type=int, default=10)
    p.add_argument("--screens", type=int, default=100, help="viewer screens a room (half on each instance)")
    p.add_argument("--rate", type=int, default=500, help="events a second a room")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--action-every", type=float, default=3.0)
    p.add_argument("--stock", type=int, default=1000)
    p.add_argument("--claims", type=int, default=2000, help="claims a minute a room")
    p.add_argument("--screen-procs", type=int, default=2)
    p.add_argument("--load-procs", type=int, default=2, help="processes sending the load (rooms shared out)")
    p.add_argument("--baseline-tree", type=Path, help="another checkout (with its .venv) to run first")
    p.add_argument("--no-one-room", action="store_true")
    p.add_argument("--harness-loop", choices=("uvloop", "asyncio"), default="uvloop",
                   help="the event loop of the screens' and the load's processes (not the servers')")
    p.add_argument("--screen-client", choices=("raw", "websockets"), default="raw",
                   help="how the screens read their sockets (scripts/screen_socket.py, or the websockets client)")
    p.add_argument("--sweep", help="room counts to run instead of 1 and --rooms, e.g. 1,2,3,5,10: how many "
                                   "rooms this machine holds within the goals")
    p.add_argument("--aligned", action="store_true",
                   help="every room's batches, pins and claims at the same instants (the harness before "
                        "2026-12-07); by default rooms are spread over each period")
    p.add_argument("--window", type=float, default=5.0, help="seconds a line of the printed timeline covers")
    p.add_argument("--logs", default=str(Path(tempfile.gettempdir()) / "bench-evening-logs"),
                   help="where each case's server logs are kept")
    args = p.parse_args()
    trees = ([("baseline", args.baseline_tree.resolve())] if args.baseline_tree else []) + [("this tree", ROOT)]
    cases = ([int(n) for n in args.sweep.split(",")] if args.sweep
             else ([] if args.no_one_room else [1]) + [args.rooms])
    print(f"load average at start: {os.getloadavg()}; cores: {os.cpu_count()}; {args.screens} screens, "
          f"{args.rate} events/s, a pin every {args.action_every} s, {args.claims} claims/min a room, "
          f"{args.seconds:.0f} s", flush=True)
    lines = []
    for label, tree in trees:
        for rooms in cases:
            r = run_case(tree, rooms, args)
            lines.append(row(label, r))
            print(lines[-1], r["failures"][:3], flush=True)
            w = [st["writer"] for st in r["stats"]]
            m, sc = r["machine"], r["sched"]
            mix = ", ".join(f"{k} {v:.2f}" for k, v in sorted(r["sections"].items(), key=lambda kv: -kv[1]))
            print(f"  a screen: {r['messages']:.1f} messages/s, {r['bytes'] / 1000:.1f} KB/s; patches/s by the "
                  f"sections they touch: {mix}", flush=True)
            print(f"  machine busy {m['busy']:.0f}% of {os.cpu_count()} cores (100% = one core); PostgreSQL "
                  f"{m['postgres']:.0f}%, Redis {m['redis']:.0f}%; instance A / B on a core {sc[0][0]:.0f}% / "
                  f"{sc[1][0]:.0f}%, runnable but waiting for a core {sc[0][1]:.0f}% / {sc[1][1]:.0f}%", flush=True)
            slow = ", ".join(f"{last:.0f} ms (POST answered {post:.0f}, first screen {first:.0f})"
                             for last, post, first in r["slowest_pins"])
            print(f"  pins: POST answered p50 / p99 {r['pin_answer'][0]:.0f} / {r['pin_answer'][1]:.0f} ms; slowest "
                  f"pins to their last screen: {slow}", flush=True)
            print("  timeline (latencies by when their request was sent):\n    " + "\n    ".join(r["timeline"]),
                  flush=True)
            print(f"  load: {r['rate']:.0f} events/s sent, its CPU {r['load_cpu']:.0f}% of a core, its loop lag p99 "
                  f"{r['lag']:.0f} ms; writer A / B: flushes {w[0]['flushes']} / {w[1]['flushes']}, most requests in "
                  f"one {w[0]['most_requests_in_a_flush']} / {w[1]['most_requests_in_a_flush']}, s writing "
                  f"{w[0]['seconds_writing']:.1f} / {w[1]['seconds_writing']:.1f}, s after commit "
                  f"{w[0]['seconds_after_commit']:.1f} / {w[1]['seconds_after_commit']:.1f}, slowest after commit "
                  f"{w[0]['slowest_after_commit']:.2f} / {w[1]['slowest_after_commit']:.2f} s; in the server, submit "
                  f"-> answer ms A / B: {r['stats'][0].get('answer_ms')} / {r['stats'][1].get('answer_ms')}, "
                  f"most commits waiting for live numbers {r['stats'][0].get('live_queue_peak')} / "
                  f"{r['stats'][1].get('live_queue_peak')}, after-commit steps' seconds (summed over streams) "
                  f"{r['stats'][0].get('after_commit_steps')} / {r['stats'][1].get('after_commit_steps')}",
                  flush=True)
            print(f"  loop stalls over 50 ms (second of the run, ms late): {r['stalls']}", flush=True)
            if "collector" in r["stats"][0]:
                gcs = [" ".join(f"{g[-1]}: {v['collections']:.0f}x longest {v['longest_ms']:.0f} ms"
                                for g, v in st["collector"].items()) for st in r["stats"]]
                print(f"  collector pauses A / B (generation: collections, longest): {gcs[0]} / {gcs[1]}",
                      flush=True)
    print("\n| code | rooms | operator action -> every screen p50 / p99 ms | ingest ack p50 / p99 ms | "
          "granted claim p50 / p99 ms | sale patches /s a screen | CPU A / B | screens' CPU | "
          "exit on SIGTERM s (A / B) | screen arrivals missing | failed requests (resets sent again) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(lines))
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
