"""Measure comment understanding on the labelled set: precision/recall per class, intent signals,
question-grouping purity, and microseconds per comment.

    .venv/bin/python scripts/eval_comments.py [--data FILE] [--split dev|holdout|all] [--errors] [--bench N]

The labelled set (tests/ingest/data/comments_labelled.jsonl) has a `dev` split, used while the
rules were written, and a `holdout` split written at the same time but not looked at until the
rules were done: the holdout figures are the honest ones.

Grouping is scored on the labelled questions of a split, fed to a `QuestionBoard` in file order:
purity = share of questions whose predicted group's majority gold group is their own (merging
different questions lowers it); completeness = share of questions in the largest predicted group
of their gold group (splitting one question into several groups lowers it).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from livecompanion.ingest.comments import (  # noqa: E402
    COMMENT_KINDS,
    CommentTriage,
    QuestionBoard,
    classify_comment,
)

DEFAULT_DATA = ROOT / "tests" / "ingest" / "data" / "comments_labelled.jsonl"


def load_rows(path: Path = DEFAULT_DATA) -> list[dict[str, Any]]:
    rows = []
    for lineno, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("label") not in COMMENT_KINDS or not isinstance(row.get("text"), str):
            raise ValueError(f"{path}:{lineno}: needs text and a label among {COMMENT_KINDS}")
        if row["label"] == "question" and not row.get("group"):
            raise ValueError(f"{path}:{lineno}: a question needs its group")
        rows.append(row)
    return rows


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def classification(rows: list[dict[str, Any]]) -> dict[str, Any]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    signal = Counter()
    errors = []
    for row in rows:
        analysis = classify_comment(row["text"])
        if analysis.kind == row["label"]:
            tp[analysis.kind] += 1
        else:
            fp[analysis.kind] += 1
            fn[row["label"]] += 1
            errors.append({"text": row["text"], "label": row["label"], "predicted": analysis.kind})
        signal[(bool(row.get("intent_signal")), bool(analysis.intents))] += 1
    per_class = {
        kind: {
            "precision": _ratio(tp[kind], tp[kind] + fp[kind]),
            "recall": _ratio(tp[kind], tp[kind] + fn[kind]),
            "support": tp[kind] + fn[kind],
        }
        for kind in COMMENT_KINDS
    }
    return {
        "n": len(rows),
        "accuracy": _ratio(sum(tp.values()), len(rows)),
        "classes": per_class,
        "intent_signal": {
            "precision": _ratio(signal[(True, True)], signal[(True, True)] + signal[(False, True)]),
            "recall": _ratio(signal[(True, True)], signal[(True, True)] + signal[(True, False)]),
        },
        "errors": errors,
    }


def grouping(rows: list[dict[str, Any]]) -> dict[str, Any]:
    questions = [r for r in rows if r["label"] == "question"]
    board = QuestionBoard()
    predicted = [board.add(r["text"], f"viewer-{n}", n * 1_000).id for n, r in enumerate(questions)]
    by_predicted: dict[int, Counter[str]] = defaultdict(Counter)
    by_gold: dict[str, Counter[int]] = defaultdict(Counter)
    for row, gid in zip(questions, predicted):
        by_predicted[gid][row["group"]] += 1
        by_gold[row["group"]][gid] += 1
    n = len(questions)
    return {
        "questions": n,
        "gold_groups": len(by_gold),
        "predicted_groups": len(by_predicted),
        "purity": _ratio(sum(c.most_common(1)[0][1] for c in by_predicted.values()), n),
        "completeness": _ratio(sum(c.most_common(1)[0][1] for c in by_gold.values()), n),
    }


def evaluate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"classification": classification(rows), "grouping": grouping(rows)}


def benchmark(rows: list[dict[str, Any]], comments: int) -> dict[str, float]:
    """Microseconds per comment: `classify_comment` alone, and the full `CommentTriage.handle`."""
    texts = [r["text"] for r in rows]
    stream = [texts[i % len(texts)] for i in range(comments)]
    start = time.perf_counter()
    for text in stream:
        classify_comment(text)
    classify_us = (time.perf_counter() - start) / comments * 1e6
    triage = CommentTriage()
    start = time.perf_counter()
    for i, text in enumerate(stream):
        triage.handle(text, f"viewer-{i % 5_000}", i * 2)  # 500 comments a second, 5,000 viewers
    triage_us = (time.perf_counter() - start) / comments * 1e6
    return {"classify_us": classify_us, "triage_us": triage_us, "comments": comments}


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--split", choices=["dev", "holdout", "all"], default=None, help="default: each")
    parser.add_argument("--errors", action="store_true", help="list misclassified comments")
    parser.add_argument("--bench", type=int, default=50_000, help="comments to time (0: skip)")
    args = parser.parse_args(argv)

    rows = load_rows(args.data)
    splits = [args.split] if args.split else ["dev", "holdout", "all"]
    for split in splits:
        part = rows if split == "all" else [r for r in rows if r.get("split") == split]
        result = evaluate(part)
        cls, grp = result["classification"], result["grouping"]
        print(f"== {split}: {cls['n']} comments, accuracy {_fmt(cls['accuracy'])}")
        print(f"   {'class':<10}{'precision':>10}{'recall':>8}{'support':>9}")
        for kind, m in cls["classes"].items():
            print(f"   {kind:<10}{_fmt(m['precision']):>10}{_fmt(m['recall']):>8}{m['support']:>9}")
        sig = cls["intent_signal"]
        print(f"   intent signal  precision {_fmt(sig['precision'])}  recall {_fmt(sig['recall'])}")
        print(
            f"   grouping: {grp['questions']} questions, {grp['gold_groups']} gold groups -> "
            f"{grp['predicted_groups']} groups, purity {_fmt(grp['purity'])}, "
            f"completeness {_fmt(grp['completeness'])}"
        )
        if args.errors:
            for err in cls["errors"]:
                print(f"     {err['label']:>9} -> {err['predicted']:<9} {err['text']}")
    if args.bench > 0:
        bench = benchmark(rows, args.bench)
        print(
            f"== speed over {bench['comments']} comments: classify {bench['classify_us']:.1f} µs/comment, "
            f"full triage {bench['triage_us']:.1f} µs/comment"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
