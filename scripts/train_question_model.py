"""Train the second reading of rule-called questions (livecompanion/ingest/comments/qmodel.py).

    .venv/bin/pip install jieba scikit-learn   # training only: the package never imports them
    .venv/bin/python scripts/train_question_model.py [--write] [--variant words+flags] [--c 1.0] [--keep 0.97]

Data: every labelled part of tests/ingest/data/comments_real.jsonl (dev and the held-out parts,
all already scored once). Samples: every comment the rules call a question (spam excluded), labelled
by whether the label is `question`. Features: qmodel.FEATURE_SETS[variant].

First the honest figure: leave-one-part-out (scripts/lopo_questions.py), with the threshold of each
left-out part chosen by an inner leave-one-part-out on the other parts. Then the threshold to ship is
chosen by the same policy on the outer out-of-part scores of all parts, and `--write` trains on
every part and writes the model with the leave-one-part-out figures in it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import lopo_questions as lopo  # noqa: E402

from livecompanion.ingest.comments.qmodel import FEATURE_SETS, MODEL_FILE, QuestionModel, model_to_json  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", default="words+flags", choices=sorted(FEATURE_SETS))
    parser.add_argument("--c", type=float, default=1.0, help="inverse L2 strength")
    parser.add_argument("--keep", type=float, default=0.97,
                        help="threshold policy: keep this share of the true questions the rules call")
    parser.add_argument("--write", action="store_true", help="train on every part and write the model")
    args = parser.parse_args(argv)
    data = lopo.Data(lopo.chinese_rows(), "part")
    result = lopo.lopo(data, args.variant, args.c, None, keep=args.keep)
    lopo.print_table(data, lopo.rules(data), {f"{args.variant} C={args.c}": result}, "part")
    everything = list(range(len(data.rows)))
    threshold = lopo.keep_share(data, result["scores"], everything, args.keep)
    print(f"threshold to ship: {threshold} (keeps {args.keep} of the out-of-part true questions)")
    if args.write:
        model = lopo.fit(data, everything, args.variant, args.c, None)
        model = QuestionModel(model.vocabulary, model.weights, model.bias, threshold, args.variant)
        target = ROOT / "livecompanion" / "ingest" / "comments" / MODEL_FILE
        p, r = result["pooled"]
        extra = {"about": "scripts/train_question_model.py; livecompanion/ingest/comments/qmodel.py",
                 "trained_on": data.parts, "c": args.c, "keep": args.keep,
                 "samples": sum(t is not None for t in data.trigger),
                 "leave_one_part_out": {"pooled": [round(p, 3), round(r, 3)],
                                        "per_part": {k: [round(v["p"], 3), round(v["r"], 3), v["threshold"]]
                                                     for k, v in result["per"].items()}}}
        target.write_text(model_to_json(model, extra), "utf-8")
        print(f"wrote {target.relative_to(ROOT)}: {len(model.vocabulary)} words, {len(model.weights)} weights")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
