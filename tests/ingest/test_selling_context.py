"""The selling context a stream's live document gives its comment triage (issue 18): flash sales
whose status is `live` and the console's 講解, followed through a hub watch; and the record's view of
when a sale ran, which a stream seeded after a restart is replayed with."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from livecompanion.ingest.comments import CommentTriage
from livecompanion.ingest.selling import DocumentContext, SellingContexts, running_at, sale_window
from livecompanion.realtime import MemoryHub, set_op

NOW = int(time.time() * 1000)


def sale(status: str = "live", ends_at: int = NOW + 600_000) -> dict[str, Any]:
    """The screen value the sales service writes to `flash_sales.<id>` (views.overlay_value), cut down."""
    return {"sku": "MASK-01", "price": 79, "stock": 50, "remaining": 50, "sold": 0, "status": status,
            "started_ms": NOW, "ends_at": ends_at, "stopped_ms": None, "sold_out_ms": None}


def intent(triage: CommentTriage, text: str = "扣1") -> bool:
    return triage.handle(text, None, 0).analysis.kind == "intent"


async def test_the_document_s_sales_and_explain_make_the_room_sell() -> None:
    hub = MemoryHub()
    await hub.load("s", {"stream": {"status": "live"}, "explaining": None,
                         "flash_sales": {"old": sale("ended")}})
    triage = CommentTriage()
    contexts = SellingContexts(hub, lambda: None)
    await contexts.follow("s", triage)
    assert not intent(triage)  # an ended sale in the document: nothing sells
    # A sale starts (on any instance: the document is shared), as the sales service writes it. Its
    # end is taken from now, not from NOW: this test runs on the wall clock, which in a slow suite was
    # more than 10 minutes past the module's import (the sale had ended before it started).
    now = int(time.time() * 1000)
    await hub.apply("s", [set_op(["flash_sales", "a1"], sale(ends_at=now + 600_000))])
    assert intent(triage)
    # Claims change its numbers: still selling.
    await hub.apply("s", [set_op(["flash_sales", "a1", "remaining"], 10), set_op(["flash_sales", "a1", "sold"], 40)])
    assert intent(triage)
    # A 講解 from the console during the sale; then the sale sells out: the 講解 still sells.
    await hub.apply("s", [set_op(["explaining"], {"sku": "MASK-01", "name": "面膜", "started_ms": 5})])
    await hub.apply("s", [set_op(["flash_sales", "a1", "status"], "sold_out")])
    assert intent(triage)
    # A released claim puts units back: live again; the 講解 stops: the sale still sells.
    await hub.apply("s", [set_op(["flash_sales", "a1", "status"], "live")])
    await hub.apply("s", [set_op(["explaining"], None)])
    assert intent(triage)
    await hub.apply("s", [set_op(["flash_sales", "a1", "status"], "stopped")])
    assert not intent(triage) and not contexts.due
    assert hub.subscriber_count("s") == 0  # a watch is no screen: the idle release may drop the document


async def test_a_document_loaded_whole_is_read_again() -> None:
    hub = MemoryHub()
    woken: list[int] = []
    triage = CommentTriage()
    contexts = SellingContexts(hub, lambda: woken.append(1))
    await contexts.follow("s", triage)  # no document yet (a restart): the record's view stands
    triage.sales(["from-the-record"])
    assert intent(triage)
    # The document is built from the record (a screen, or the first publish): the watch is told
    # to read it; it shows the sale stopped meanwhile and a 講解 running.
    await hub.load("s", {"flash_sales": {"from-the-record": sale("stopped")},
                         "explaining": {"sku": "MASK-01", "name": "面膜", "started_ms": 5}})
    assert contexts.due == {"s"} and woken
    await contexts.refresh()
    assert not contexts.due and triage.in_context
    await hub.apply("s", [set_op(["explaining"], None)])
    assert not intent(triage)
    contexts.forget("s")
    await hub.apply("s", [set_op(["flash_sales", "b2"], sale())])
    assert not intent(triage)  # forgotten (the stream went idle): no longer followed


def test_a_missed_change_or_a_stale_snapshot_asks_for_a_new_read() -> None:
    triage = CommentTriage()
    context = DocumentContext(triage)
    assert context.read(5, {"flash_sales": {"a": sale()}}, NOW)
    assert triage.in_context
    assert context.patch(5, [set_op(["flash_sales", "a", "status"], "ended")], NOW)  # the snapshot had it
    assert triage.in_context
    assert context.patch(6, [set_op(["metrics", "orders"], 1)], NOW)  # not a watched section
    assert not context.patch(8, [set_op(["flash_sales", "a", "status"], "ended")], NOW)  # rev 7 missed
    assert not triage.in_context
    assert not context.patch(9, [set_op(["flash_sales", "a", "status", "x"], 1)], NOW)  # does not apply
    # A snapshot older than a change already seen misses that change: read again.
    assert not context.read(8, {"flash_sales": {"a": sale()}}, NOW)
    assert context.read(9, {"flash_sales": {"a": sale("ended")}}, NOW)
    # An explain ingest started (a platform event) is not ended by a document that never showed one.
    triage.selling(True, "explain")
    assert context.read(10, {"flash_sales": {}, "explaining": None}, NOW) and triage.in_context


def test_a_sale_whose_time_is_up_sells_no_more_though_the_document_says_live() -> None:
    """Every instance down when the sale's time came: nobody wrote `ended`, the document (kept in
    Redis) still says `live`. Its `ends_at` ends it all the same, on the next commit's `expire`."""
    triage = CommentTriage()
    context = DocumentContext(triage)
    assert context.read(1, {"flash_sales": {"over": sale(ends_at=NOW - 1), "on": sale(ends_at=NOW + 5_000)}}, NOW)
    assert triage.in_context and context.next_end == NOW + 5_000
    context.expire(NOW + 4_999)
    assert triage.in_context
    context.expire(NOW + 5_000)
    assert not triage.in_context and context.next_end is None


