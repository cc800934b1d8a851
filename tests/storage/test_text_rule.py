"""The text rule (livecompanion/text.py) at every door, and its point: SQLite and PostgreSQL accept and
refuse exactly the same inputs (issue 13 items 2 and 3: a NUL byte was stored by SQLite, gave 500s
on PostgreSQL and lost whole batches there)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livecompanion.events import EventError, parse_event
from livecompanion.events.plain import plain_event
from livecompanion.ingest.rows import records_of_values
from livecompanion.ingest.store import make_store
from livecompanion.scripts import check_text as check_script
from livecompanion.scripts.models import Script
from livecompanion.storage import streams
from livecompanion.storage.db import Database
from livecompanion.storage.migrate import upgrade_async
from livecompanion.text import for_display, text_fault

SCRIPT = Script.model_validate({"title": "t", "segments": [{"kind": "opening", "target": "5m"}]})

# Characters that matter here: controls (refused), tab and line breaks (kept), bidi overrides (kept,
# neutralised on display), a lone surrogate (refused), and ordinary text.
_CHARS = st.sampled_from(["\x00", "\x01", "\x1b", "\x7f", "\x85", "\t", "\n", "\r", "\u202e", "\ud800",
                          "a", "中", " ", "😀"])
_TEXT = st.text(_CHARS, min_size=1, max_size=6).map(lambda s: "x" + s + "y")  # no blanks at the ends
_FIELD = st.sampled_from(["id", "user_id", "nickname", "platform", "text"])


def test_the_rule_itself() -> None:
    assert text_fault("plain 中文 😀\twith\nlines\r\n") is None
    assert text_fault("a\u202eb") is None  # stored as sent; neutralised on display
    fault = text_fault("ab\x00c")
    assert fault is not None and "U+0000" in fault and "position 3" in fault
    assert text_fault("a\x85") is not None and text_fault("\ud800") is not None
    assert for_display("abc\u202egnp.exe") == "abcgnp.exe"


@pytest.mark.parametrize("field", ["id", "user_id", "nickname", "platform", "text"])
def test_an_event_with_a_nul_is_refused_alone_with_its_reason(field: str) -> None:
    good = {"type": "comment", "user_id": "u1", "text": "hi", "ts": 1_700_000_000_000}
    bad = {**good, field: "a\x00b"}
    errors: list[EventError] = []
    records = records_of_values("s", [(0, good), (1, bad), (2, {**good, "id": "e2"})], 1, errors)
    assert [r.data.get("id") for r in records] == [None, "e2"]
    assert [e.index for e in errors] == [1]
    assert errors[0].reason.startswith(f"{field}: ") and "U+0000" in errors[0].reason
    assert plain_event(bad, 1) is None  # the fast path defers; parse_event words the refusal


def test_every_string_field_of_every_type_obeys_the_rule() -> None:
    order = {"type": "order", "user_id": "u", "order_id": "o1", "sku": "S1", "qty": 1, "amount": "1",
             "status": "paid", "ts": 1}
    for field in ("order_id", "sku"):
        with pytest.raises(ValueError, match=f"{field}: .*U\\+0001"):
            parse_event({**order, field: "a\x01"}, 1)
    with pytest.raises(ValueError, match=r"segment: .*U\+001B"):
        parse_event({"type": "segment", "segment": "a\x1b", "ts": 1}, 1)


def test_scripts_refuse_controls_in_fields_and_in_the_text() -> None:
    escaped = '{"title": "t\\u0000", "segments": [{"kind": "opening", "target": "5m"}]}'
    result = check_script(escaped.encode())
    assert not result.ok and any("U+0000" in f.message for f in result.findings)
    raw = "title: t\nsegments:\n  - kind: opening  # \x7f\n    target: 5m\n"
    result = check_script(raw.encode())
    assert not result.ok and result.findings[0].line == 3 and "U+007F" in result.findings[0].message


async def _write(url: str, values: list[tuple[int, Any]]) -> tuple[list[int], list[str]]:
    """(refused indexes, ids stored) of `values` written through ingest's store to `url`."""
    database = Database(url)
    store = make_store(database)
    try:
        stream_id = await streams.create_stream(database, SCRIPT, "title: t\n")
        errors: list[EventError] = []
        records = records_of_values(stream_id, values, 1, errors)
        new, _ = await store.write(records)  # raises (a 500 for the sender) if the backend refuses one
        return sorted(e.index for e in errors), sorted(str(records[i].data["id"]) for i in new)
    finally:
        await store.close()
        await database.dispose()


@pytest.mark.postgres
def test_sqlite_and_postgresql_accept_and_refuse_the_same_inputs(sqlite_url: str, postgres_url: str) -> None:
    asyncio.run(upgrade_async(sqlite_url))
    asyncio.run(upgrade_async(postgres_url))

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(_FIELD, _TEXT), min_size=1, max_size=8, unique_by=lambda c: c[1]))
    def check(changes: list[tuple[str, str]]) -> None:
        values = []
        for i, (field, text) in enumerate(changes):
            event = {"type": "comment", "user_id": "u", "text": "hi", "ts": 1_700_000_000_000 + i, "id": f"e{i}"}
            event[field] = text
            values.append((i, event))
        lite = asyncio.run(_write(sqlite_url, values))  # a fresh stream each time: no duplicates
        pg = asyncio.run(_write(postgres_url, values))
        assert lite == pg
        refused, stored = lite
        assert len(refused) + len(stored) == len(values)
        assert refused == [i for i, (_, text) in enumerate(changes) if text_fault(text) is not None]

    check()
