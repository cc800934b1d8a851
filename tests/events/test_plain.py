"""Ingest's pydantic-free path for the common events agrees with `parse_event`: whatever it takes,
parse_event takes too and stores the same event; what it does not take, it leaves to parse_event."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecompanion.events import parse_event
from livecompanion.events.models import event_to_dict
from livecompanion.events.plain import PLAIN_TYPES, plain_event, plain_model

RECEIVED = 1_700_000_000_000

NAME_EDGES = ["u1", "小林", "a" * 200, "a" * 201, "", " u1", "u1 ", "u\u3000", "\u3000", "u\x1f", "\x85u",
              "u\u00a0", "u\u2028", "x\ny", 0, 7, True, 1.0, None, ["u1"], {"a": 1}]
NAMES = st.one_of(st.sampled_from(NAME_EDGES), st.text(max_size=6), st.integers(), st.floats())
TS_EDGES = [RECEIVED, 0, -1, 10**14 - 1, 10**14, None, 1.7e12, True, "2026-12-04T05:00:00+08:00",
            "2026-12-04T05:00:00", "1700000000000"]
TS = st.one_of(st.sampled_from(TS_EDGES), st.integers(-2, 10**14 + 1))
COUNT_EDGES = [-1, 0, 1, 2, 1_000_000, 1_000_001, True, False, None, 2.0, "3"]
COUNTS = st.one_of(st.sampled_from(COUNT_EDGES), st.integers())
TEXT_EDGES = [*NAME_EDGES, "這款面膜適合油性皮膚嗎?", "x" * 2000, "x" * 2001, " 想要", "想要\n"]
TEXTS = st.one_of(st.sampled_from(TEXT_EDGES), st.text(max_size=6))
MISSING = object()


# A well-formed event of each type (only its own fields), for the edge cases to be put into.
WELL_FORMED: dict[Any, dict[str, Any]] = {
    kind: {"type": kind, "ts": RECEIVED, "user_id": "u1",
           **({"text": "想要"} if kind == "comment" else {}),
           **({"count": 2} if kind in ("like", "viewer_count") else {}),
           **({"sku": "MASK-01"} if kind.startswith("product_") else {})}
    for kind in sorted(PLAIN_TYPES)
}
STRATEGIES = {"ts": TS, "id": NAMES, "user_id": NAMES, "nickname": NAMES, "platform": NAMES, "text": TEXTS,
              "count": COUNTS, "sku": NAMES, "room": st.integers(0, 2), "extra": st.none()}
EDGES = {"ts": TS_EDGES, "id": NAME_EDGES, "user_id": NAME_EDGES, "nickname": NAME_EDGES,
         "platform": [*NAME_EDGES, "p" * 50, "p" * 51], "text": TEXT_EDGES, "count": COUNT_EDGES,
         "sku": [*NAME_EDGES, "s" * 100, "s" * 101], "type": ["order", "segment", "nope", 3, None],
         "room": [1], "extra": [None]}


@st.composite
def raw_events(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from([*sorted(PLAIN_TYPES), "order", "segment", "nope", 3, None]))
    fields: dict[str, Any] = {"type": kind}
    if kind in WELL_FORMED and draw(st.booleans()):
        fields = dict(WELL_FORMED[kind])
    for name, values in STRATEGIES.items():
        if draw(st.integers(0, 3)) == 0:
            value = draw(st.one_of(st.just(MISSING), values))
            fields.pop(name, None)
            if value is not MISSING:
                fields[name] = value
    return draw(st.one_of(st.just(fields), st.sampled_from([[fields], "x", 1, None])))


def _agrees(raw: Any) -> None:
    before = repr(raw)
    data = plain_event(raw, RECEIVED)
    assert repr(raw) == before  # the sender's dict is untouched
    if data is None:
        return  # deferred: parse_event decides, as before
    event = parse_event(raw, RECEIVED)  # must not raise
    assert data == event_to_dict(event)
    # The model the after-commit steps read is built from `data` without validating it again: the
    # same model, field for field, as parse_event's.
    model = plain_model(data)
    assert type(model) is type(event) and model == event and event_to_dict(model) == data


def test_every_edge_case_of_every_field_of_every_type_agrees() -> None:
    taken = 0
    for well_formed in WELL_FORMED.values():
        _agrees(well_formed)
        for name, edges in EDGES.items():
            for value in [MISSING, *edges]:
                raw = dict(well_formed)
                raw.pop(name, None)
                if value is not MISSING:
                    raw[name] = value
                _agrees(raw)
                taken += plain_event(raw, RECEIVED) is not None
    assert taken > 500  # the plain path was really exercised, not just deferring


@settings(max_examples=3000, deadline=None)
@given(raw_events())
def test_the_plain_path_takes_only_what_parse_event_takes_and_stores_the_same(raw: Any) -> None:
    _agrees(raw)


@pytest.mark.parametrize("raw", [
    {"type": "impression", "ts": RECEIVED, "user_id": "u1"},
    {"type": "enter", "ts": RECEIVED, "user_id": "u1", "id": "e1", "nickname": "小林", "platform": "douyin"},
    {"type": "comment", "ts": RECEIVED, "user_id": "u1", "text": "想要"},
    {"type": "like", "ts": RECEIVED, "user_id": "u1", "count": 5},
    {"type": "viewer_count", "ts": RECEIVED, "count": 0},
    {"type": "product_click", "ts": RECEIVED, "user_id": "u1", "sku": "MASK-01"},
])
def test_the_shapes_bridges_send_are_taken_as_they_are(raw: dict[str, Any]) -> None:
    assert plain_event(raw, RECEIVED) is raw


def test_missing_ts_unknown_fields_nulls_and_a_like_without_count_are_settled_like_parse_event() -> None:
    raw = {"type": "like", "user_id": "u1", "room": 7, "nickname": None}
    data = plain_event(raw, RECEIVED)
    assert data == {"type": "like", "user_id": "u1", "ts": RECEIVED, "count": 1}
    assert data == event_to_dict(parse_event(raw, RECEIVED))
    assert raw == {"type": "like", "user_id": "u1", "room": 7, "nickname": None}


@pytest.mark.parametrize("raw", [
    {"type": "order", "ts": RECEIVED, "user_id": "u1", "order_id": "A", "sku": "S", "qty": 1, "amount": "1",
     "status": "paid"},
    {"type": "segment", "ts": RECEIVED, "segment": "open"},
    {"type": "comment", "ts": "2026-12-04T05:00:00+08:00", "user_id": "u1", "text": "hi"},
    {"type": "comment", "ts": RECEIVED, "user_id": 12345, "text": "hi"},
    {"type": "comment", "ts": RECEIVED, "user_id": "u1", "text": " hi "},
    {"type": "comment", "ts": RECEIVED, "user_id": "u1", "text": ""},
    {"type": "enter", "ts": RECEIVED},
])
def test_other_shapes_are_left_to_parse_event(raw: dict[str, Any]) -> None:
    assert plain_event(raw, RECEIVED) is None
