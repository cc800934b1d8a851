"""`product_explain` (contract section 2) is validated alike by the ingest models, the plain fast path
(which defers it to them) and the report's collector; a script may carry it as a cue."""

from __future__ import annotations

from typing import Any

import pytest

from livecompanion.analytics.collect import Collector
from livecompanion.events import parse_event
from livecompanion.events.plain import plain_event
from livecompanion.scripts import check_text

T = 1_700_000_000_000
GOOD = {"type": "product_explain", "user_id": "host", "sku": "MASK-01", "action": "start", "ts": T}


@pytest.mark.parametrize("raw, reason", [
    ({**GOOD, "action": "pause"}, "action"),
    ({k: v for k, v in GOOD.items() if k != "sku"}, "sku"),
    ({**GOOD, "sku": ""}, "sku"),
    ({**GOOD, "sku": "x" * 101}, "sku"),
    ({k: v for k, v in GOOD.items() if k != "user_id"}, "user_id"),  # required on every type but two
])
def test_bad_explains_are_rejected_everywhere(raw: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_event(raw, T)
    assert plain_event(raw, T) is None
    errors: list[tuple[int, str]] = []
    collector = Collector(received_ms=T)
    collector.add_values([raw], lambda i, r: errors.append((i, r)))
    assert len(collector.finish()) == 0 and errors and reason in errors[0][1]


def test_a_good_explain_is_accepted_everywhere() -> None:
    event = parse_event(GOOD, T)
    assert (event.type, event.sku, event.action) == ("product_explain", "MASK-01", "start")
    assert plain_event(GOOD, T) is None  # rare: the pydantic way
    collector = Collector(received_ms=T)
    collector.add_values([GOOD, {**GOOD, "action": "stop", "ts": T + 5}], lambda i, r: pytest.fail(r))
    assert collector.finish().explains == [(T, "host", ("MASK-01", "start")), (T + 5, "host", ("MASK-01", "stop"))]


def test_a_script_cue_must_name_a_product() -> None:
    script = ("title: t\nproducts:\n  - {sku: A, name: a}\nsegments:\n  - id: s\n    kind: product\n"
              "    cues:\n      - {at: 0, action: product_explain, sku: B}\n      - {at: 0, action: product_explain,"
              " sku: A, mode: stop}\n")
    findings = [f.format() for f in check_text(script.encode(), "s.yaml").findings if f.severity == "error"]
    assert findings == ["s.yaml:8:47: error: segments[0].cues[0] (product_explain) names unknown sku 'B' (products: A)"]
