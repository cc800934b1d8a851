"""Time the ad-law lint on 1 MB of text: `.venv/bin/python scripts/bench_adlaw.py`.

Two texts: host lines (a hit every ~30 characters, far denser than a real script) and random
CJK characters (almost no hits: the cost of scanning alone). Prints the best of three runs.
"""

from __future__ import annotations

import random
import time

from livecompanion.scripts.adlaw import _matcher, find_ad_law_terms
from livecompanion.textnorm import fold

LINES = [
    "家人們晚上好，歡迎來到直播間，這是我第一次直播，大家多多支持。",
    "最近天氣乾燥，皮膚容易缺水，這款面膜補水效果非常好。",
    "最後三分鐘，還沒拍的家人們抓緊時間，最多買兩件。",
    "這是全網最低價，國家級品質，7天見效，絕對無副作用！",
    "玻尿酸補水面膜十片裝，直播間專屬價九十九元，買二送一。",
]


def best_of_three(text: str) -> tuple[float, int]:
    best, hits = float("inf"), 0
    for _ in range(3):
        start = time.perf_counter()
        hits = len(find_ad_law_terms(text))
        best = min(best, time.perf_counter() - start)
    return best, hits


def main() -> None:
    rng = random.Random(1)
    start = time.perf_counter()
    _matcher(None)
    print(f"load + compile the built-in list: {(time.perf_counter() - start) * 1000:.1f} ms")
    script = ""
    while len(script) < 1_000_000:
        script += rng.choice(LINES) + "\n"
    noise = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(1_000_000))
    for name, text in (("host lines", script), ("random CJK", noise)):
        start = time.perf_counter()
        fold(text)
        folding = time.perf_counter() - start
        seconds, hits = best_of_three(text)
        print(f"{name}: {len(text):,} chars, {hits:,} hits, {seconds:.3f} s (of which fold {folding:.3f} s)")


if __name__ == "__main__":
    main()
