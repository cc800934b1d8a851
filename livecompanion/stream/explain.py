"""講解 (product explanation) from the console: one click starts or stops explaining a product.

Each click is recorded as a `product_explain` event of contract section 2 in the stream's log (as
the service records `segment` events), so the report measures every 講解 (analytics/explains.py),
and the live document's `explaining` says which product is being explained since when, for every
console. A start while another product is being explained ends that one (the event's own rule).
The events carry `user_id` "host": the contract requires a user on this type.

The document's `explaining` is rebuilt from nothing after a restart (None): the log still holds
the events, so the report is unaffected; the next click starts afresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from livecompanion.errors import Conflict, NotFound
from livecompanion.realtime.state import set_op
from livecompanion.stream.cues import CueRunners
from livecompanion.stream.service import load_state, locked_stream, now_ms, script_of

if TYPE_CHECKING:
    from livecompanion.core import Core

HOST_USER = "host"
Action = Literal["start", "stop"]


async def explain(services: Core, stream_id: str, sku: str, action: Action) -> dict[str, Any]:
    """Start or stop the 講解 of `sku`; returns what is being explained now (None when nothing)."""
    if await services.hub.sections(stream_id, ()) is None:  # one EXISTS, not the whole document
        await load_state(services, stream_id)  # the document is in the hub, for `explaining` below
    async with locked_stream(services, stream_id) as locked:
        row = locked.row
        script = script_of(row)
        product = script.product(sku)
        if product is None:
            skus = ", ".join(p.sku for p in script.products) or "the script lists no products"
            raise NotFound(f"no product '{sku}' in this script ({skus})")
        if row.status != "live":
            raise Conflict("not_live" if row.status == "ready" else "ended",
                           f"講解 needs a live stream (it is {row.status})")
        # One section, not the whole document (questions, ticker, run sheet: tens of KB decoded).
        running = (await services.hub.sections(stream_id, ("explaining",)) or {}).get("explaining")
        if action == "stop" and (running is None or running.get("sku") != sku):
            raise Conflict("not_explaining", f"'{sku}' is not being explained")
        if action == "start" and running is not None and running.get("sku") == sku:
            return {"explaining": running}
        now = now_ms()
        locked.streams.add_explain_event(stream_id, HOST_USER, sku, action, now)
        now_explaining = {"sku": sku, "name": product.name, "started_ms": now} if action == "start" else None
        locked.ops = [set_op(["explaining"], now_explaining)]
    return {"explaining": now_explaining}


def register_explain_cue(core: Core, cues: CueRunners) -> None:
    """The `product_explain` cue of a script (scripts/models.py ProductExplainCue); the composition
    root calls this."""

    async def run_explain(stream_id: str, cue: dict[str, Any]) -> dict[str, Any]:
        return await explain(core, stream_id, cue["sku"], cue.get("mode") or "start")

    cues.register("product_explain", run_explain)
