"""Draw a fresh held-out part of real chat by a recorded seed (issue 18; holdout11, eighth session).

    python scripts/draw_comment_part.py DEV_DATA_PK DANMU_2018 DANMU_2017 [SEED] > part_unlabelled.jsonl

SEED: 1111 drew holdout11 (eighth session), 1212 holdout12 (ninth session).

Inputs (the sources of docs/comments-eval.md, fetched from GitHub): gaojingsheng/LiveChat
`Dataset/ProcessedData/400kDialogueInPaper/dev_data.pk` @39a8bdd8 and miraclestar/DouyuCrawler
`danmu.txt` @53bc9b5af2d5 (2018) and @abda75205f2c (2017). The rule, fixed before reading anything:
300 LiveChat items no part has used, `random.Random(SEED).sample(sorted(unused), 300)`; then, with the
same generator, two 50-line windows of the 2018 file and one of the 2017 file, a window starting at
line 1, 51, 101 ..., every line carrying the same room id, more than 100 lines from any line of that
file version already in the set. The pickle is read with an unpickler that refuses every class.
Prints unlabelled rows (`text`, `source`); labels are added by hand, by the written rules.
"""

from __future__ import annotations

import json
import pickle
import random
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "tests" / "ingest" / "data" / "comments_real.jsonl"
SEED = 1111
PK_SOURCE = "gaojingsheng/LiveChat:Dataset/ProcessedData/400kDialogueInPaper/dev_data.pk@39a8bdd8b3fa"


class _ListsAndStrings(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused {module}.{name}")


def _windows(lines: list[str], used: set[int]) -> list[int]:
    starts = []
    for start in range(1, len(lines) - 49, 50):
        rooms = {m.group(1) if (m := re.match(r"(\d+),(\d+),", lines[n - 1])) else None
                 for n in range(start, start + 50)}
        if len(rooms) != 1 or None in rooms:
            continue
        if any(start - 100 <= u <= start + 149 for u in used):
            continue
        starts.append(start)
    return starts


def main() -> None:
    pk, danmu_2018, danmu_2017 = (Path(a) for a in sys.argv[1:4])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else SEED
    rows = [json.loads(line) for line in SET.read_text("utf-8").splitlines() if line.strip()]
    used_items: set[int] = set()
    used_lines: dict[str, set[int]] = {"53bc9b5af2d5": set(), "abda75205f2c": set()}
    for r in rows:
        if "dev_data.pk" in r["source"]:
            used_items.add(int(r["source"].split("#item")[1]))
        if m := re.match(r"miraclestar/DouyuCrawler:danmu.txt@([0-9a-f]+)#(\d+)$", r["source"]):
            used_lines[m.group(1)].add(int(m.group(2)))
    with pk.open("rb") as f:
        items = _ListsAndStrings(f).load()
    rng = random.Random(seed)
    unused = sorted(i for i in range(len(items)) if i not in used_items)
    out = [{"text": items[i][1], "source": f"{PK_SOURCE}#item{i}"} for i in rng.sample(unused, 300)]
    for commit, path, k in (("53bc9b5af2d5", danmu_2018, 2), ("abda75205f2c", danmu_2017, 1)):
        lines = path.read_text("utf-8").split("\n")
        for start in sorted(rng.sample(_windows(lines, used_lines[commit]), k)):
            print(f"{commit}: lines {start}-{start + 49}", file=sys.stderr)
            for n in range(start, start + 50):
                text = lines[n - 1].split(":", 1)[1] if ":" in lines[n - 1] else ""
                out.append({"text": text, "source": f"miraclestar/DouyuCrawler:danmu.txt@{commit}#{n}"})
    for row in out:
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
