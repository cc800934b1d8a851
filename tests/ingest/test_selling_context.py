"""The selling context a stream's live document gives its comment triage (issue 18): flash sales
whose status is `live` and the console's 講解, followed through a hub watch; and the record's view of
when a sale ran, which a stream seeded after a restart is replayed with."""

from __future__ import annotations

from typing import Any

from livecompanion.ingest.comments import CommentTriage
from livecompanion.ingest.selling import DocumentContext, SellingContexts, running_at, sale_window
from livecompanion.realtime import MemoryHub, set_op


def sale(status: str = "live") -> dict[str, Any]:
    """The screen value the sales service writes to `flash_sales.<id>` (views.overlay_value), cut down."""
    return {"sku": "MASK-01", "price": 79, "stock": 50, "remaining": 50, "sold": 0, "status": status,
            "started_ms": 1_000, "ends_at": 601_000, "stopped_ms": None, "sold_out_ms": None}


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
    # A sale starts (on any instance: the document is shared), as the sales service writes it.
    await hub.apply("s", [set_op(["flash_sales", "a1"], sale())])
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
    assert context.read(5, {"flash_sales": {"a": sale()}})
    assert triage.in_context
    assert context.patch(5, [set_op(["flash_sales", "a", "status"], "ended")])  # the snapshot had it
    assert triage.in_context
    assert context.patch(6, [set_op(["metrics", "orders"], 1)])  # not a watched section
    assert not context.patch(8, [set_op(["flash_sales", "a", "status"], "ended")])  # rev 7 missed
    assert not triage.in_context
    assert not context.patch(9, [set_op(["flash_sales", "a", "status", "x"], 1)])  # does not apply
    # A snapshot older than a change already seen misses that change: read again.
    assert not context.read(8, {"flash_sales": {"a": sale()}})
    assert context.read(9, {"flash_sales": {"a": sale("ended")}})
    # An explain ingest started (a platform event) is not ended by a document that never showed one.
    triage.selling(True, "explain")
    assert context.read(10, {"flash_sales": {}, "explaining": None}) and triage.in_context


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
