"""Benchmark: the after-stream report over a 1,000,000-event log against merely parsing it.

    .venv/bin/python scripts/bench_report.py [--events 1000000] [--runs 5] [--seed 7]
                                             [--keep FILE | --log FILE] [--phases]

Generates a seeded, realistic event log (3 hours of a big room: entries and exits, impressions,
comments, likes, product impressions and clicks, orders with some refunds, platform viewer counts,
segments; about 2% of lines slightly out of order and 0.3% repeated ids), writes it as NDJSON
(`--keep FILE` keeps it; `--log FILE` uses a log kept before instead of generating one), then
times, in the same process, runs interleaved, the median of several runs of:

  parse:  the baseline: reading the file in 4 MB blocks split on newlines and `orjson.loads` of
          each line, nothing else (`eventlog.line_blocks`, unchanged since the goal was set);
  report: `livecompanion.analytics.cli.build_report_from_file`: everything `livecompanion report`
          does except printing (read, parse, validate with the ingest rules, sort, de-duplicate,
          compute every key of contract section 4 on the stream, segments and minutes, lay out);

and prints both and their ratio (goal: report <= 3x parse). For information only, also:

  naive:  the baseline iterating the file object instead;
  pieces: the report's own reading and decoding alone (the file mapped into memory, one
          `orjson.loads` per ~16 KB piece of lines, see `analytics.decode`), no validation.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from itertools import chain
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from livecompanion.analytics.cli import build_report_from_file  # noqa: E402
from livecompanion.analytics.eventlog import decoded_pieces, line_blocks  # noqa: E402
from livecompanion.analytics.pseudonym import Pseudonymizer  # noqa: E402

START_MS = 1_730_548_800_000  # 2024-11-02 20:00 Asia/Shanghai
HOURS = 3
SEGMENTS = ["open", "product-1", "value-1", "closing-1", "product-2", "value-2", "closing-2",
            "product-3", "value-3", "closing-3", "wrapup"]
SKUS = ["MASK-01", "SERUM-02", "CREAM-03"]
PHRASES = ["想要", "扣1", "拍了", "已下單", "主播好", "好看", "這款適合油皮嗎？", "多少錢", "什麼時候發貨",
           "有沒有贈品", "敏感肌可以用嗎", "哈哈哈", "來了來了", "上鏈接", "666", "學生黨能買嗎", "包郵嗎"]


def generate(path: Path, n_events: int, seed: int) -> None:
    """Write a seeded NDJSON log of about n_events events."""
    rng = random.Random(seed)
    duration = HOURS * 3600 * 1000
    step = duration / n_events
    n_users = max(1000, n_events // 12)
    in_room: list[str] = []
    room_pos: dict[str, int] = {}
    dumps = orjson.dumps
    seg_every = n_events // len(SEGMENTS)
    order_n = 0
    recent: list[bytes] = []
    with path.open("wb") as out:
        for i in range(n_events):
            ts = START_MS + int(i * step)
            if i % seg_every == 0 and i // seg_every < len(SEGMENTS):
                ev = {"type": "segment", "segment": SEGMENTS[i // seg_every], "ts": ts, "id": f"s{i}"}
            elif i % 2000 == 1:
                ev = {"type": "viewer_count", "count": len(in_room) + rng.randint(0, 50), "ts": ts,
                      "id": f"e{i}"}
            else:
                r = rng.random()
                user = f"u{int(rng.paretovariate(1.2) * 97) % n_users}"
                if in_room and r < 0.07:  # leave (now and then one that never entered)
                    if rng.random() < 0.02:
                        user = f"ghost{rng.randint(0, 999)}"
                    else:
                        k = rng.randrange(len(in_room))
                        user = in_room[k]
                        last = in_room.pop()
                        if last != user:
                            in_room[k] = last
                            room_pos[last] = k
                        del room_pos[user]
                    ev = {"type": "leave", "user_id": user, "ts": ts}
                elif r < 0.15:
                    if user not in room_pos:
                        room_pos[user] = len(in_room)
                        in_room.append(user)
                    ev = {"type": "enter", "user_id": user, "nickname": f"觀眾{user[1:]}", "ts": ts}
                elif r < 0.30:
                    ev = {"type": "impression", "user_id": user, "ts": ts}
                elif r < 0.60:
                    text = rng.choice(PHRASES) if rng.random() < 0.8 else f"{rng.choice(PHRASES)}{rng.randint(1, 99)}"
                    ev = {"type": "comment", "user_id": user, "nickname": f"觀眾{user[1:]}", "text": text,
                          "ts": ts}
                elif r < 0.84:
                    ev = {"type": "like", "user_id": user, "count": rng.randint(1, 20), "ts": ts}
                elif r < 0.92:
                    ev = {"type": "product_impression", "user_id": user, "sku": rng.choice(SKUS), "ts": ts}
                elif r < 0.96:
                    ev = {"type": "product_click", "user_id": user, "sku": rng.choice(SKUS), "ts": ts}
                elif r < 0.975:
                    ev = {"type": "share", "user_id": user, "ts": ts}
                elif r < 0.99:
                    ev = {"type": "follow", "user_id": user, "ts": ts}
                else:
                    order_n += 1
                    qty = rng.randint(1, 3)
                    status = "paid" if rng.random() < 0.85 else rng.choice(["created", "cancelled"])
                    ev = {"type": "order", "user_id": user, "order_id": f"o{order_n}", "sku": rng.choice(SKUS),
                          "qty": qty, "amount": f"{qty * 99}.90", "status": status, "ts": ts}
                    if status == "paid" and rng.random() < 0.05:
                        recent.append(dumps({**ev, "status": "refunded", "ts": ts + 600_000,
                                             "id": f"r{i}"}))
                ev["id"] = f"e{i}"
                ev["platform"] = "douyin"
                if rng.random() < 0.02:  # delivered late: earlier ts than the lines before it
                    ev["ts"] = ts - rng.randint(1, 2000)
            line = dumps(ev)
            out.write(line + b"\n")
            if rng.random() < 0.003:  # a bridge re-sent it
                out.write(line + b"\n")
            if recent and rng.random() < 0.01:
                out.write(recent.pop() + b"\n")
        for line in recent:
            out.write(line + b"\n")


def parse_only(path: Path) -> int:
    """The baseline: orjson.loads of every line, the file read in blocks split on \\n."""
    loads = orjson.loads
    n = 0
    with path.open("rb") as f:
        for line in chain.from_iterable(line_blocks(f)):
            loads(line)
            n += 1
    return n


def pieces_only(path: Path) -> int:
    """For information: the report's reader and decoder alone, no validation."""
    n = 0
    with path.open("rb") as f:
        for piece in decoded_pieces(f):
            n += len(piece)
    return n


