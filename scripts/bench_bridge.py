"""Bridge benchmark: a busy room's recording replayed with `livecompanion bridge --from` into a
running service, end to end, beside the service's own HTTP ingest rate in the same run.

    .venv/bin/python scripts/bench_bridge.py [--messages 200000] [--runs 3] [--postgres] [--rate 5000]

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
   paced replay (`--rate`, messages/s): p50/p99 of message read -> batch acknowledged.
5. Backlog: the same replay while the service is stopped (the bridge reads everything, keeps
   100,000 events in memory and the rest in its spool on disk): peak RSS, to show memory does not
   grow with the backlog; then the service is started and a second run with the same spool sends it.
Runs alternate baseline and bridge, `--runs` of each; medians are printed.
"""

from __future__ import annotations

import argparse
import asyncio
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


def run_bridge(
    recording: Path, base: str, token: str, stream: str, spool: Path, drain: float = 120, rate: float | None = None
) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, sys.executable, "-m", "livecompanion", "bridge", "douyin",
         "--from", str(recording), "--stream", stream, "--url", base, "--token", token, "--spool", str(spool),
         "--drain-timeout", str(drain), *(["--rate", str(rate)] if rate else [])],
        capture_output=True, text=True, cwd=ROOT,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL database (else SQLite)")
    parser.add_argument("--rate", type=float, default=5_000, help="messages/s of the paced replay (latency)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-bridge-") as tmp_name:
        tmp = Path(tmp_name)
        recording = tmp / "room.ndjson"
        events = write_recording(recording, args.messages)
        size_mb = recording.stat().st_size / 1e6
        print(f"recording: {args.messages:,} Douyin messages ({size_mb:.0f} MB) -> {events:,} events")
        mapped = [e for line in recording.open("rb") for e in map_douyin(orjson.loads(line))]
        bodies = [b"\n".join(orjson.dumps(e) for e in mapped[i : i + 2000]) for i in range(0, len(mapped), 2000)]
        database_url = asyncio.run(fresh_postgres()) if args.postgres else None
        print(f"service database: {database_url or 'SQLite'}")
        server = start_server(tmp, database_url=database_url, extra_env={"LIVECOMPANION_MAX_TS_SKEW_HOURS": "24"})
        token, operator = server.tokens["ingest"], server.tokens["operator"]
        http_rates: list[float] = []
        bridge_rates: list[float] = []
        p99s: list[float] = []
        p50s: list[float] = []
        rss: list[float] = []
        cpu_us: list[float] = []
        try:
            for run in range(args.runs):
                baseline_stream = create_stream(server.base_url, operator)
                http_rates.append(asyncio.run(http_baseline(server.base_url, token, baseline_stream, bodies)))
                result = run_bridge(recording, server.base_url, token, create_stream(server.base_url, operator),
                                    tmp / f"spool-{run}")  # fmt: skip
                bridge_rates.append(args.messages / result["wall"])
                rss.append(result["rss_mb"])
                cpu_us.append(result["cpu_s"] / args.messages * 1e6)
                paced = run_bridge(recording, server.base_url, token, create_stream(server.base_url, operator),
                                   tmp / f"spool-paced-{run}", rate=args.rate)  # fmt: skip
                p50s.append(paced["p50"])
                p99s.append(paced["p99"])
                print(f"run {run + 1}: service HTTP ingest {http_rates[-1]:,.0f} events/s | bridge "
                      f"{bridge_rates[-1]:,.0f} messages/s end to end ({result['wall']:.1f} s, "
                      f"{cpu_us[-1]:.1f} us CPU a message, unpaced latency p99 {result['p99']:.0f} ms) | "
                      f"paced at {args.rate:,.0f}/s: push latency p50 {paced['p50']:.0f} ms "
                      f"p99 {paced['p99']:.0f} ms")  # fmt: skip
            # The backlog case: the service is away while the whole recording is read.
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
            stored = httpx.get(f"{server.base_url}/api/streams/{stream}/report",
                               headers={"Authorization": f"Bearer {operator}"},
                               timeout=120).json()["events"]  # fmt: skip
        finally:
            server.stop()
    ratio = [b / h for b, h in zip(bridge_rates, http_rates, strict=True)]
    print(
        f"\nmedians over {args.runs} runs: bridge {statistics.median(bridge_rates):,.0f} messages/s end to end "
        f"(target >= 20,000), service HTTP ingest {statistics.median(http_rates):,.0f} events/s, ratio "
        f"{statistics.median(ratio):.2f}; bridge CPU {statistics.median(cpu_us):.1f} us a message (one core: "
        f"{1e6 / statistics.median(cpu_us):,.0f} messages/s); paced at {args.rate:,.0f}/s push latency p50 "
        f"{statistics.median(p50s):.0f} ms, p99 {statistics.median(p99s):.0f} ms (target <= 500); bridge peak "
        f"RSS {max(rss):.0f} MB"
    )
    print(
        f"backlog: service stopped during the whole replay: bridge peak RSS {away['rss_mb']:.0f} MB, "
        f"{spooled:.0f} MB spooled to disk; after restart the spool was sent in {resent['wall']:.1f} s, "
        f"{stored:,} of {events:,} events stored"
    )


if __name__ == "__main__":
    main()
