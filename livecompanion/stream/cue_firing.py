"""The script's cues, fired from the run sheet or ticked off by a matching action started by hand.

A cue is claimed in the stream's row (`fired_cues`) before its action runs, so a double click or
two consoles run it once; if the action fails, the claim is given back. The actions themselves are
the domains' cue runners (`stream.cues.CueRunners`), registered by the composition root: the show
registers its own three (countdown, pin, note) here, sales and lotteries theirs in wiring.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from livecompanion.clock import now_ms
from livecompanion.realtime import set_op
from livecompanion.stream.cues import CueRunners, check_time_scale, scale_cue
from livecompanion.stream.document import cue_fields, find_cue
from livecompanion.stream.machine import ShowError
from livecompanion.stream.moves import ShowMove
from livecompanion.stream.service import (
    apply,
    locked_stream,
    pin,
    refuse_if_ended,
    script_of,
    show_note,
    show_of,
    start_countdown,
)

if TYPE_CHECKING:
    from livecompanion.core import Core


async def fire_cue(core: Core, stream_id: str, key: str, force: bool = False,
                   time_scale: float = 1.0) -> dict[str, Any]:
    """Run a cue of the script now (one click on the console). A cue fires once unless forced.

    `time_scale` > 1 runs it faster: a countdown's seconds and a sale's or lottery's duration are
    divided by it (whole seconds, at least 1), e.g. for a demo played at 20x."""
    time_scale = check_time_scale(time_scale)
    now = now_ms()
    async with locked_stream(core, stream_id) as locked:
        row = locked.row
        refuse_if_ended(row)
        _index, _segment, cue = find_cue(script_of(row), key)
        fired = dict(row.fired_cues or {})
        if key in fired and not force:
            raise ShowError(f"cue '{key}' already fired (fire it again with force)")
        previous = fired.get(key)
        fired[key] = now  # claimed before running, so a double click cannot run it twice
        row.fired_cues = fired
    try:
        fields = scale_cue(cue.action, cue_fields(cue), time_scale)
        result = await core.cues.runner(cue.action)(stream_id, {"key": key, "action": cue.action, **fields})
    except Exception:
        async with locked_stream(core, stream_id) as locked:
            row = locked.row
            fired = dict(row.fired_cues or {})
            if fired.get(key) == now:
                if previous is None:
                    fired.pop(key)
                else:
                    fired[key] = previous
                row.fired_cues = fired
        raise
    await apply(core, stream_id, [set_op(["cues", key, "fired_ms"], now)])
    script = script_of(row)
    await core.show_listeners.tell(stream_id, script, ShowMove.of(script, show_of(row), key, cue.action))
    return {"key": key, "action": cue.action, "fired_ms": now, "time_scale": time_scale, "result": result}


# How early a hand-started action still counts as the cue due in the live segment.
HAND_START_EARLY_MS = 120_000
MATCHED_BY = {"flash_sale": "sku", "countdown": "seconds", "lottery": "keyword"}


async def tick_matching_cue(core: Core, stream_id: str, action: str, value: Any) -> str | None:
    """A sale, countdown or lottery started by hand that matches a cue of the live segment (same
    sku, seconds or keyword; not fired yet; due, or due within two minutes) ticks that cue off, so
    the run sheet does not invite the operator to start it a second time. The cue's key, or None."""
    field = MATCHED_BY.get(action)
    if field is None:
        return None
    now = now_ms()
    async with locked_stream(core, stream_id) as locked:
        row = locked.row
        if row.status != "live" or row.segment_index is None or row.segment_started_ms is None:
            return None
        segment = script_of(row).segments[row.segment_index]
        fired = dict(row.fired_cues or {})
        for i, cue in sorted(enumerate(segment.cues), key=lambda item: item[1].at_seconds):
            key = f"{segment.id}/{i}"
            due = row.segment_started_ms + cue.at_seconds * 1000
            if (cue.action == action and key not in fired and due <= now + HAND_START_EARLY_MS
                    and cue_fields(cue).get(field) == value):
                fired[key] = now
                row.fired_cues = fired
                locked.ops = [set_op(["cues", key, "fired_ms"], now)]
                return key
    return None



def register_show_cues(core: Core, cues: CueRunners) -> None:
    """The cue actions the show runs itself: countdown, pin and note (the composition root calls this)."""

    async def run_countdown(stream_id: str, cue: dict[str, Any]) -> dict[str, Any]:
        return await start_countdown(core, stream_id, cue["seconds"], cue.get("label"))

    async def run_pin(stream_id: str, cue: dict[str, Any]) -> dict[str, Any]:
        return await pin(core, stream_id, cue["text"], cue.get("nickname"))

    async def run_note(stream_id: str, cue: dict[str, Any]) -> dict[str, Any]:
        return await show_note(core, stream_id, cue["text"], cue["key"])

    cues.register("countdown", run_countdown)
    cues.register("pin", run_pin)
    cues.register("note", run_note)
