"""Bridge benchmark: a busy room's recording replayed with `livecompanion bridge --from` into a
running service, end to end, beside the service's own HTTP ingest rate in the same run.

    .venv/bin/python scripts/bench_bridge.py [--messages 200000] [--runs 3] [--postgres] [--rate 20000]
        [--baseline-tree DIR]

1. A recording of `--messages` Douyin messages in the fetcher envelope shape with a big room's mix
   (by count: 45% enters, 30% likes, 20% chat, 3% follows, 2% gifts that give no event), times
   current. Generated here from the shape of the real messages in tests/ingest/fixtures/real.
2. ONE server process (`livecompanion serve`; SQLite, or a fresh PostgreSQL database with
   `--postgres`).
3. Baseline, same run: the recording's events (mapped beforehand, so only the service works)
   posted over HTTP in batches of 2,000 by 4 keep-alive clients into a fresh stream: events/s.
4. The bridge: `livecompanion bridge douyin --from FILE` into a fresh stream, as a subprocess, as
   fast as it goes: messages/s = messages / wall time from start to exit (every event acknowledged,
   the process started and its imports included); its CPU seconds per message (user + system of
   the child: what the bridge costs, whatever the machine's load) and peak RSS. Unpaced, its push
   latency is mostly time spent waiting in its own backlog, so latency is measured in a second,
   paced replay (`--rate`, messages/s; by default the issue's 20,000): p50/p99 of message read ->
   batch acknowledged.
   With `--baseline-tree DIR` (a checkout of an older commit, e.g. `git archive COMMIT | tar -x -C
   DIR`), the same bridge runs (unpaced and paced) are also made with that tree's bridge, against
   the same service, alternating with this tree's: before and after in one run.
5. Backlog: the same replay while the service is stopped (the bridge reads everything, keeps
   100,000 events in memory and the rest in its spool on disk): peak RSS, to show memory does not
   grow with the backlog; then the service is started and a second run with the same spool sends it.
Runs alternate baseline and bridge, `--runs` of each (with `--baseline-tree`, the two trees' order
alternates too); before each measurement the service is left to finish writing what it took
(`settle`). Medians are printed, and the load average (1 min) before and after each run, since
the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from livecompanion.ingest.bridges import map_douyin  # noqa: E402
from tests.conftest import EXAMPLE_SCRIPT, start_server  # noqa: E402

TEXTS = ["这个多少钱", "有M码吗", "已拍", "主播好", "想要", "包邮吗", "❤️❤️", "链接在哪"]


def write_recording(path: Path, count: int, seed: int = 7) -> int:
    """A big Douyin room's mix as fetcher envelopes; returns the number of events it maps to."""
    rng = random.Random(seed)
    now = time.time_ns() // 1_000_000
    kinds = ["WebcastMemberMessage"] * 45 + ["WebcastLikeMessage"] * 30 + ["WebcastChatMessage"] * 20
    kinds += ["WebcastSocialMessage"] * 3 + ["WebcastGiftMessage"] * 2
    base = 7_300_000_000_000_000_000 + rng.randrange(10**15)
    events = 0
    with path.open("wb") as out:
        for i in range(count):
            method = rng.choice(kinds)
            uid = 50_000_000_000 + rng.randrange(300_000)
            payload: dict[str, object] = {
                "common": {"method": method, "msgId": str(base + i), "roomId": "7004347458255899428",
                           "createTime": str(now + i // 25)},
                "user": {"id": str(uid), "nickName": f"用户{uid % 100000}"},
            }  # fmt: skip
            if method == "WebcastChatMessage":
                payload["content"] = rng.choice(TEXTS)
            elif method == "WebcastLikeMessage":
                payload["count"] = rng.randint(1, 15)
            elif method == "WebcastSocialMessage":
                payload["action"] = 1
            message = {"method": method, "payload": payload}
            events += len(map_douyin(message))
            out.write(orjson.dumps(message) + b"\n")
    return events


def create_stream(base: str, operator: str) -> str:
    r = httpx.post(f"{base}/api/streams", content=EXAMPLE_SCRIPT.read_bytes(),
                   headers={"Authorization": f"Bearer {operator}", "Content-Type": "application/yaml"})  # fmt: skip
    r.raise_for_status()
    return str(r.json()["id"])


async def http_baseline(base: str, token: str, stream: str, bodies: list[bytes], clients: int = 4) -> float:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}

    async def worker(client: httpx.AsyncClient) -> int:
        stored = 0
        while not queue.empty():
            body = queue.get_nowait()
            while True:
                r = await client.post(f"{base}/api/streams/{stream}/events", content=body, headers=headers)
                if r.status_code == 503:
                    await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
                    continue
                r.raise_for_status()
                stored += r.json()["accepted"]
                break
        return stored

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=120) as client:
        stored = sum(await asyncio.gather(*(worker(client) for _ in range(clients))))
    return stored / (time.perf_counter() - started)


