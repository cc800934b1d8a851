"""What a stored stream's report costs as the team's record grows (the history bands, issue 13).

    .venv/bin/python scripts/bench_history.py [--streams 60] [--events 400] [--baseline-tree DIR]

One `livecompanion serve` (SQLite, in-process fan-out) per tree. `--streams` streams are created
from examples/autumn-hydration.yaml, each given `--events` audience events over HTTP (enters,
comments, product clicks, paid orders, segments); then the report of the last stream is read
twice (`GET /api/streams/{id}/report`): the first read computes it and its history, the second
shows what a new event costs when nothing earlier changed (one event is posted between the reads,
so the stream's own report is not answered from the render cache). Printed per tree: the two
reads' seconds and the history's stream count. With `--baseline-tree`, that checkout (its own
.venv) runs first: before and after in one run. A report past the server's time budget answers
503 + Retry-After; the script asks again and counts the whole wait.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "autumn-hydration.yaml"
SEGMENTS = ["open", "mask-intro", "mask-value", "mask-close", "serum-intro", "serum-close", "wrapup-1"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def events(n: int, t0: int, salt: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for i in range(n):
        ts = t0 + i * 500
        user = f"{salt}-u{i % 97}"
        if i % 60 == 0:
            out.append({"type": "segment", "segment": SEGMENTS[(i // 60) % len(SEGMENTS)], "ts": ts})
        elif i % 5 == 0:
            out.append({"type": "enter", "user_id": user, "ts": ts})
        elif i % 7 == 0:
            out.append({"type": "product_click", "user_id": user, "sku": "mask-01", "ts": ts})
        elif i % 11 == 0:
            out.append({"type": "order", "id": f"{salt}-o{i}", "order_id": f"{salt}-o{i}", "user_id": user,
                        "sku": "mask-01", "qty": 1, "amount": 99, "status": "paid", "ts": ts})
        else:
            out.append({"type": "comment", "user_id": user, "text": f"這款適合油性皮膚嗎 {i}", "ts": ts})
    return out


def report_seconds(client: httpx.Client, url: str, headers: dict[str, str]) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    while True:
        r = client.get(url, headers=headers)
        if r.status_code == 503:
            time.sleep(float(r.headers.get("Retry-After", "1")))
            continue
        r.raise_for_status()
        return time.perf_counter() - started, r.json()


def run(tree: Path, streams: int, n_events: int, data: Path) -> tuple[float, float, int]:
    tokens = {role: f"{role}-{secrets.token_hex(6)}" for role in ("operator", "ingest", "viewer")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVECOMPANION_")}
    env.update({f"LIVECOMPANION_{role.upper()}_TOKEN": tok for role, tok in tokens.items()})
    env["LIVECOMPANION_DATA_DIR"] = str(data)
    port = free_port()
    log = (data / "server.log").open("wb")
    server = subprocess.Popen([str(tree / ".venv/bin/python"), "-m", "livecompanion", "serve", "--port", str(port),
                               "--log-level", "warning"], cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    op = {"Authorization": f"Bearer {tokens['operator']}"}
    ing = {"Authorization": f"Bearer {tokens['ingest']}"}
    try:
        with httpx.Client(timeout=600) as client:
            for _ in range(200):
                try:
                    if client.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            t0 = int(time.time() * 1000) - n_events * 500 - 60_000
            last = ""
            for k in range(streams):
                created = client.post(f"{base}/api/streams", content=SCRIPT.read_bytes(), headers=op)
                created.raise_for_status()
                last = created.json()["id"]
                r = client.post(f"{base}/api/streams/{last}/events", json=events(n_events, t0, f"s{k}"), headers=ing)
                r.raise_for_status()
            url = f"{base}/api/streams/{last}/report"
            first, report = report_seconds(client, url, op)
            client.post(f"{base}/api/streams/{last}/events", headers=ing,
                        json=[{"type": "comment", "user_id": "late", "text": "還有嗎", "ts": int(time.time() * 1000)}])
            second, _ = report_seconds(client, url, op)
            history = report.get("history") or {}
            return first, second, int(history.get("streams", 0)) if isinstance(history, dict) else 0
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, default=60)
    ap.add_argument("--events", type=int, default=400)
    ap.add_argument("--baseline-tree", type=Path)
    args = ap.parse_args()
    trees = ([("baseline", args.baseline_tree.resolve())] if args.baseline_tree else []) + [("this tree", ROOT)]
    print(f"load average at start: {Path('/proc/loadavg').read_text().split()[:3]}")
    print(f"{args.streams} streams of {args.events} events each; the last stream's report, read twice")
    print("| code | first read s | second read s (one new event) | history streams |")
    print("| --- | --- | --- | --- |")
    for name, tree in trees:
        data = Path(f"/tmp/bench_history-{os.getpid()}-{name.replace(' ', '_')}")
        data.mkdir(parents=True, exist_ok=True)
        first, second, n = run(tree, args.streams, args.events, data)
        print(f"| {name} | {first:.2f} | {second:.2f} | {n} |", flush=True)
    print(f"load average at end: {Path('/proc/loadavg').read_text().split()[:3]}")
    sys.exit(0)


if __name__ == "__main__":
    main()
