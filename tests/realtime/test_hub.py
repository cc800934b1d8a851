"""The Hub contract, run on MemoryHub and RedisHub alike (fixture `hub` in conftest)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from livecompanion.realtime import NotLoaded, PatchError, apply_ops, check_ops, del_op, set_op

STATE: dict[str, Any] = {
    "stream": {"id": "s1", "title": "秋冬補水專場", "status": "ready", "started_ms": None},
    "segment": None,
    "run_sheet": [{"id": "open", "cues": []}, {"id": "p1", "cues": [{"action": "note", "text": "加微信"}]}],
    "countdowns": {},
    "pinned": None,
    "metrics": {"viewers": 0, "intent": {}},
    "questions": [],
}


async def next_message(feed, timeout: float = 2.0) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return await asyncio.wait_for(feed.get(), timeout)


async def test_unknown_stream_has_no_snapshot_and_refuses_changes(hub) -> None:  # type: ignore[no-untyped-def]
    assert await hub.snapshot("nope") is None
    with pytest.raises(NotLoaded):
        await hub.apply("nope", [set_op(["pinned"], {"text": "x"})])


async def test_load_keeps_existing_unless_forced(hub) -> None:  # type: ignore[no-untyped-def]
    assert await hub.load("s1", STATE) == 1
    assert await hub.snapshot("s1") == (1, STATE)
    await hub.apply("s1", [set_op(["metrics", "viewers"], 5)])
    # Not forced: the live document stays (another instance may have loaded it first).
    assert await hub.load("s1", STATE) == 2
    assert (await hub.snapshot("s1"))[1]["metrics"]["viewers"] == 5
    async with hub.subscribe("s1") as feed:
        rev = await hub.load("s1", {"stream": {"id": "s1"}}, force=True)
        assert rev == 3
        assert await next_message(feed) == {"type": "resync", "rev": 3}
    assert await hub.snapshot("s1") == (3, {"stream": {"id": "s1"}})


async def test_each_change_bumps_rev_by_one_and_is_published_in_order(hub) -> None:  # type: ignore[no-untyped-def]
    await hub.load("s1", STATE)
    async with hub.subscribe("s1") as feed:
        r1 = await hub.apply("s1", [set_op(["countdowns", "c1"], {"label": "福利", "ends_at": 1712345678901})])
        r2 = await hub.apply("s1", [set_op(["pinned"], {"text": "<b>hi</b>", "nickname": None}),
                                    set_op(["metrics", "intent", "想要"], 132)])
        r3 = await hub.apply("s1", [del_op(["countdowns", "c1"]), del_op(["countdowns", "gone", "deeper"])])
        assert (r1, r2, r3) == (2, 3, 4)
        messages = [await next_message(feed) for _ in range(3)]
    assert [m["rev"] for m in messages] == [2, 3, 4]
    assert all(m["type"] == "patch" and isinstance(m["server_time"], int) for m in messages)
    assert messages[1]["ops"][1] == {"op": "set", "path": ["metrics", "intent", "想要"], "value": 132}
    rev, state = await hub.snapshot("s1")
    assert rev == 4
    assert state["countdowns"] == {}
    assert state["pinned"] == {"text": "<b>hi</b>", "nickname": None}
    assert state["metrics"] == {"viewers": 0, "intent": {"想要": 132}}
    assert state["run_sheet"] == STATE["run_sheet"]


async def test_empty_lists_and_objects_keep_their_kind(hub) -> None:  # type: ignore[no-untyped-def]
    await hub.load("s1", STATE)
    await hub.apply("s1", [set_op(["lotteries", "l1"], {"winners": [], "entries": {}, "tags": [[], {}]})])
    await hub.apply("s1", [set_op(["lotteries", "l1", "prize"], "免單")])  # decodes the section again
    _, state = await hub.snapshot("s1")
    assert state["lotteries"]["l1"] == {"winners": [], "entries": {}, "tags": [[], {}], "prize": "免單"}
    assert state["questions"] == [] and state["countdowns"] == {}


async def test_a_bad_change_changes_nothing(hub) -> None:  # type: ignore[no-untyped-def]
    await hub.load("s1", STATE)
    before = await hub.snapshot("s1")
    bad_paths = [["segment", "index"], ["run_sheet", "0"], ["stream", "title", "x"]]
    for path in bad_paths:
        with pytest.raises(PatchError):
            # the first op alone would be fine: all or nothing
            await hub.apply("s1", [set_op(["metrics", "viewers"], 9), set_op(path, 1)])
    assert await hub.snapshot("s1") == before
    with pytest.raises(PatchError):
        await hub.apply("s1", [{"op": "put", "path": ["x"], "value": 1}])
    with pytest.raises(PatchError):
        await hub.apply("s1", [set_op(["x"], object())])


async def test_empty_change_is_not_a_change(hub) -> None:  # type: ignore[no-untyped-def]
    await hub.load("s1", STATE)
    assert await hub.apply("s1", []) == 1


async def test_a_slow_subscriber_gets_a_resync_and_does_not_hold_up_others(hub) -> None:  # type: ignore[no-untyped-def]
    await hub.load("s1", STATE)
    async with hub.subscribe("s1", maxsize=4) as slow, hub.subscribe("s1") as fast:
        for i in range(10):
            await hub.apply("s1", [set_op(["metrics", "viewers"], i)])
        revs = [(await next_message(fast))["rev"] for _ in range(10)]
        assert revs == list(range(2, 12))
        got = []
        while slow.pending():
            got.append(await next_message(slow))
        assert got[0] == {"type": "resync"}
        assert slow.overflows >= 1
        assert len(got) <= 4


async def test_same_ops_same_document_as_the_reference(hub) -> None:  # type: ignore[no-untyped-def]
    """Random changes through the hub end where the pure reference (state.apply_ops) ends."""
    rng = random.Random(20240501)
    keys = ["a", "b", "c", "想要"]
    values: list[Any] = [0, 7, -3, 1712345678901, 12.5, "", "文字", True, False, None, [], {}, [1, [], {"x": []}],
                         {"k": {"m": 1}}, {"e": []}]
    await hub.load("s1", {"x": {}, "y": []})
    reference: dict[str, Any] = {"x": {}, "y": []}
    for _ in range(150):
        ops = []
        for _ in range(rng.randint(1, 3)):
            path = ["x", *rng.sample(keys, rng.randint(0, 2))] if rng.random() < 0.8 else [rng.choice("xyz")]
            ops.append(set_op(path, rng.choice(values)) if rng.random() < 0.75 else del_op(path))
        try:
            expected = apply_ops(reference, check_ops(ops))
        except PatchError:
            with pytest.raises(PatchError):
                await hub.apply("s1", ops)
            continue
        await hub.apply("s1", ops)
        reference = expected
    _, state = await hub.snapshot("s1")
    assert state == reference


async def test_many_subscribers_all_get_every_patch(hub) -> None:  # type: ignore[no-untyped-def]
    await hub.load("s1", STATE)
    feeds = [hub.subscribe("s1") for _ in range(50)]
    for feed in feeds:
        await feed.__aenter__()
    await hub.apply("s1", [set_op(["metrics", "orders"], 1)])
    for feed in feeds:
        assert (await next_message(feed))["rev"] == 2
        await feed.__aexit__(None, None, None)
    assert hub.subscriber_count("s1") == 0


async def test_close_ends_subscriptions(hub) -> None:  # type: ignore[no-untyped-def]
    await hub.load("s1", STATE)
    feed = hub.subscribe("s1")
    await feed.__aenter__()
    waiter = asyncio.create_task(anext(feed))
    await asyncio.sleep(0)
    feed.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiter, 2)


async def test_sections_are_the_asked_parts_of_the_document_as_copies(hub) -> None:  # type: ignore[no-untyped-def]
    assert await hub.sections("nope", ("stream",)) is None  # not held: the caller rebuilds it
    await hub.load("s1", STATE)
    await hub.apply("s1", [set_op(["metrics", "viewers"], 7)])
    got = await hub.sections("s1", ("stream", "metrics", "segment", "not_a_section"))
    assert got == {"stream": STATE["stream"], "metrics": {"viewers": 7, "intent": {}}, "segment": None}
    got["metrics"]["viewers"] = 0  # the caller's copy
    assert (await hub.snapshot("s1"))[1]["metrics"]["viewers"] == 7
    assert await hub.sections("s1", ()) == {}
