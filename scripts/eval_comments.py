"""Measure comment understanding on real recorded live chat, and its cost per comment.

    .venv/bin/python scripts/eval_comments.py [--split tune|holdout|all] [--errors] [--bench N]
        [--baseline REF]

The set (tests/ingest/data/comments_real.jsonl, sources and labelling rules in
docs/comments-eval.md) holds comments nobody on the project wrote, each with the repository, path
and commit it came from. `tune` was used while the rules were written; `holdout` (other rooms and
platforms) was labelled before any rule was changed and only scored at the end.

Printed per split: precision and recall of `question` and `spam`, how many comments were called
`intent` (only holdout7 holds selling-room rows, read `in_selling_context`; elsewhere every
intent call is a false alarm), question grouping
(purity: different questions kept apart; completeness: one question kept together), and chant
detection on the timed Douyu log (the same text from many viewers within seconds).

`--baseline REF` also loads the comment code as it is at git REF (default: none) into a scratch
package and reports its figures and cost in the same run, so before/after share one machine state.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATA = ROOT / "tests" / "ingest" / "data" / "comments_real.jsonl"
KINDS = ("question", "intent", "spam", "chat")
# dev: tuned on and read for errors; heldout: labelled before the last round of rule changes, scored
# once at the end, never read for errors (docs/comments-eval.md). holdout4 was the held-out part
# until its first scoring (0.682 / 0.935, spam recall 0.10); it was then read and joined dev;
# holdout5 likewise (0.611 / 0.948, spam recall 0.22); holdout6 likewise (0.724 / 0.955, 0.83).
# holdout7 (third session, first round; it holds the only recorded selling-room comments found, rows
# with `selling`) likewise (0.705 / 0.843 for the rules; 0.771 / 0.725 with the question model, which
# therefore did not ship then). holdout8: third session, second round. Fourth session: the model,
# retrained on every part, ships; its figures here are in-sample (scripts/lopo_questions.py).
# holdout9 (fifth session, spam): 600 Douyu comments from windows chosen by contact-word density,
# labelled and committed before any spam rule change, scored once at the end (0.690 / 0.897), then dev.
# holdout10 (sixth session, questions): 400 LiveChat items never used and 200 Douyu lines from four
# never-used windows, chosen by a seeded draw, labelled and committed before any rule or model change;
# scored once (0.598 / 0.910), then dev. holdout11 (eighth session, questions): 300 never-used LiveChat
# items and three never-used Douyu windows drawn by scripts/draw_comment_part.py (seed 1111), labelled
# and committed before any rule or model change; scored once at the end (0.723 / 0.922, the same as
# main's), then dev. holdout12 (ninth session, questions): 300 never-used LiveChat items and three
# never-used Douyu windows drawn by scripts/draw_comment_part.py (seed 1212), labelled and committed before
# any rule or model change; scored once at the end of that session: 0.667 / 0.842 (main 0.649 / 0.842, the
# rules alone 0.646 / 0.930 for both). It joins dev when the next part is drawn.
PARTS: dict[str, tuple[str, ...]] = {
    "dev": ("tune", "holdout", "holdout2", "holdout3", "tune2", "tune3", "tune4", "tune5", "holdout4", "tune6",
            "holdout5", "holdout6", "holdout7", "holdout8", "holdout9", "tune7", "holdout10", "holdout11"),
    "heldout": ("holdout12",),
    # English (fifth session, i18-english): Twitch and YouTube replays, rules in docs/comments-eval.md.
    # en-holdout was scored once at the end (0.470 / 0.907 against main's 0.553 / 0.488), then read
    # for errors: its figures from then on are in-sample.
    # Second English round (i18-qen): en-holdout joined dev; en-holdout2 (two NASA launch-stream
    # replays, 822 comments) was labelled and committed before any code change, scored once at the end
    # (0.451 / 0.622), then read: dev. Third round: en-holdout3 (645: another dorozea stream, later
    # lines of the Demo-2 launch chat), labelled and committed before that round's rule change, scored
    # once at the end: 0.677 / 0.857 (main 0.672 / 0.878).
    "en-dev": ("en-dev", "en-holdout", "en-dev2", "en-holdout2"),
    "en-heldout": ("en-holdout3",),
}


def load_rows(path: Path = DEFAULT_DATA) -> list[dict[str, Any]]:
    rows = []
    for lineno, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("label") not in KINDS or not isinstance(row.get("text"), str):
            raise ValueError(f"{path}:{lineno}: needs text and a label among {KINDS}")
        if row["label"] == "question" and not row.get("group"):
            raise ValueError(f"{path}:{lineno}: a question needs its group")
        rows.append(row)
    return rows


def row_contexts(rows: list[dict[str, Any]], n: int = 8) -> list[list[int] | None]:
    """For each row, the rows recorded just before it in the same room (the previous lines of the same
    file version, as many of the last `n` as the set holds without a gap), newest first; None for rows
    that stand alone (LiveChat items, the selling-room excerpts). The live triage sees a room's
    comments in order, so this is the context it would have at run time (ninth session: read by
    scripts/lopo_questions.py for the `ctx` features, measured there, not shipped)."""
    where: dict[tuple[str, int], int] = {}
    for i, row in enumerate(rows):
        prefix, _, line = row["source"].rpartition("#")
        if line.isdigit():
            where[(prefix, int(line))] = i
    out: list[list[int] | None] = []
    for row in rows:
        prefix, _, line = row["source"].rpartition("#")
        if not line.isdigit():
            out.append(None)
            continue
        before: list[int] = []
        for back in range(1, n + 1):
            j = where.get((prefix, int(line) - back))
            if j is None:
                break
            before.append(j)
        out.append(before)
    return out


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _kind(module: ModuleType, text: str, selling: bool = False) -> str:
    analysis = module.classify_comment(text)
    if selling and hasattr(module, "in_selling_context"):  # recorded in a room with a sale running
        analysis = module.in_selling_context(analysis)
    return "chat" if analysis.kind == "chitchat" else analysis.kind


def classification(module: ModuleType, rows: list[dict[str, Any]]) -> dict[str, Any]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    errors = []
    for row in rows:
        kind = _kind(module, row["text"], bool(row.get("selling")))
        if kind == row["label"]:
            tp[kind] += 1
        else:
            fp[kind] += 1
            fn[row["label"]] += 1
            errors.append({"text": row["text"], "label": row["label"], "predicted": kind})
    return {
        "n": len(rows),
        "classes": {
            k: {"precision": _ratio(tp[k], tp[k] + fp[k]), "recall": _ratio(tp[k], tp[k] + fn[k]),
                "support": tp[k] + fn[k], "predicted": tp[k] + fp[k]}
            for k in KINDS
        },
        "errors": errors,
    }


def rules_alone(module: ModuleType, rows: list[dict[str, Any]]) -> tuple[float | None, float | None, int]:
    """Question precision, recall and calls of the rules without the second reading (the module's own
    `question_trigger` after its spam check), as earlier sessions quoted "the rules alone"."""
    classify = importlib.import_module(module.__name__ + ".classify")
    normalize = importlib.import_module(module.__name__ + ".normalize")
    spam = importlib.import_module(module.__name__ + ".spam")
    called = tp = gold = 0
    for row in rows:
        cleaned = normalize.clean_text(row["text"])
        asks = spam.spam_reason(cleaned) is None and classify.question_trigger(
            cleaned, normalize.key_of_clean(cleaned)) is not None
        called += asks
        gold += row["label"] == "question"
        tp += asks and row["label"] == "question"
    return _ratio(tp, called), _ratio(tp, gold), called


def grouping(module: ModuleType, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Gold questions fed to a board per source room and part, so groups never span rooms."""
    by_pred: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    by_gold: dict[tuple[str, str], Counter[int]] = defaultdict(Counter)
    boards: dict[str, Any] = {}
    n = 0
    for i, row in enumerate(r for r in rows if r["label"] == "question"):
        # One board per room and part: each part was labelled on its own, so group names agree within it.
        room = row["source"].rsplit("#", 1)[0] + "|" + row["split"]
        board = boards.setdefault(room, module.QuestionBoard())
        gid = board.add(row["text"], f"viewer-{i}", i * 1000).id
        by_pred[(room, gid)][row["group"]] += 1
        by_gold[(room, row["group"])][gid] += 1
        n += 1
    return {
        "questions": n,
        "purity": _ratio(sum(c.most_common(1)[0][1] for c in by_pred.values()), n),
        "completeness": _ratio(sum(c.most_common(1)[0][1] for c in by_gold.values()), n),
    }


