"""Time the ad-law lint on 1 MB of text: `.venv/bin/python scripts/bench_adlaw.py [--baseline REF]`.

Two texts: host lines (a hit every ~30 characters, far denser than a real script) and random
CJK characters (almost no hits: the cost of scanning alone). With `--baseline REF` the lint as it
is at git REF (adlaw.py and adlaw_terms.yaml) is timed in the same run, alternating with the
current one; medians of the runs are printed with their ratio and the load average.
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from livecompanion.textnorm import fold  # noqa: E402

LINES = [
    "家人們晚上好，歡迎來到直播間，這是我第一次直播，大家多多支持。",
    "最近天氣乾燥，皮膚容易缺水，這款面膜補水效果非常好。",
    "最後三分鐘，還沒拍的家人們抓緊時間，最多買兩件。",
    "這是全網最低價，國家級品質，7天見效，絕對無副作用！",
    "玻尿酸補水面膜十片裝，直播間專屬價九十九元，買二送一。",
]


def load_module(ref: str | None) -> ModuleType:
    """This tree's lint, or the one at git REF (the same loader as scripts/eval_adlaw.py)."""
    if ref is None:
        return importlib.import_module("livecompanion.scripts.adlaw")
    from scripts.eval_adlaw import load_baseline

    return load_baseline(ref)


def once(module: ModuleType, text: str) -> tuple[float, int]:
    start = time.perf_counter()
    hits = len(module.find_ad_law_terms(text))
    return time.perf_counter() - start, hits


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", metavar="REF")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    modules = [("current", load_module(None))]
    if args.baseline:
        modules.insert(0, (f"baseline {args.baseline}", load_module(args.baseline)))
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    for name, module in modules:
        start = time.perf_counter()
        module._matcher(None)
        print(f"{name}: load + compile the built-in list: {(time.perf_counter() - start) * 1000:.1f} ms")
    rng = random.Random(1)
    script = ""
    while len(script) < 1_000_000:
        script += rng.choice(LINES) + "\n"
    noise = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(1_000_000))
    line = LINES[3]
    for label, text, repeat in (("host lines, 1 MB", script, 1), ("random CJK, 1 MB", noise, 1),
                                ("one host line x 2000", line, 2000)):
        start = time.perf_counter()
        fold(text)
        folding = time.perf_counter() - start
        times: dict[str, list[float]] = {name: [] for name, _ in modules}
        hits: dict[str, int] = {}
        for _ in range(args.runs):  # alternate, so that load changes hit both alike
            for name, module in modules:
                total = 0.0
                for _ in range(repeat):
                    seconds, hits[name] = once(module, text)
                    total += seconds
                times[name].append(total)
        medians = {name: statistics.median(ts) for name, ts in times.items()}
        parts = [f"{name} {medians[name]:.3f} s ({hits[name]:,} hits)" for name, _ in modules]
        ratio = f", ratio {medians['current'] / medians[modules[0][0]]:.2f}x" if args.baseline else ""
        print(f"{label} (fold {folding:.3f} s): " + "; ".join(parts) + ratio)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
