"""The seam through which the show tells others it moved: listeners held by `Core.show_listeners`.

A move is what the operator just did, once the record has it: next/previous/goto put a segment live,
end ends the stream, a fired cue ran its action. The composition root (`livecompanion/wiring.py`)
registers each listener once:

    core.show_listeners.register(obs.on_show_moved)   # async (stream_id, script, move) -> None

A listener must return quickly (the operator's click waits for it) and should not raise; one that
raises is logged and the others are still told, so no listener can fail or hold up the show.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from livecompanion.scripts.models import Script, Segment
from livecompanion.stream.document import Show

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ShowMove:
    """What just happened to the show."""

    status: str  # ready | live | ended
    segment: Segment | None = None  # the live segment, if any
    cue_key: str | None = None  # "<segment id>/<cue index>" when a cue fired
    cue_action: str | None = None

    @classmethod
    def of(cls, script: Script, show: Show, cue_key: str | None = None,
           cue_action: str | None = None) -> ShowMove:
        segment = None
        if show.status == "live" and show.segment_index is not None:
            segment = script.segments[show.segment_index]
        return cls(show.status, segment, cue_key, cue_action)


ShowListener = Callable[[str, Script, ShowMove], Awaitable[None]]


class ShowListeners:
    """Everyone told of the show's moves, as the composition root registered them."""

    def __init__(self) -> None:
        self._listeners: list[ShowListener] = []

    def register(self, listener: ShowListener) -> None:
        self._listeners.append(listener)

    async def tell(self, stream_id: str, script: Script, move: ShowMove) -> None:
        for listener in self._listeners:
            try:
                await listener(stream_id, script, move)
            except Exception:  # a listener never fails the show
                log.exception("a show listener failed on stream %s (%s)", stream_id, move.status)
