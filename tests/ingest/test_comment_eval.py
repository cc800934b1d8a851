"""The real labelled chat keeps the classifier honest (figures: scripts/eval_comments.py, sources and
labelling rules: docs/comments-eval.md). Minimums sit a little under what the rules reach, so a change
that loses a few percent on any part of the set fails; the author-written selling-room set guards
intent in a selling context."""

from __future__ import annotations

import importlib
import json
from collections import Counter
from pathlib import Path

import pytest

from livecompanion.ingest.comments import classify_comment, in_selling_context
from tests.load_script import load_script

ROOT = Path(__file__).resolve().parents[2]
OWN = ROOT / "tests" / "ingest" / "data" / "comments_labelled.jsonl"


EVAL = load_script("eval_comments")
ROWS = EVAL.load_rows()
COMMENTS = importlib.import_module("livecompanion.ingest.comments")


def test_the_set_is_real_sourced_and_split_by_room() -> None:
    assert len(ROWS) >= 1_500
    assert all(r["source"].count(":") >= 1 and "#" in r["source"] for r in ROWS)
    assert len({r["source"] for r in ROWS}) == len(ROWS)
    splits = Counter(r["split"] for r in ROWS)
    assert sum(v for k, v in splits.items() if k != "tune") >= 0.3 * len(ROWS)
    assert Counter(r["label"] for r in ROWS)["question"] >= 150


# (split, question precision, question recall, spam recall or None): a little under the figures.
FLOORS = [("tune", 0.78, 0.93, 0.95), ("holdout", 0.78, 0.9, 0.9), ("holdout2", 0.9, 0.95, None),
          ("holdout3", 0.88, 0.93, None), ("tune2", 0.9, 0.9, None), ("tune3", 0.84, 0.84, None),
          ("tune4", 0.85, 0.95, None), ("tune5", 0.78, 0.93, None), ("holdout4", 0.83, 0.95, 0.85),
          ("tune6", 0.75, 0.93, None),
          ("holdout5", 0.6, 0.9, 0.5),
          # held out, scored once at the end of issue 18's second session (0.724 / 0.955, spam 5 of 6):
          # a floor against regressions, not a goal
          ("holdout6", 0.7, 0.9, 0.8),
          # third session: holdout7 scored once (0.705 / 0.843), then read; holdout8 scored once at the end
          # (0.705 / 0.886). Floors against regressions, not goals.
          ("holdout7", 0.8, 0.9, None), ("holdout8", 0.68, 0.85, None),
          # fifth session: holdout9 (built for spam) scored once at the end (0.690 / 0.897, spam 0.958)
          ("holdout9", 0.65, 0.85, None),
          # sixth session: tune7 (200 LiveChat items) first scored 0.735 / 0.862 (rules), then dev; in-sample now
          ("tune7", 0.9, 0.82, None),
          # sixth session: holdout10 (questions) scored once at the end (0.598 / 0.910; rules alone 0.587)
          ("holdout10", 0.57, 0.88, 1.0),
          # eighth session: holdout11 (questions) scored once at the end (0.723 / 0.922, main the same)
          ("holdout11", 0.7, 0.9, None),
          # ninth session: holdout12 (questions) scored once at the end (0.667 / 0.842, main 0.649 / 0.842;
          # spam 1 of 1), held out: a floor against regressions, not a goal
          ("holdout12", 0.64, 0.82, 1.0)]
# Intent calls allowed on rows recorded outside a selling room: holdout7 holds link requests that
# name 有链接 / 上链接 in rooms that sell nothing ("有链接不小姐姐", "那还说啥了，上链接啊").
STRAY_INTENT = {"holdout7": 2}


@pytest.mark.parametrize(("split", "precision", "recall", "spam"), FLOORS)
def test_figures_per_part(split: str, precision: float, recall: float, spam: float | None) -> None:
    result = EVAL.classification(COMMENTS, [r for r in ROWS if r["split"] == split])
    q, s = (result["classes"][k] for k in ("question", "spam"))
    assert q["precision"] >= precision and q["recall"] >= recall, (q, result["errors"])
    if spam is not None:
        assert s["recall"] >= spam and s["precision"] == 1.0, (s, result["errors"])
    # Outside the few recorded selling-room rows (read in a selling context) every intent call is wrong.
    stray = [e for e in result["errors"] if e["predicted"] == "intent"]
    assert len(stray) <= STRAY_INTENT.get(split, 0), stray


def test_spam_on_holdout9() -> None:
    # 48 spam in 600 (scored once at the end of the fifth session: 0.979 / 0.958, one false call,
    # "代发主播关注了"): a floor against regressions, not a goal.
    s = EVAL.classification(COMMENTS, [r for r in ROWS if r["split"] == "holdout9"])["classes"]["spam"]
    assert s["recall"] >= 0.93 and s["precision"] >= 0.95, s


def test_grouping_keeps_rooms_questions_apart() -> None:
    result = EVAL.grouping(COMMENTS, [r for r in ROWS if r["split"] in EVAL.PARTS["dev"]])
    assert result["purity"] >= 0.93 and result["completeness"] >= 0.85, result


def test_chants_on_the_timed_log_are_never_false() -> None:
    result = EVAL.chants(COMMENTS, ROWS)
    assert result["precision"] == 1.0 and result["flagged"] >= 6, result


def test_author_written_selling_room_set_in_a_selling_context() -> None:
    rows = [json.loads(line) for line in OWN.read_text("utf-8").splitlines() if line.strip()]
    wrong = [r["text"] for r in rows if in_selling_context(classify_comment(r["text"])).kind != r["label"]]
    assert len(wrong) <= len(rows) * 0.02, wrong
