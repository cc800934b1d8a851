"""The second reading of rule-called questions (livecompanion/ingest/comments/qmodel.py): how it
segments, that the shipped weights load and are used, and that a malformed file says what is wrong.
Its figures (cross-validated on dev, once on the held-out part): scripts/train_question_model.py,
scripts/eval_comments.py, docs/comments-eval.md."""

from __future__ import annotations

import json

import pytest

from livecompanion.ingest.comments import classify_comment
from livecompanion.ingest.comments.classify import question_trigger
from livecompanion.ingest.comments.normalize import clean_text, key_of_clean
from livecompanion.ingest.comments.qmodel import (
    MODEL_FILE,
    QuestionModel,
    features,
    model_from_json,
    model_to_json,
    segment,
    shipped_model,
    train,
)


def test_segment_takes_the_longest_vocabulary_word() -> None:
    vocab = frozenset({"主播", "主播多", "多大"})
    assert segment("主播多大了", vocab) == ["主播多", "大", "了"]
    assert segment("你好", vocab) == ["你", "好"]


def test_features_hold_words_pairs_and_the_rule() -> None:
    found = features("主播多大", "strong", frozenset({"主播", "多大"}))
    assert {"w主播", "w多大", "ww^|主播", "ww主播|多大", "ww多大|$", "t:strong"} <= found


def test_the_shipped_model_loads_and_reads_rule_called_questions() -> None:
    model = shipped_model()
    assert model is not None and 0.5 <= model.threshold < 1 and len(model.vocabulary) > 100
    # A meme chant the rules call a question (six viewers in the dev set; the label is chat) and a
    # question the host answers: the model keeps the second and drops the first.
    chant = clean_text("你会打篮球🏀么")
    trigger = question_trigger(chant, key_of_clean(chant))
    assert trigger is not None and not model.keeps(chant, trigger)
    assert classify_comment("你会打篮球🏀么").kind == "chitchat"
    asked = clean_text("主播多大了")
    assert model.keeps(asked, question_trigger(asked, key_of_clean(asked)) or "")
    assert classify_comment("主播多大了").kind == "question"


def test_training_separates_a_toy_set_and_round_trips_through_json() -> None:
    vocab = frozenset({"多少钱", "慌不慌"})
    samples = [(features(t, "strong", vocab), y) for t, y in
               [("多少钱", 1), ("这个多少钱", 1), ("慌不慌", 0), ("右边慌不慌", 0)] * 5]
    weights, bias = train(samples, epochs=20)
    model = QuestionModel(vocab, weights, bias, 0.5)
    assert model.keeps("那个多少钱", "strong") and not model.keeps("左边慌不慌", "strong")
    again = model_from_json(json.loads(model_to_json(model, {"about": "test"})))
    assert again.vocabulary == vocab and again.threshold == 0.5
    assert again.keeps("那个多少钱", "strong") and not again.keeps("左边慌不慌", "strong")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"vocabulary": "主播", "weights": {}, "bias": 0, "threshold": 0.5}, "'vocabulary' must be a list"),
        ({"vocabulary": [], "weights": {"w主播": "high"}, "bias": 0, "threshold": 0.5}, "'weights' must map"),
        ({"vocabulary": [], "weights": {}, "bias": 0}, "'bias' and 'threshold' must be numbers"),
    ],
)
def test_a_malformed_model_says_what_is_wrong(body: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        model_from_json(body)
    assert MODEL_FILE in str(caught.value)