def _ms(ts: str) -> int:
    return int(datetime.fromisoformat(ts).timestamp() * 1000)


# Chants in the timed Douyu log (Joxos/dytools danmu.csv), by text: what a person watching the
# replay calls "the room chanting" (three or more viewers, same words, within seconds).
GOLD_CHANTS = frozenset({"你会打篮球🏀么", "🤣👉🤡🤣👉🤡🤣👉🤡🤣👉🤡🤣👉🤡🤣👉🤡🤣", "前方高能", "nb", "？"})


def chants(module: ModuleType, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    timed = [r for r in rows if "ts" in r]
    if not timed or not hasattr(module, "CommentTriage"):
        return None
    triage = module.CommentTriage()
    hit = gold = caught = 0
    for row in timed:
        result = triage.handle(row["text"], row.get("user"), _ms(row["ts"]))
        flagged = bool(getattr(result, "chant", None)) or getattr(result.analysis, "spam_reason", None) == "flood"
        in_gold = row["text"].strip().replace("@想换小鱼干：", "") in GOLD_CHANTS
        gold += in_gold
        caught += flagged
        hit += flagged and in_gold
    return {"comments": len(timed), "chant_comments": gold, "flagged": caught,
            "recall": _ratio(hit, gold), "precision": _ratio(hit, caught)}


BENCH_PRODUCTS = ["玻尿酸補水面膜 10片", "MASK-01", "修護精華 30ml", "SERUM-02"]


def benchmark(module: ModuleType, rows: list[dict[str, Any]], comments: int, clock: Any = time.perf_counter) -> float:
    """Microseconds per comment through `CommentTriage.handle`, cache cleared first (`clock`:
    time.perf_counter, or time.process_time for the CPU of this process only)."""
    texts = [r["text"] for r in rows]
    stream = [texts[i % len(texts)] + ("" if i < len(texts) else f" {i}") for i in range(comments)]
    triage = module.CommentTriage()
    # The live path knows the show's products (the demo script's two, with their link numbers);
    # code from before the script was wired in takes names and skus only, or nothing.
    if hasattr(triage, "products"):
        try:
            triage.products(BENCH_PRODUCTS, links=2)
        except TypeError:
            triage.products(BENCH_PRODUCTS)
    start = clock()
    for i, text in enumerate(stream):
        triage.handle(text, f"viewer-{i % 5_000}", i * 2)  # 500 comments a second
    return (clock() - start) / comments * 1e6


def load_baseline(ref: str) -> ModuleType:
    """The comment package as it is at git `ref`, imported under another name."""
    scratch = Path(tempfile.mkdtemp(prefix="comments-baseline-"))
    files = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "-r", "--name-only", ref,
                            "livecompanion/ingest/comments", "livecompanion/textnorm.py"],
                           check=True, capture_output=True, text=True).stdout.split()
    for name in files:
        target = scratch / "baseline" / name.removeprefix("livecompanion/")
        target.parent.mkdir(parents=True, exist_ok=True)
        body = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:{name}"], check=True,
                              capture_output=True, text=True).stdout
        target.write_text(body.replace("livecompanion.", "baseline."), "utf-8")
    for package in (scratch / "baseline", scratch / "baseline" / "ingest"):
        (package / "__init__.py").touch()
    sys.path.insert(0, str(scratch))
    return importlib.import_module("baseline.ingest.comments")


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:.3f}"