def parse_only_naive(path: Path) -> int:
    """orjson.loads of every line, iterating the file object."""
    loads = orjson.loads
    n = 0
    with path.open("rb") as f:
        for line in f:
            loads(line)
            n += 1
    return n


def timed(fns: dict, runs: int) -> dict[str, list[tuple[float, float]]]:
    """(wall, cpu) seconds of each function, runs interleaved so that a busy machine slows all alike."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            gc.collect()
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            times[name].append((time.perf_counter() - w0, time.process_time() - c0))
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--keep", type=Path, help="write the log here and keep it")
    where.add_argument("--log", type=Path, help="use this log (kept before with --keep), generate none")
    ap.add_argument("--phases", action="store_true", help="also time the report's steps one by one")
    ap.add_argument("--before", type=Path, metavar="DIR",
                    help="also time the report of an earlier version, interleaved in this same run: DIR holds "
                         "a copy of its package renamed livecompanion_before (see BENCHMARKS.md)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.log or args.keep or Path(tmp) / "events.ndjson"
        if args.log is None:
            t0 = time.perf_counter()
            generate(path, args.events, args.seed)
            took = time.perf_counter() - t0
            print(f"log: {path} ({path.stat().st_size / 1e6:.1f} MB), generated in {took:.1f} s")
        else:
            print(f"log: {path} ({path.stat().st_size / 1e6:.1f} MB), kept before")
        lines = parse_only(path)
        alias = Pseudonymizer("bench")
        report = {}

        def run_report() -> None:
            nonlocal report
            report = build_report_from_file(path, None, pseudonymizer=alias, on_error=lambda *a: None)

        fns = {"parse": lambda: parse_only(path), "report": run_report,
               "naive": lambda: parse_only_naive(path), "pieces": lambda: pieces_only(path)}
        if args.before is not None:
            sys.path.insert(0, str(args.before))
            from livecompanion_before.analytics.cli import build_report_from_file as before_build
            from livecompanion_before.analytics.pseudonym import Pseudonymizer as BeforeAlias

            before_alias = BeforeAlias("bench")
            fns["before"] = lambda: before_build(path, None, pseudonymizer=before_alias, on_error=lambda *a: None)
        times = timed(fns, args.runs)
        print(f"lines: {lines:,}  accepted: {report['events']:,}  duplicates: {report['duplicates']:,}  "
              f"viewer_uv: {report['viewer_uv']:,}  gmv: {report['gmv']:,}")

        def med(name: str, i: int) -> float:
            return statistics.median(t[i] for t in times[name])

        for label, name in (("parse  (baseline: orjson, line by line)", "parse"),
                            ("report (livecompanion report)", "report"),
                            ("info: parse iterating the file object", "naive"),
                            ("info: the report's reading and decoding alone", "pieces")):
            runs = ", ".join(f"{c:.3f}" for _, c in times[name])
            print(f"{label}: median wall {med(name, 0):.3f} s, cpu {med(name, 1):.3f} s  (cpu runs: {runs})")
        if "before" in times:
            runs = ", ".join(f"{c:.3f}" for _, c in times["before"])
            print(f"report before (--before): median wall {med('before', 0):.3f} s, cpu {med('before', 1):.3f} s  "
                  f"(cpu runs: {runs})")
            print(f"ratio report-before/parse: wall {med('before', 0) / med('parse', 0):.2f}x, "
                  f"cpu {med('before', 1) / med('parse', 1):.2f}x")
        print(f"ratio report/parse: wall {med('report', 0) / med('parse', 0):.2f}x, "
              f"cpu {med('report', 1) / med('parse', 1):.2f}x  (goal <= 3x)")
        if args.phases:
            phases(path, args.runs)
    return 0


def phases(path: Path, runs: int) -> None:
    """CPU seconds of each step of the report (median), the cycle collector paused as in the report."""
    from livecompanion.analytics.collect import Collector, gc_paused
    from livecompanion.analytics.report import _Clock, _layout
    from livecompanion.analytics.windows import scan

    steps: dict[str, list[float]] = {"read+decode+validate": [], "sort+dedupe": [], "scan": [], "layout": [],
                                     "free": []}
    for _ in range(runs):
        gc.collect()
        with gc_paused():
            t0 = time.process_time()
            collector = Collector()
            with path.open("rb") as f:
                collector.add_batches(decoded_pieces(f), lambda *a: None, 1)
            t1 = time.process_time()
            table = collector.finish()
            t2 = time.process_time()
            result = scan(table)
            t3 = time.process_time()
            _layout(result, None, _Clock("UTC"), Pseudonymizer("bench"), len(table), table.duplicates, [], [],
                    None, 20)
            t4 = time.process_time()
            del collector, table, result
            t5 = time.process_time()
        for name, t in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            steps[name].append(t)
    print("steps (cpu s, median): " + ", ".join(f"{k} {statistics.median(v):.3f}" for k, v in steps.items()))


if __name__ == "__main__":
    raise SystemExit(main())
