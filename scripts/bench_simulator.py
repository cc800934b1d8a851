"""How fast the demo simulator makes a big room's events (was a timed test; speed is a benchmark's).

    .venv/bin/python scripts/bench_simulator.py [--events 300000] [--runs 5]

Prints events a second for a 50,000-viewer room and, in the same run, for a 500-viewer room of the
same script (the baseline: what the size of the room costs), median of `--runs`, and the machine's
load average. The demo and the benchmarks need the simulator well above the rates they replay
(bench_ingest replays up to 100,000 events a second).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livecompanion.demo import SAMPLE_SCRIPT, load_script
from livecompanion.demo.simulator import Simulator


def rate(room: int, events: int) -> float:
    script = load_script(SAMPLE_SCRIPT)
    started = time.perf_counter()
    count = sum(1 for _ in itertools.islice(Simulator(script, seed=2, room_size=room).events(), events))
    return count / (time.perf_counter() - started)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=300_000)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    results = {}
    for room in (500, 50_000):  # interleaved runs would share the noise better; the room is the variable
        results[room] = statistics.median(rate(room, args.events) for _ in range(args.runs))
        print(f"room {room:>6,}: {results[room]:,.0f} events/s (median of {args.runs} x {args.events:,})")
    print(f"big room / small room: {results[50_000] / results[500]:.2f}")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