def report(name: str, module: ModuleType, rows: list[dict[str, Any]], splits: list[str],
           errors: bool, rules: bool = False) -> None:
    for split in splits:
        wanted = PARTS.get(split, (split,))
        part = rows if split == "all" else [r for r in rows if r["split"] in wanted]
        cls = classification(module, part)
        grp = grouping(module, part)
        q, s, i = (cls["classes"][k] for k in ("question", "spam", "intent"))
        print(f"== {name} / {split}: {cls['n']} comments")
        print(f"   question  P {_fmt(q['precision'])}  R {_fmt(q['recall'])}  (support {q['support']}, "
              f"called {q['predicted']})")
        if rules:
            rp, rr, rc = rules_alone(module, part)
            print(f"   question, rules alone  P {_fmt(rp)}  R {_fmt(rr)}  (called {rc})")
        print(f"   spam      P {_fmt(s['precision'])}  R {_fmt(s['recall'])}  (support {s['support']})")
        if i["support"]:  # selling-room rows (holdout7)
            print(f"   intent    P {_fmt(i['precision'])}  R {_fmt(i['recall'])}  (support {i['support']})")
        else:
            print(f"   intent    called {i['predicted']} (none is buying intent: no selling room in this part)")
        print(f"   grouping  {grp['questions']} questions, purity {_fmt(grp['purity'])}, "
              f"completeness {_fmt(grp['completeness'])}")
        if errors:
            for err in cls["errors"]:
                print(f"     {err['label']:>8} -> {err['predicted']:<8} {err['text']}")
    ch = chants(module, rows)
    if ch:
        print(f"   chants on the timed log: {ch['chant_comments']} chant comments of {ch['comments']}, "
              f"flagged {ch['flagged']}, recall {_fmt(ch['recall'])}, precision {_fmt(ch['precision'])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--split", choices=[*PARTS, *PARTS["dev"], *PARTS["heldout"], *PARTS["en-dev"],
                                            *PARTS["en-heldout"], "all"],
                        default=None, help="default: dev and heldout, then each part")
    parser.add_argument("--errors", action="store_true", help="list misclassified comments")
    parser.add_argument("--bench", type=int, default=50_000, help="comments to time (0: skip)")
    parser.add_argument("--baseline", metavar="REF", help="also measure the code at this git ref")
    parser.add_argument("--rules", action="store_true", help="also the rules alone (no second reading)")
    parser.add_argument("--cpu", action="store_true", help="time with time.process_time (this process's CPU)")
    args = parser.parse_args(argv)

    rows = load_rows(args.data)
    default = ["dev", "heldout", "en-dev", "en-heldout", *PARTS["dev"], *PARTS["heldout"]]
    splits = [args.split] if args.split else default
    current = importlib.import_module("livecompanion.ingest.comments")
    modules = [("current", current)]
    if args.baseline:
        modules.insert(0, (f"baseline {args.baseline}", load_baseline(args.baseline)))
    from livecompanion.ingest.comments.qmodel import shipped_model

    if shipped_model() is not None:
        print("note: the shipped question model (qmodel.py) was trained on every dev part, so the current code's\n"
              "question figures on dev are in-sample (scripts/lopo_questions.py gives the honest ones); held-out\n"
              "parts are not trained on.")
    for name, module in modules:
        report(name, module, rows, splits, args.errors, args.rules)
    if args.bench > 0:
        runs: dict[str, list[float]] = {name: [] for name, _ in modules}
        clock = time.process_time if args.cpu else time.perf_counter
        for _ in range(5):  # alternate, medians: the machine is shared
            for name, module in modules:
                runs[name].append(benchmark(module, rows, args.bench, clock))
        medians = {name: sorted(v)[len(v) // 2] for name, v in runs.items()}
        for name, median in medians.items():
            print(f"== cost, {name}: {median:.1f} µs/comment (median of 5 runs of {args.bench}"
                  f"{', process CPU time' if args.cpu else ''})")
        if len(medians) == 2:
            before, after = medians.values()
            print(f"== cost ratio current/baseline: {after / before:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
