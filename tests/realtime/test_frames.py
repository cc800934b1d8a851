"""Frames: a stream's coalesced sections reach a screen as one change per tick (issue 20).

Before frames, live numbers and flash-sale stock were each a change of their own, so a screen got
one message for each; the contract gives every message the next rev, so the only way to send
fewer is fewer changes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from livecompanion.realtime import MemoryHub, set_op
from livecompanion.realtime.frames import Frames


async def _drain(feed: Any) -> list[dict[str, Any]]:
    out = []
    while (message := feed.get_nowait()) is not None:
        out.append(message)
    return out


async def test_a_streams_sections_put_in_one_tick_are_one_change() -> None:
    hub = MemoryHub()
    await hub.load("s", {"metrics": {}, "flash_sales": {"f1": {"remaining": 10}}})
    frames = Frames(hub.apply, tick=3600)  # no tick comes during the test: the flushes decide
    async with hub.subscribe("s") as feed:
        first = frames.put("s", [set_op(["flash_sales", "f1", "remaining"], 9)])
        frames.put("s", [set_op(["metrics"], {"viewers": 5})])
        frames.put("s", [set_op(["flash_sales", "f1", "remaining"], 8)])  # a later value of the same field
        other = frames.put("t", [set_op(["metrics"], {"viewers": 1})])  # another stream: a frame of its own
        assert await _drain(feed) == []  # nothing applied before the frame goes
        await frames.flush("s")
        rev = await first
        messages = await _drain(feed)
    assert [m["rev"] for m in messages] == [rev]  # one change, one message on the screens
    assert [op["path"] for op in messages[0]["ops"]] == [["flash_sales", "f1", "remaining"], ["metrics"],
                                                         ["flash_sales", "f1", "remaining"]]
    _, state = await hub.snapshot("s")  # type: ignore[misc]
    assert state["flash_sales"]["f1"]["remaining"] == 8 and state["metrics"] == {"viewers": 5}
    assert not other.done()
    await frames.close()  # what is still open goes out at close (the stream is not loaded: it fails)
    assert other.done() and other.exception() is not None
    assert frames.frames == 1
    await hub.close()


async def test_frames_go_at_the_tick_in_order_and_failures_reach_the_producer() -> None:
    hub = MemoryHub()
    await hub.load("s", {"metrics": {}})
    frames = Frames(hub.apply, tick=0.05)
    revs = [await frames.put("s", [set_op(["metrics"], {"n": n})]) for n in range(3)]  # each at a tick
    assert revs == sorted(revs) and len(set(revs)) == 3
    _, state = await hub.snapshot("s")  # type: ignore[misc]
    assert state["metrics"] == {"n": 2}
    with pytest.raises(Exception):  # noqa: B017 - the hub's own error (a walk through a non-dict)
        await frames.put("s", [set_op(["metrics", "n", "deeper"], 1)])
    assert frames._locks == {} and frames._users == {}  # nothing kept of a stream with no frame
    await frames.close()
    late = frames.put("s", [set_op(["metrics"], {"n": 3})])  # after close: applied at once
    await asyncio.sleep(0)
    assert await late > revs[-1]
    await hub.close()
