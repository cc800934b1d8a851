"""The second reading of rule-called questions (livecompanion/ingest/comments/qmodel.py): how it
segments, trains and round-trips, that none ships (it lost to the rules held out), and that a
malformed file says what is wrong.
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
    char_grams,
    features,
    features_of,
    flags,
    model_from_json,
    model_to_json,
    segment,
    shipped_model,
)


def test_segment_takes_the_longest_vocabulary_word() -> None:
    vocab = frozenset({"主播", "主播多", "多大"})
    assert segment("主播多大了", vocab) == ["主播多", "大", "了"]
    assert segment("你好", vocab) == ["你", "好"]


def test_features_hold_words_pairs_and_the_rule() -> None:
    found = features("主播多大", "strong", frozenset({"主播", "多大"}))
    assert {"w主播", "w多大", "ww^|主播", "ww主播|多大", "ww多大|$", "t:strong"} <= found


def test_no_model_ships_so_the_rules_decide() -> None:
    # Held out once (holdout7), the model traded recall for precision (0.705 / 0.843 -> 0.771 / 0.725):
    # it does not beat the rules, so no weights ship and a rule-called question stays one.
    assert shipped_model() is None
    asked = clean_text("你会打篮球🏀么")
    assert question_trigger(asked, key_of_clean(asked)) == "final"
    assert classify_comment("你会打篮球🏀么").kind == "question"


def test_flags_say_what_the_rules_do_not_weigh() -> None:
    found = flags(clean_text("你会打篮球么??"), "final")
    assert {"f:t=final", "f:last=么", "f:qmark", "f:qend", "f:qq", "f:you", "f:len3", "f:t=final|last=么"} <= found
    assert "f:you" not in flags(clean_text("几点下播"), "strong")
    assert {"c^几", "c几点", "c播$", "c几点下"} <= char_grams("几点下播")


def test_a_model_round_trips_through_json_with_its_feature_set() -> None:
    vocab = frozenset({"多少钱", "慌不慌"})
    weights = {"w多少钱": 3.0, "w慌不慌": -3.0, "f:you": -0.5}
    model = QuestionModel(vocab, weights, 0.0, 0.5, "words+flags")
    assert model.keeps("那个多少钱", "strong") and not model.keeps("左边慌不慌", "strong")
    assert "f:you" in features_of("words+flags", "你慌不慌", "anota", vocab)
    assert "f:you" not in features_of("words", "你慌不慌", "anota", vocab)
    again = model_from_json(json.loads(model_to_json(model, {"about": "test"})))
    assert again == model


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"vocabulary": "主播", "weights": {}, "bias": 0, "threshold": 0.5}, "'vocabulary' must be a list"),
        ({"vocabulary": [], "weights": {"w主播": "high"}, "bias": 0, "threshold": 0.5}, "'weights' must map"),
        ({"vocabulary": [], "weights": {}, "bias": 0}, "'bias' and 'threshold' must be numbers"),
        ({"vocabulary": [], "weights": {}, "bias": 0, "threshold": 0.5, "features": "bert"}, "'features' must be"),
    ],
)
def test_a_malformed_model_says_what_is_wrong(body: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        model_from_json(body)
    assert MODEL_FILE in str(caught.value)