def test_the_record_s_view_of_when_a_sale_sold() -> None:
    windows = [
        sale_window("stopped", 1_000, 9_000, stopped_ms=4_000, sold_out_ms=None, sold=3, stock=50),
        sale_window("sold-out", 5_000, 9_000, stopped_ms=None, sold_out_ms=6_000, sold=50, stock=50),
        sale_window("came-back", 5_000, 9_000, stopped_ms=None, sold_out_ms=6_000, sold=49, stock=50),
    ]
    assert running_at(windows, 999) == frozenset()
    assert running_at(windows, 1_000) == {"stopped"}
    assert running_at(windows, 4_000) == frozenset()  # the stop ends it
    assert running_at(windows, 5_500) == {"sold-out", "came-back"}
    assert running_at(windows, 6_000) == {"came-back"}  # sold out, still
    assert running_at(windows, 9_000) == frozenset()  # over


async def test_the_live_numbers_end_a_sale_whose_time_is_up_on_the_next_commit(sqlite_url: str) -> None:
    from livecompanion.config import Settings
    from livecompanion.storage import streams
    from livecompanion.storage.migrate import upgrade_async
    from livecompanion.stream import service as stream_service
    from livecompanion.wiring import build_services, close, start
    from tests.sales.conftest import SCRIPT, SCRIPT_YAML

    await upgrade_async(sqlite_url)
    services = build_services(Settings(database_url=sqlite_url).with_generated_tokens())
    await start(services)
    try:
        sid = await streams.create_stream(services.db, SCRIPT, SCRIPT_YAML)
        live = services.ingest.live
        await services.ingest.ingest_events(sid, [{"type": "comment", "id": "c0", "user_id": "u", "text": "hi",
                                                   "ts": NOW}])
        await stream_service.load_state(services, sid)
        ends = int(time.time() * 1000) + 3_000
        await stream_service.apply(services, sid, [set_op(["flash_sales", "x"], sale(ends_at=ends))])
        assert live.triage(sid).in_context
        # The sale's time is up; no `ended` is written (no sales service knows of this sale).
        await asyncio.sleep((ends - time.time() * 1000 + 50) / 1000)
        await services.ingest.ingest_events(sid, [{"type": "comment", "id": "c1", "user_id": "v", "text": "扣1",
                                                   "ts": NOW + 1}])
        assert not live.triage(sid).in_context
    finally:
        await close(services)
