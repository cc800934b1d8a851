"""Soak: two instances on PostgreSQL + Redis under a compressed show and abusive clients (issue 13).

    .venv/bin/python scripts/soak.py [--seconds 360] [--viewers 2000] [--stalled 50] [--slowloris 200]
                                     [--room 600] [--speed 20] [--fuzz] [--trace-memory] [--shows 1]

What runs at once, for `--seconds` (or until the last show is over):
- two `livecompanion serve` processes on one fresh PostgreSQL database and one Redis prefix;
- the demo simulator (`scripts/simulate.py drive --speed 20`) playing the sample two-hour show
  against instance A: segments, cues, flash-sale claims and audience events over HTTP; with
  `--shows N`, N shows back to back, each a new stream: the viewers move to it (they reconnect,
  as screens opened on the next show would) and `--stalled` new never-reading sockets open on it;
- `--viewers` viewer sockets spread over both instances, reading; `--stalled` more that never read
  past the handshake (tiny receive buffer): each must be dropped, not kept;
- `--slowloris` connections sending half a request head, reopened as the server closes them;
- with `--fuzz`, schemathesis against instance B beside it all;
- probes of the soak's own, alternating between A and B every 0.2 s: a flash-sale claim (a sale of
  its own with stock to spare) and an ingest POST of 10 comments, timed: "claims and ingest
  answered throughout" is their count, their 5xx and their p50/p99.

With `--trace-memory`, instance B traces its memory from 20 s on (tracemalloc, 4 frames: slower
and bigger, a diagnostic run, not a figure), writes a snapshot after the warm-up (60 s) and at the
end (SIGUSR1, livecompanion/server.py), and the soak prints where B's memory grew between.

Every 5 s it samples each instance's resident memory and open file descriptors (/proc) and the
latency of /healthz. At the end it prints start, peak and end of both (and each show's start, +10 s
and end), the /healthz p50/p99, how many stalled sockets the servers dropped, the simulator's
outcome, and the number of 5xx answers the simulator and fuzzer saw. Figures go to BENCHMARKS.md
by hand, with the scale they were taken at.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from soak_clients import (
    PY,
    ROOT,
    Timings,
    dropped,
    free_port,
    probes,
    proc_figures,
    reader,
    slowloris,
    stalled_socket,
    wait_up,
)


def snapshot_of(server: subprocess.Popen[bytes], data: Path, k: int) -> Path | None:
    """Have a server started with PYTHONTRACEMALLOC write its k-th snapshot; its path once written."""
    server.send_signal(signal.SIGUSR1)
    path = data / f"memory-{server.pid}-{k}.tracemalloc"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if path.exists():
            size = path.stat().st_size
            time.sleep(1.0)
            if path.stat().st_size == size:
                return path
        time.sleep(0.5)
    return None


def print_growth(first: Path, last: Path, top: int = 15) -> None:
    before, after = tracemalloc.Snapshot.load(str(first)), tracemalloc.Snapshot.load(str(last))
    keep = [tracemalloc.Filter(False, "<frozen importlib._bootstrap*>"),
            tracemalloc.Filter(False, tracemalloc.__file__)]
    before, after = before.filter_traces(keep), after.filter_traces(keep)
    total = sum(s.size for s in after.statistics("filename")) - sum(s.size for s in before.statistics("filename"))
    print(f"\n== instance B: traced Python memory grew {total / 1e6:+.1f} MB between the snapshots; "
          f"where (by line, top {top}) ==")
    for stat in after.compare_to(before, "lineno")[:top]:
        frame = stat.traceback[0]
        print(f"{stat.size_diff / 1e6:+8.2f} MB {stat.count_diff:+8d} blocks  {frame.filename}:{frame.lineno}")
    print("-- the largest by call stack --")
    for stat in after.compare_to(before, "traceback")[:5]:
        print(f"{stat.size_diff / 1e6:+8.2f} MB {stat.count_diff:+8d} blocks")
        for line in stat.traceback.format()[-12:]:
            print("      " + line)


def start(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([PY, "-m", "livecompanion", "serve", "--port", str(port), "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=360)
    ap.add_argument("--viewers", type=int, default=2000)
    ap.add_argument("--stalled", type=int, default=50)
    ap.add_argument("--slowloris", type=int, default=200)
    ap.add_argument("--room", type=int, default=600)
    ap.add_argument("--speed", type=float, default=20)
    ap.add_argument("--fuzz", action="store_true")
    ap.add_argument("--trace-memory", action="store_true", help="run B under tracemalloc and show its growth")
    ap.add_argument("--shows", type=int, default=1, help="shows played back to back, each a new stream")
    ap.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = ap.parse_args()

    load_at_start = os.getloadavg()
    db = f"lc_soak_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(args.postgres)
    await admin.execute(f"CREATE DATABASE {db}")
    await admin.close()
    work = Path(f"/tmp/{db}")
    work.mkdir()
    tokens = {role: secrets.token_urlsafe(12) for role in ("operator", "ingest", "viewer")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVECOMPANION_")}
    env.update({f"LIVECOMPANION_{r.upper()}_TOKEN": t for r, t in tokens.items()})
    env.update({"LIVECOMPANION_DATABASE_URL": args.postgres.rsplit("/", 1)[0].replace(
        "postgresql://", "postgresql+asyncpg://") + f"/{db}", "LIVECOMPANION_REDIS_URL": args.redis,
        "LIVECOMPANION_REDIS_PREFIX": f"{db}:", "LIVECOMPANION_DATA_DIR": str(work / "data"),
        "LIVECOMPANION_WS_PER_ADDRESS": str(args.viewers + args.stalled + 100),
        # The shops' webhooks configured, as in tests/api/test_schemathesis.py: unconfigured ones answer 503
        # by design (asking the shop to retry), which the fuzzer would count as server errors.
        **{f"LIVECOMPANION_{k}": v for k, v in {
            "SHOPIFY_SECRET": "soak", "DOUDIAN_APP_KEY": "soak", "DOUDIAN_APP_SECRET": "soak",
            "YOUZAN_CLIENT_ID": "soak", "YOUZAN_CLIENT_SECRET": "soak", "WECHAT_SHOP_TOKEN": "soak",
            "WECHAT_SHOP_AES_KEY": "a" * 43, "WECHAT_SHOP_APPID": "wxsoak", "SHOP_WEBHOOK_SECRET": "soak"}.items()}})
    ports = [free_port(), free_port()]
    env_b = {**env, "LIVECOMPANION_MEMORY_SNAPSHOTS": "1"} if args.trace_memory else env
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    servers = []
    try:
        # One after the other: both would migrate the fresh database at once (one then fails).
        for i, (port, server_env) in enumerate(zip(ports, [env, env_b], strict=True)):
            servers.append(start(port, server_env, work / f"server-{i}.log"))
            wait_up(bases[i])
    except SystemExit:
        for server in servers:
            server.terminate()
        raise
    op = {"Authorization": f"Bearer {tokens['operator']}"}

    async def play_show() -> tuple[subprocess.Popen[bytes], str]:
        """The simulator on a new stream of its own, and that stream's id."""
        known = {s["id"] for s in httpx.get(f"{bases[0]}/api/streams", headers=op).json()}
        sim = subprocess.Popen(
            [PY, "scripts/simulate.py", "drive", "--url", bases[0], "--speed", str(args.speed), "--room",
             str(args.room), "--operator-token", tokens["operator"], "--ingest-token", tokens["ingest"]],
            cwd=ROOT, stdout=(work / "simulate.log").open("ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            new = [s["id"] for s in httpx.get(f"{bases[0]}/api/streams", headers=op).json() if s["id"] not in known]
            if new:
                return sim, new[0]
            await asyncio.sleep(0.5)
        sim.terminate()
        raise SystemExit("the simulator made no stream")

    sim, stream_id = await play_show()
    show = {"sid": stream_id, "n": 1}
    fuzz = None
    if args.fuzz:
        st = str(Path(PY).parent / "st")
        fuzz = subprocess.Popen([st, "run", f"{bases[1]}/openapi.json",
                                 "-H", f"Authorization: Bearer {tokens['operator']}",
                                 "--checks", "not_a_server_error", "--max-time", str(int(args.seconds)),
                                 "--workers", "1", "--suppress-health-check", "all", "--request-timeout", "30"],
                                cwd=work, stdout=(work / "fuzz.log").open("wb"), stderr=subprocess.STDOUT)

    stop = asyncio.Event()
    counts = {"open": 0, "messages": 0, "reconnects": 0, "loris_opened": 0, "loris_closed": 0}
    claims, ingest = Timings(), Timings()
    tasks = [asyncio.create_task(probes(bases, tokens, stop, claims, ingest))]
    for i in range(args.viewers):
        ws_base = bases[i % 2].replace("http://", "ws://")
        tasks.append(asyncio.create_task(reader(
            lambda ws_base=ws_base: ws_base + f"/ws/streams/{show['sid']}?token={tokens['viewer']}", stop, counts)))
        if i % 100 == 99:
            await asyncio.sleep(0.2)

    def open_stalled() -> list[socket.socket]:
        return [s for i in range(args.stalled)
                if (s := stalled_socket("127.0.0.1", ports[i % 2],
                                        f"/ws/streams/{show['sid']}?token={tokens['viewer']}")) is not None]

    stalled = open_stalled()
    stalled_dropped = 0
    marks: list[tuple[str, float, list[tuple[float, int]]]] = []  # (show k start/+10 s/end, t, figures)
    show_started = time.monotonic()
    tasks.append(asyncio.create_task(slowloris("127.0.0.1", ports[1], args.slowloris, stop, counts)))

    samples: list[tuple[float, list[tuple[float, int]]]] = []
    health: list[float] = []
    health_fail = 0
    started = time.monotonic()
    snapshots: list[Path | None] = []
    tracing = False
    async with httpx.AsyncClient(timeout=10) as client:
        while time.monotonic() - started < args.seconds:
            if sim.poll() is not None:
                marks.append((f"show {show['n']} end (exit {sim.returncode})", time.monotonic() - started,
                              [proc_figures(s.pid) for s in servers]))
                if show["n"] >= args.shows:
                    break
                stalled_dropped += sum(dropped(s) for s in stalled if s.fileno() >= 0)
                for sock in stalled:
                    sock.close()
                sim, show["sid"] = await play_show()
                show["n"] += 1
                show_started = time.monotonic()
                stalled += open_stalled()
            if not any(name == f"show {show['n']} +10 s" for name, _, _ in marks) and (
                    time.monotonic() - show_started >= 10):
                marks.append((f"show {show['n']} +10 s", time.monotonic() - started,
                              [proc_figures(s.pid) for s in servers]))
            if not any(name == f"show {show['n']} start" for name, _, _ in marks):
                marks.append((f"show {show['n']} start", time.monotonic() - started,
                              [proc_figures(s.pid) for s in servers]))
            if args.trace_memory and not tracing and time.monotonic() - started > 20:  # the fuzzer has its schema
                servers[1].send_signal(signal.SIGUSR1)
                tracing = True
            elif args.trace_memory and tracing and not snapshots and time.monotonic() - started > 60:  # warm
                snapshots.append(await asyncio.to_thread(snapshot_of, servers[1], work / "data", 1))
            figures = [proc_figures(s.pid) for s in servers]
            samples.append((time.monotonic() - started, figures))
            for base in bases:
                t = time.perf_counter()
                try:
                    ok = (await client.get(f"{base}/healthz")).status_code == 200
                except httpx.HTTPError:
                    ok = False
                health.append(time.perf_counter() - t)
                health_fail += not ok
            print(f"{samples[-1][0]:6.0f}s  " + "  ".join(f"rss {m:6.1f} MB fds {f:5d}" for m, f in figures)
                  + f"  viewers open {counts['open']}, messages {counts['messages']}, reconnects "
                  f"{counts['reconnects']}, loris closed {counts['loris_closed']}", flush=True)
            await asyncio.sleep(5)
    if args.trace_memory and snapshots:
        snapshots.append(await asyncio.to_thread(snapshot_of, servers[1], work / "data", 2))
    stop.set()
    stalled_dropped += sum(dropped(s) for s in stalled if s.fileno() >= 0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    sim_rc = sim.poll()
    if sim_rc is None:
        sim.terminate()
        sim.wait(10)
    if fuzz is not None:  # its --max-time is --seconds: the shows may have ended before
        fuzz.terminate()
        fuzz.wait(60)
    for s in servers:
        s.terminate()
        s.wait(20)
    logs = "".join((work / f"server-{i}.log").read_text(errors="replace") for i in range(2))
    health.sort()
    print(f"\n== soak figures == (load average at the start {load_at_start})")
    print(f"duration {samples[-1][0]:.0f} s; viewers {args.viewers} (+{args.stalled} never reading), "
          f"slowloris {args.slowloris}, room {args.room}, speed {args.speed}, fuzz {args.fuzz}")
    for i in range(2):
        rss = [f[i][0] for _, f in samples]
        fds = [f[i][1] for _, f in samples]
        print(f"instance {'AB'[i]}: rss start {rss[0]:.1f} MB, peak {max(rss):.1f}, end {rss[-1]:.1f}; "
              f"fds start {fds[0]}, peak {max(fds)}, end {fds[-1]}")
    for name, t, figures in marks:
        print(f"{name:28} {t:6.0f} s  " + "  ".join(f"{'AB'[i]} rss {m:6.1f} MB fds {f:5d}"
                                                 for i, (m, f) in enumerate(figures)))
    print(f"/healthz: {len(health)} requests, {health_fail} failed, p50 {statistics.median(health) * 1000:.1f} ms, "
          f"p99 {health[int(len(health) * 0.99) - 1] * 1000:.1f} ms")
    print(claims.line("claims (probe)"))
    print(ingest.line("ingest POSTs of 10 (probe)"))
    print(f"stalled sockets dropped by the servers: {stalled_dropped} of {len(stalled)}")
    print(f"slowloris: {counts['loris_opened']} opened, {counts['loris_closed']} closed by the servers")
    print(f"viewer messages received: {counts['messages']}, reconnects: {counts['reconnects']}; close codes "
          f"from the servers: { {k: v for k, v in counts.items() if k.startswith('closed')} }")
    print(f"simulator: {'still running (cut at --seconds)' if sim_rc is None else f'exit {sim_rc}'}; "
          f"its last lines: {(work / 'simulate.log').read_text(errors='replace').strip().splitlines()[-2:]}")
    print(f"server tracebacks: {logs.count('Traceback')}; work dir {work}")
    print(f"500s (unhandled errors) in the servers' logs: {logs.count('Exception in ASGI application')}; "
          f"load average at the end {os.getloadavg()}")
    if fuzz is not None:
        tail = [line for line in (work / "fuzz.log").read_text(errors="replace").strip().splitlines()
                if "generated" in line or "Server error" in line or "failures" in line or "passed" in line][-6:]
        print(f"fuzzer exit {fuzz.returncode}: {tail}")
    admin = await asyncpg.connect(args.postgres)
    await admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    await admin.close()
    if len(snapshots) == 2 and all(snapshots):
        print_growth(snapshots[0], snapshots[1])  # type: ignore[arg-type]
    elif args.trace_memory:
        print(f"memory snapshots not taken: {snapshots}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
