"""The report accepts exactly what ingest accepts (parse_event), and keeps the same values."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from livecompanion.analytics.collect import Collector, EventTable, repeated_values
from livecompanion.events import parse_event
from livecompanion.events.models import EVENT_TYPES

RECEIVED = 1_700_000_000_000
ODD_TEXT = st.sampled_from(["u1", " u1", "u1 ", "", " ", "\u3000u1", "u1\x1c", "x" * 200, "x" * 201,
                            "用戶", "a b"])
VALUES = st.one_of(ODD_TEXT, st.none(), st.booleans(), st.integers(-3, 3), st.integers(10**13, 10**14 + 5),
                   st.floats(allow_nan=False, allow_infinity=False, width=32), st.just([1]),
                   st.sampled_from(["2024-11-02T20:00:00+08:00", "2024-11-02T20:00:00", "12.50", "7"]))
FIELDS = ["ts", "id", "user_id", "nickname", "platform", "text", "count", "sku", "segment", "order_id", "qty",
          "amount", "status"]


def _good(kind: str) -> dict[str, Any]:
    base: dict[str, Any] = {"type": kind, "ts": RECEIVED + 1, "id": "e1", "user_id": "u1"}
    extra = {"comment": {"text": "hi"}, "like": {"count": 2}, "viewer_count": {"count": 9},
             "product_impression": {"sku": "S"}, "product_click": {"sku": "S"}, "segment": {"segment": "s1"},
             "order": {"order_id": "o1", "sku": "S", "qty": 1, "amount": "9.90", "status": "paid"}}
    return {**base, **extra.get(kind, {})}


@st.composite
def raw_events(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from([*EVENT_TYPES, "dance", 5]))
    raw = _good(kind) if isinstance(kind, str) and kind in EVENT_TYPES else {"type": kind, "ts": RECEIVED}
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        if draw(st.booleans()):
            raw.pop(name, None)
        else:
            raw[name] = draw(VALUES)
    return draw(st.sampled_from([raw, raw, raw, [raw], "text"]))


def _collect(items: list[Any]) -> tuple[EventTable, list[tuple[int, str]]]:
    errors: list[tuple[int, str]] = []
    c = Collector(RECEIVED)
    c.add_values(items, lambda i, reason: errors.append((i, reason)))
    return c.finish(), errors


@settings(max_examples=1500, deadline=None)
@given(raw_events())
def test_same_acceptance_and_values_as_parse_event(raw: Any) -> None:
    table, errors = _collect([raw])
    try:
        event = parse_event(raw, RECEIVED)
    except ValueError as exc:
        assert errors == [(0, str(exc))]
        assert len(table) == 0
        return
    assert errors == []
    # A second event with the id ingest settled on: a duplicate only if both paths agree on the id.
    probe = {"type": "share", "ts": RECEIVED + 2, "user_id": "probe", "id": event.id or "other"}
    table, errors = _collect([raw, probe])
    expected, _ = _collect([event, probe])  # the typed-event path, no fast path involved
    assert errors == []
    assert table == expected


def test_ids_are_stripped_like_ingest_so_padded_copies_are_duplicates() -> None:
    table, errors = _collect([{"type": "comment", "ts": 1, "id": "x", "user_id": "u", "text": "a"},
                              {"type": "comment", "ts": 2, "id": " x ", "user_id": " u ", "text": "b"},
                              {"type": "like", "ts": 3, "id": 7, "user_id": 42},
                              {"type": "like", "ts": 4, "id": "7", "user_id": "42"}])
    assert errors == []
    assert table.duplicates == 2
    assert table.comments == [(1, "u", "a")]
    assert table.likes == [(3, "42", 1)]


def test_event_log_without_receive_time_rejects_events_without_ts() -> None:
    errors: list[tuple[int, str]] = []
    c = Collector(None)
    c.add_values([{"type": "comment", "user_id": "u", "text": "a"}], lambda i, r: errors.append((i, r)))
    assert len(c.finish()) == 0
    assert errors and errors[0][0] == 0 and "ts" in errors[0][1]


def test_columns_are_sorted_with_ties_in_input_order() -> None:
    table, _ = _collect([{"type": "enter", "ts": 5, "user_id": "b"}, {"type": "leave", "ts": 2, "user_id": "a"},
                         {"type": "enter", "ts": 5, "user_id": "a"}, {"type": "leave", "ts": 5, "user_id": "b"}])
    assert table.stays == [(2, "a", False), (5, "b", True), (5, "a", True), (5, "b", False)]
    assert table.span() == (2, 5)


def test_repeated_values_across_and_within_blocks() -> None:
    values = [f"v{i}" for i in range(10_000)] + ["v5", "v9999", "w", "w"]
    assert repeated_values(values, block=1000) == {"v5", "v9999", "w"}
    assert repeated_values([f"v{i}" for i in range(5000)], block=1000) == set()
