"""CPU of the live numbers' question top (`QuestionBoard.top(20)`, asked after every commit with a
question) over real comments, one tree at a time; run it with each tree's interpreter, same seed:

    /work/wt/base/.venv/bin/python scripts/bench_question_top.py
    .venv/bin/python scripts/bench_question_top.py

20,000 real comments (tests/ingest/data/comments_real.jsonl, random users of 900) fill a room's
board, then 9 rounds of 200 commits of 35 comments each, `top(20)` after each commit: the median
over the rounds of the CPU of one `top(20)` call (time.process_time).
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    sys.path.insert(0, str(Path.cwd()))
    from livecompanion.ingest.comments import CommentTriage

    lines = (ROOT / "tests/ingest/data/comments_real.jsonl").read_text().splitlines()
    texts = [json.loads(line)["text"] for line in lines]
    rng = random.Random(1)
    triage = CommentTriage()
    ts = 1_000_000
    for _ in range(20_000):
        ts += 2
        triage.handle(rng.choice(texts), f"u{rng.randrange(900)}", ts)
    board = triage.questions
    board.top(20)
    rounds = []
    for _ in range(9):
        spent = 0.0
        for _ in range(200):
            for _ in range(35):
                ts += 2
                triage.handle(rng.choice(texts), f"u{rng.randrange(900)}", ts)
            started = time.process_time()
            board.top(20)
            spent += time.process_time() - started
        rounds.append(spent / 200 * 1e6)
    print(f"{Path.cwd()}: {len(board)} groups; top(20) after a commit: {statistics.median(rounds):.1f} us "
          f"(median of 9 rounds: {', '.join(f'{r:.0f}' for r in rounds)})")


if __name__ == "__main__":
    main()