# Runs the bridge as its own child and reports only that child's peak RSS (the server is a child
# of this script too, so this script's RUSAGE_CHILDREN would mix the two).
PEAK_RSS = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
    "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(f'peak-rss-kb {u.ru_maxrss} cpu-s {u.ru_utime + u.ru_stime:.3f}', file=sys.stderr); "
    "sys.exit(code)"
)


def settle(base: str, operator: str, quiet_s: float = 1.0) -> None:
    """Wait until the service has written everything it took (no events pending in its writer)
    and then `quiet_s` more, so a run does not pay for the previous run's tail."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        stats = httpx.get(f"{base}/api/ingest/stats", headers={"Authorization": f"Bearer {operator}"}, timeout=30)
        if stats.status_code == 200 and not stats.json().get("pending_events"):
            break
        time.sleep(0.2)
    time.sleep(quiet_s)


def run_bridge(
    recording: Path, base: str, token: str, stream: str, spool: Path, drain: float = 120, rate: float | None = None,
    tree: Path = ROOT,
) -> dict[str, float]:
    """One `bridge douyin --from` process; `tree` is the source tree it runs from (its working
    directory comes first on the module path of `python -m`)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, sys.executable, "-m", "livecompanion", "bridge", "douyin",
         "--from", str(recording), "--stream", stream, "--url", base, "--token", token, "--spool", str(spool),
         "--drain-timeout", str(drain), *(["--rate", str(rate)] if rate else [])],
        capture_output=True, text=True, cwd=tree,
    )  # fmt: skip
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    latency = re.search(r"p50 (\d+) ms, p99 (\d+) ms", done.stderr)
    usage = re.search(r"peak-rss-kb (\d+) cpu-s ([\d.]+)", done.stderr)
    return {
        "wall": wall,
        "p50": float(latency.group(1)) if latency else float("nan"),
        "p99": float(latency.group(2)) if latency else float("nan"),
        "rss_mb": int(usage.group(1)) / 1024 if usage else float("nan"),
        "cpu_s": float(usage.group(2)) if usage else float("nan"),
    }


async def fresh_postgres() -> str:
    import asyncpg  # type: ignore[import-untyped]

    name = f"bench_bridge_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(host="127.0.0.1", user="postgres", database="postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1/{name}"


