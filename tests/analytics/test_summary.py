"""The 複盤 summary and the history bands: every number a sentence states is a figure of the report."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from livecompanion.analytics.history import history_of
from livecompanion.scripts import check_text
from tests.analytics.helpers import report
from tests.analytics.sample import SCRIPT_YAML, sample_events, sample_flash_sales, sample_lotteries

NUMBER = re.compile(r"\d+(?:\.\d+)?%?")


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def _written(value: float) -> set[str]:
    """How the summary may write a figure: as an integer, with up to two decimals, or a rate in %."""
    out = {f"{value * 100:.1f}%"}
    if float(value).is_integer():
        out.add(str(int(value)))
    out.add(f"{value:.2f}".rstrip("0").rstrip("."))
    return out


def _check(r: dict[str, Any]) -> None:
    leaves = list(_leaves(r))
    numbers = set().union(*(_written(v) for v in leaves if isinstance(v, (int, float)) and not isinstance(v, bool)))
    texts = sorted({v for v in leaves if isinstance(v, str) and len(v) > 1}, key=len, reverse=True)
    assert r["summary"]
    for sentence in r["summary"]:
        rest = sentence
        for text in texts:  # names, questions, seeds come from the report as text, digits and all
            rest = rest.replace(text, " ")
        for token in NUMBER.findall(rest):
            assert token in numbers, (token, sentence)


def test_every_number_in_the_summary_is_a_figure_of_the_report() -> None:
    script = check_text(SCRIPT_YAML.encode(), "s").script
    earlier = [report(sample_events(seed), script) for seed in (4, 5, 6)]
    r = report(sample_events(), script, flash_sales=sample_flash_sales(), lotteries=sample_lotteries(),
               history=earlier)
    _check(r)
    text = "\n".join(r["summary"])
    assert "對比歷史 3 場" in text and "售罄" in text and "抽獎「想要」87 人參與" in text
    platform_like = report([e for e in sample_events() if e["type"] != "leave"], script)
    _check(platform_like)
    assert any("沒有離場事件" in s for s in platform_like["summary"])


def test_history_median_and_best_quarter() -> None:
    earlier = [{"start": "x", "gmv": v, "refund_amount": v / 10} for v in (100, 200, 300, 400, 1000)]
    h = history_of({"gmv": 350, "refund_amount": 5}, [*earlier, {"start": None, "gmv": 10**9}])
    assert h["streams"] == 5
    g = h["figures"]["gmv"]
    assert (g["median"], g["best_quarter"], g["n"], g["in_best_quarter"]) == (300, 400, 5, False)
    assert g["vs_median"] == pytest.approx(350 / 300, abs=1e-4)
    refunds = h["figures"]["refund_amount"]  # less is better: the lower quartile
    assert (refunds["best_quarter"], refunds["in_best_quarter"]) == (20, True)
    assert history_of({"gmv": 1}, [])["figures"]["gmv"]["median"] is None
