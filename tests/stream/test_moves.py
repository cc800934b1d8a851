"""The show tells its listeners each move once the record has it; a failing listener fails nothing."""

from __future__ import annotations

from livecompanion.core import Core
from livecompanion.scripts.models import Script
from livecompanion.stream import cue_firing, service
from livecompanion.stream.moves import ShowMove


async def test_listeners_hear_every_move_and_a_failing_one_is_contained(services: Core, stream_id: str) -> None:
    heard: list[tuple[str, str | None, str | None]] = []

    async def broken(_stream_id: str, _script: Script, _move: ShowMove) -> None:
        raise RuntimeError("a listener with a bug")

    async def listener(sid: str, script: Script, move: ShowMove) -> None:
        assert sid == stream_id and script.title
        _rev, doc = await service.load_state(services, sid)  # already committed and on the screens
        assert doc["stream"]["status"] == move.status
        heard.append((move.status, move.segment.id if move.segment else None, move.cue_key))

    services.show_listeners.register(broken)
    services.show_listeners.register(listener)
    await service.next_segment(services, stream_id)
    await cue_firing.fire_cue(services, stream_id, "open/1")  # a pin
    await service.goto_segment(services, stream_id, segment_id="mask-close")
    await service.previous_segment(services, stream_id)
    await service.end_stream(services, stream_id)
    assert heard == [("live", "open", None), ("live", "open", "open/1"), ("live", "mask-close", None),
                     ("live", "mask-value", None), ("ended", None, None)]
