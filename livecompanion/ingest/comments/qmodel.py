"""A second reading of comments the rules call questions: a small logistic regression on words.

Why: the rules find nearly every question (recall 0.93-0.97 on held-out real chat) but also call
taunts and rhetoric in question form questions (precision 0.61-0.72 held out). The phrasing of a
taunt is open-ended, so instead of more rules a model trained on the labelled real chat the package
ships (tests/ingest/data/comments_real.jsonl, the dev parts) weighs the words of each comment the
rules call a question and drops those it finds unlikely.

How it reads: words by greedy longest match against the model's own vocabulary (words jieba found
at least twice in the training chat; jieba is needed only to train, not here), with start and end
marks, word pairs, and which rule fired (a question word, a closing 吗, a bare "X 呢", only a
question mark, ...). Weights would be a small JSON file beside this module (`question_model.json`,
written by `scripts/train_question_model.py`); `classify_comment` uses it when present.

Measured (issue 18, third session): trained on the 4,370 dev comments of the time (587 rule-called questions),
leave-one-room-out cross-validation gave 0.870 / 0.900 question precision / recall at threshold
0.85 (rules 0.842 / 0.972, in-sample); on the fresh held-out part (holdout7, 451 comments), scored
once, it gave 0.771 / 0.725 against the rules' 0.705 / 0.843: more precise, but below the recall
goal and a lower F1. Retrained with that part in dev (CV 0.862 / 0.909 at 0.80), it gave 0.763 /
0.829 on the next fresh part (holdout8; rules 0.705 / 0.886). It does not beat the rules, so no
weights ship and the rules decide alone.
Cost when on: only rule-called questions are read (+11% per comment in the same run).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise

MODEL_FILE = "question_model.json"
MAX_WORD = 4  # longest vocabulary word tried, in characters


def segment(text: str, vocabulary: frozenset[str], max_word: int = MAX_WORD) -> list[str]:
    """Greedy longest match: at each position the longest vocabulary word, else one character."""
    words: list[str] = []
    i = 0
    while i < len(text):
        for size in range(min(max_word, len(text) - i), 0, -1):
            if size == 1 or text[i : i + size] in vocabulary:
                words.append(text[i : i + size])
                i += size
                break
    return words


def features(cleaned: str, trigger: str, vocabulary: frozenset[str]) -> set[str]:
    """The model's features of one cleaned comment and the rule that called it a question."""
    words = ["^", *(w for w in segment(cleaned, vocabulary) if w.strip()), "$"]
    found = {"w" + w for w in words}
    found.update(f"ww{a}|{b}" for a, b in pairwise(words))
    found.add("t:" + trigger)
    return found


@dataclass(frozen=True, slots=True)
class QuestionModel:
    vocabulary: frozenset[str]
    weights: Mapping[str, float]
    bias: float
    threshold: float

    def probability(self, cleaned: str, trigger: str) -> float:
        z = self.bias + sum(self.weights.get(f, 0.0) for f in features(cleaned, trigger, self.vocabulary))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def keeps(self, cleaned: str, trigger: str) -> bool:
        """Whether a comment the rules call a question stays one."""
        return self.probability(cleaned, trigger) >= self.threshold


def model_from_json(data: Mapping[str, object]) -> QuestionModel:
    """Build a model from its JSON form, saying what is wrong with a malformed one."""
    vocabulary, weights = data.get("vocabulary"), data.get("weights")
    bias, threshold = data.get("bias"), data.get("threshold")
    if not isinstance(vocabulary, list) or not all(isinstance(w, str) for w in vocabulary):
        raise ValueError(f"{MODEL_FILE}: 'vocabulary' must be a list of words")
    if not isinstance(weights, dict) or not all(isinstance(v, int | float) for v in weights.values()):
        raise ValueError(f"{MODEL_FILE}: 'weights' must map features to numbers")
    if not isinstance(bias, int | float) or not isinstance(threshold, int | float):
        raise ValueError(f"{MODEL_FILE}: 'bias' and 'threshold' must be numbers")
    return QuestionModel(frozenset(vocabulary), {str(k): float(v) for k, v in weights.items()},
                         float(bias), float(threshold))


def model_to_json(model: QuestionModel, extra: Mapping[str, object] | None = None) -> str:
    body: dict[str, object] = dict(extra or {})
    body.update(vocabulary=sorted(model.vocabulary), bias=round(model.bias, 4),
                threshold=model.threshold, weights={k: round(v, 4) for k, v in sorted(model.weights.items())})
    return json.dumps(body, ensure_ascii=False, indent=0, sort_keys=False) + "\n"


@lru_cache(maxsize=1)
def shipped_model() -> QuestionModel | None:
    """The model beside this module, or None when the package ships none."""
    ref = resources.files(__package__ or "livecompanion.ingest.comments").joinpath(MODEL_FILE)
    if not ref.is_file():
        return None
    return model_from_json(json.loads(ref.read_text("utf-8")))


def train(samples: Iterable[tuple[set[str], int]], l2: float = 1.0, epochs: int = 30, rate: float = 0.2,
          seed: int = 0) -> tuple[dict[str, float], float]:
    """Logistic regression by stochastic gradient descent with L2 (the bias unpenalised). Pure
    Python: a few hundred short comments train in seconds; deterministic for a seed."""
    import random

    data = list(samples)
    weights: dict[str, float] = {}
    bias = 0.0
    order = list(range(len(data)))
    rnd = random.Random(seed)
    n = max(1, len(data))
    for _ in range(epochs):
        rnd.shuffle(order)
        for i in order:
            feats, label = data[i]
            z = bias + sum(weights.get(f, 0.0) for f in feats)
            g = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))) - label
            bias -= rate * g
            for f in feats:
                w = weights.get(f, 0.0)
                weights[f] = w - rate * (g + l2 * w / n)
    return weights, bias