def stored_events(base: str, operator: str, stream: str) -> int:
    """Events the service stored for `stream`: lines of its event log."""
    with httpx.stream("GET", f"{base}/api/streams/{stream}/events", timeout=300,
                      headers={"Authorization": f"Bearer {operator}"}) as r:  # fmt: skip
        r.raise_for_status()
        return sum(1 for line in r.iter_lines() if line.strip())


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL database (else SQLite)")
    parser.add_argument("--rate", type=float, default=20_000, help="messages/s of the paced replay (latency)")
    parser.add_argument("--baseline-tree", type=Path, help="an older source tree whose bridge runs too (before)")
    args = parser.parse_args()
    trees: list[tuple[str, Path]] = [("this tree", ROOT)]
    if args.baseline_tree:
        trees.append(("baseline", args.baseline_tree.resolve()))

    with tempfile.TemporaryDirectory(prefix="bench-bridge-") as tmp_name:
        tmp = Path(tmp_name)
        recording = tmp / "room.ndjson"
        events = write_recording(recording, args.messages)
        size_mb = recording.stat().st_size / 1e6
        print(f"recording: {args.messages:,} Douyin messages ({size_mb:.0f} MB) -> {events:,} events")
        mapped = [e for line in recording.open("rb") for e in map_douyin(orjson.loads(line))]
        bodies = [b"\n".join(orjson.dumps(e) for e in mapped[i : i + 2000]) for i in range(0, len(mapped), 2000)]
        database_url = asyncio.run(fresh_postgres()) if args.postgres else None
        print(f"service database: {database_url or 'SQLite'}; trees: " + ", ".join(f"{n} {t}" for n, t in trees))
        server = start_server(tmp, database_url=database_url, extra_env={"LIVECOMPANION_MAX_TS_SKEW_HOURS": "24"})
        token, operator = server.tokens["ingest"], server.tokens["operator"]
        http_rates: list[float] = []
        loads: list[float] = []
        keys = ("rate", "ratio", "cpu_us", "rss", "p50", "p99", "stored")
        figures: dict[str, dict[str, list[float]]] = {name: {k: [] for k in keys} for name, _ in trees}
        try:
            for run in range(args.runs):
                loads.append(os.getloadavg()[0])
                posted_to = create_stream(server.base_url, operator)
                settle(server.base_url, operator)
                http_rates.append(asyncio.run(http_baseline(server.base_url, token, posted_to, bodies)))
                line = [f"run {run + 1} (load {loads[-1]:.1f}): service HTTP ingest {http_rates[-1]:,.0f} events/s"]
                for name, tree in trees if run % 2 == 0 else trees[::-1]:
                    f = figures[name]
                    stream = create_stream(server.base_url, operator)
                    settle(server.base_url, operator)
                    result = run_bridge(recording, server.base_url, token, stream, tmp / f"spool-{name}-{run}",
                                        tree=tree)  # fmt: skip
                    f["rate"].append(args.messages / result["wall"])
                    f["ratio"].append(f["rate"][-1] / http_rates[-1])
                    f["rss"].append(result["rss_mb"])
                    f["cpu_us"].append(result["cpu_s"] / args.messages * 1e6)
                    f["stored"].append(stored_events(server.base_url, operator, stream))
                    settle(server.base_url, operator)
                    paced = run_bridge(recording, server.base_url, token, create_stream(server.base_url, operator),
                                       tmp / f"spool-paced-{name}-{run}", rate=args.rate, tree=tree)  # fmt: skip
                    f["p50"].append(paced["p50"])
                    f["p99"].append(paced["p99"])
                    f["rss"].append(paced["rss_mb"])
                    line.append(f"{name}: {f['rate'][-1]:,.0f} messages/s end to end ({result['wall']:.1f} s, "
                                f"{f['cpu_us'][-1]:.1f} us CPU a message, {f['stored'][-1]:,.0f} stored), paced at "
                                f"{args.rate:,.0f}/s p50 {paced['p50']:.0f} ms p99 {paced['p99']:.0f} ms")  # fmt: skip
                loads.append(os.getloadavg()[0])
                print(" | ".join(line) + f" (load after {loads[-1]:.1f})", flush=True)
            # The backlog case (this tree): the service is away while the whole recording is read.
            stream = create_stream(server.base_url, operator)
            port = int(server.base_url.rsplit(":", 1)[1])
            tokens = server.tokens
            server.stop()
            away = run_bridge(recording, server.base_url, token, stream, tmp / "spool-away", drain=1)
            spooled = sum(p.stat().st_size for p in (tmp / "spool-away").glob("*.ndjson")) / 1e6
            server = start_server(tmp, database_url=database_url, tokens=tokens, port=port,
                                  extra_env={"LIVECOMPANION_MAX_TS_SKEW_HOURS": "24"})  # fmt: skip
            empty = tmp / "empty.ndjson"
            empty.write_text("")
            resent = run_bridge(empty, server.base_url, token, stream, tmp / "spool-away")
            stored = stored_events(server.base_url, operator, stream)
        finally:
            server.stop()
    print(f"\nmedians over {args.runs} runs (load average 1 min: {min(loads):.1f}-{max(loads):.1f}); "
          f"service HTTP ingest {median(http_rates):,.0f} events/s; targets >= 20,000 messages/s, p99 <= 500 ms")
    for name, _ in trees:
        f = figures[name]
        print(
            f"  {name}: bridge {median(f['rate']):,.0f} messages/s end to end ({median(f['ratio']):.2f} of the "
            f"service's HTTP rate); CPU {median(f['cpu_us']):.1f} us a message; paced at {args.rate:,.0f}/s push "
            f"latency p50 {median(f['p50']):.0f} ms, p99 {median(f['p99']):.0f} ms; peak RSS {max(f['rss']):.0f} MB; "
            f"stored {min(f['stored']):,.0f}-{max(f['stored']):,.0f} of {events:,} events"
        )
    if len(trees) == 2:
        new, old = figures[trees[0][0]], figures[trees[1][0]]
        print(f"  ratios this tree / baseline: end to end {median(new['rate']) / median(old['rate']):.2f}x, CPU a "
              f"message {median(new['cpu_us']) / median(old['cpu_us']):.2f}x, paced p99 "
              f"{median(new['p99']) / median(old['p99']):.2f}x")  # fmt: skip
    print(
        f"backlog: service stopped during the whole replay: bridge peak RSS {away['rss_mb']:.0f} MB, "
        f"{spooled:.0f} MB spooled to disk; after restart the spool was sent in {resent['wall']:.1f} s, "
        f"{stored:,} of {events:,} events stored"
    )


if __name__ == "__main__":
    main()
