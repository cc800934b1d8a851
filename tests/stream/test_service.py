"""The show's service functions against a real record and hub: segments, countdowns, pins, cues."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import select

from livecompanion.errors import Conflict
from livecompanion.realtime import MemoryHub
from livecompanion.storage.tables import EventRow, StreamRow
from livecompanion.stream import cue_firing, cues, service
from livecompanion.stream.machine import ShowError

from .conftest import make_services


async def segment_events(services, stream_id: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    async with services.db.session() as session:
        rows = await session.scalars(select(EventRow).where(EventRow.stream_id == stream_id).order_by(EventRow.seq))
        return [r.body for r in rows if r.type == "segment"]


async def test_unknown_stream(services) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LookupError):
        await service.load_state(services, "nope")
    with pytest.raises(LookupError):
        await service.next_segment(services, "nope")


async def test_next_through_the_whole_show(services, stream_id: str) -> None:  # type: ignore[no-untyped-def]
    rev0, doc = await service.load_state(services, stream_id)
    assert doc["stream"]["status"] == "ready" and doc["segment"] is None
    count = doc["stream"]["segment_count"]
    before = int(time.time() * 1000)
    first = await service.next_segment(services, stream_id)
    assert first["status"] == "live" and first["segment"]["id"] == "open" and first["rev"] == rev0 + 1
    rev, doc = await service.load_state(services, stream_id)
    assert rev == first["rev"]
    assert doc["stream"]["status"] == "live" and doc["stream"]["started_ms"] >= before
    assert doc["segment"]["id"] == "open" and doc["segment"]["next"]["id"] == "mask-intro"
    assert doc["cues"]["open/0"]["due_ms"] == doc["segment"]["started_ms"] + 120_000
    for _ in range(count - 1):
        await service.next_segment(services, stream_id)
    last = await service.next_segment(services, stream_id)
    assert last["status"] == "ended" and last["segment"] is None
    _, doc = await service.load_state(services, stream_id)
    assert doc["stream"]["status"] == "ended" and doc["segment"] is None and doc["stream"]["ended_ms"]
    for step in (service.next_segment, service.previous_segment, service.end_stream):
        with pytest.raises(Conflict) as refused:
            await step(services, stream_id)
        assert refused.value.code == "ended"
    events = await segment_events(services, stream_id)
    assert [e["segment"] for e in events] == [
        s["id"] for s in doc["run_sheet"]]
    assert all(e["type"] == "segment" and isinstance(e["ts"], int) for e in events)
    resumed = await service.reopen_stream(services, stream_id)
    assert resumed["status"] == "live" and resumed["segment"]["index"] == count - 1


async def test_goto_by_id_and_index_and_guard(services, stream_id: str) -> None:  # type: ignore[no-untyped-def]
    result = await service.goto_segment(services, stream_id, segment_id="mask-close")
    assert result["segment"]["index"] == 3
    assert (await service.goto_segment(services, stream_id, index=1))["segment"]["id"] == "mask-intro"
    with pytest.raises(LookupError):
        await service.goto_segment(services, stream_id, segment_id="nope")
    with pytest.raises(ValueError):
        await service.goto_segment(services, stream_id)
    with pytest.raises(ShowError):  # the console thought segment 0 was live
        await service.next_segment(services, stream_id, from_index=0)
    assert (await service.next_segment(services, stream_id, from_index=1))["segment"]["index"] == 2
    assert [e["segment"] for e in await segment_events(services, stream_id)] == [
        "mask-close", "mask-intro", "mask-value"]


async def test_double_click_with_from_index_moves_once(services, stream_id: str) -> None:  # type: ignore[no-untyped-def]
    await service.next_segment(services, stream_id)
    results = await asyncio.gather(
        service.next_segment(services, stream_id, from_index=0),
        service.next_segment(services, stream_id, from_index=0),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["ShowError", "dict"]
    _, doc = await service.load_state(services, stream_id)
    assert doc["segment"]["index"] == 1


async def test_countdowns_pins_and_notes(services, stream_id: str) -> None:  # type: ignore[no-untyped-def]
    before = int(time.time() * 1000)
    countdown = await service.start_countdown(services, stream_id, 60, "福利倒計時")
    assert before + 60_000 <= countdown["ends_at"] <= int(time.time() * 1000) + 60_000
    _, doc = await service.load_state(services, stream_id)
    assert doc["countdowns"][countdown["id"]]["ends_at"] == countdown["ends_at"]
    assert doc["countdowns"][countdown["id"]]["label"] == "福利倒計時"
    for bad in (0, -5, 86_401, 1.5, True):
        with pytest.raises(ValueError):
            await service.start_countdown(services, stream_id, bad)  # type: ignore[arg-type]
    await service.cancel_countdown(services, stream_id, countdown["id"])
    assert (await service.load_state(services, stream_id))[1]["countdowns"] == {}
    with pytest.raises(LookupError):
        await service.cancel_countdown(services, stream_id, "nope")

    pinned = await service.pin(services, stream_id, " <script>alert(1)</script> ", "小美")
    assert pinned["text"] == "<script>alert(1)</script>" and pinned["nickname"] == "小美"
    assert (await service.load_state(services, stream_id))[1]["pinned"]["text"] == pinned["text"]
    with pytest.raises(ValueError):
        await service.pin(services, stream_id, "   ")
    await service.unpin(services, stream_id)
    assert (await service.load_state(services, stream_id))[1]["pinned"] is None


async def test_state_survives_a_restart(services, sqlite_url: str, stream_id: str) -> None:  # type: ignore[no-untyped-def]
    await service.next_segment(services, stream_id)
    countdown = await service.start_countdown(services, stream_id, 300, "整點福利")
    await service.pin(services, stream_id, "這款適合油皮嗎?", "小美")
    await cue_firing.fire_cue(services, stream_id, "open/0")
    _, before = await service.load_state(services, stream_id)

    fresh = await make_services(sqlite_url, MemoryHub())  # a new process: empty hub, same record
    try:
        _, after = await service.load_state(fresh, stream_id)
    finally:
        await fresh.db.dispose()
    for section in ("stream", "segment", "pinned", "cues", "run_sheet"):
        assert after[section] == before[section], section
    assert set(after["countdowns"]) == {countdown["id"], *before["countdowns"]}
    assert after["countdowns"][countdown["id"]]["ends_at"] == countdown["ends_at"]


async def test_acting_on_a_stream_the_hub_does_not_hold(services, stream_id: str) -> None:  # type: ignore[no-untyped-def]
    assert await services.hub.snapshot(stream_id) is None  # e.g. right after a restart
    result = await service.next_segment(services, stream_id)
    assert result["segment"]["id"] == "open"
    rev, doc = await services.hub.snapshot(stream_id)  # rebuilt from the record, change included
    assert doc["segment"]["id"] == "open" and doc["stream"]["status"] == "live"
    await service.pin(services, stream_id, "滿199減30")
    assert (await services.hub.snapshot(stream_id))[0] == rev + 1


async def test_firing_cues(services, stream_id: str, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    await service.next_segment(services, stream_id)
    fired = await cue_firing.fire_cue(services, stream_id, "open/0")  # countdown cue
    assert fired["action"] == "countdown" and fired["result"]["seconds"] == 60
    _, doc = await service.load_state(services, stream_id)
    assert doc["cues"]["open/0"]["fired_ms"] == fired["fired_ms"]
    assert doc["countdowns"][fired["result"]["id"]]["label"] == "福利倒計時"
    with pytest.raises(ShowError):
        await cue_firing.fire_cue(services, stream_id, "open/0")
    again = await cue_firing.fire_cue(services, stream_id, "open/0", force=True)
    assert again["result"]["id"] != fired["result"]["id"]

    await cue_firing.fire_cue(services, stream_id, "open/1")  # pin cue
    assert (await service.load_state(services, stream_id))[1]["pinned"]["text"] == "評論「想要」參與免單抽獎"
    await cue_firing.fire_cue(services, stream_id, "mask-intro/0")  # note cue: host only
    assert (await service.load_state(services, stream_id))[1]["note"]["text"] == "提醒加微信領直播專屬福利"
    await service.next_segment(services, stream_id)  # a note belongs to its segment
    assert (await service.load_state(services, stream_id))[1]["note"] is None

    # Flash sale with no runner registered: refused, and the cue is not marked fired.
    monkeypatch.delitem(services.cues._runners, "flash_sale", raising=False)
    with pytest.raises(cues.NoCueRunner):
        await cue_firing.fire_cue(services, stream_id, "mask-close/0")
    async with services.db.session() as session:
        row = await session.get(StreamRow, stream_id)
        assert "mask-close/0" not in row.fired_cues

    calls: list[tuple[str, dict[str, Any]]] = []

    async def run_sale(sid: str, cue: dict[str, Any]) -> dict[str, Any]:
        calls.append((sid, cue))
        return {"id": "sale-1"}

    services.cues.register("flash_sale", run_sale)
    result = await cue_firing.fire_cue(services, stream_id, "mask-close/0")
    assert result["result"] == {"id": "sale-1"}
    sid, cue = calls[0]
    assert sid == stream_id and cue["sku"] == "MASK-01" and cue["stock"] == 200 and cue["first_n"] == 50
    assert cue["duration_seconds"] == 300 and cue["per_user_limit"] == 2 and float(cue["price"]) == 79
    with pytest.raises(LookupError):
        await cue_firing.fire_cue(services, stream_id, "mask-close/7")


async def test_firing_cues_faster_divides_their_durations(services, stream_id: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    await service.next_segment(services, stream_id)
    before = service.now_ms()
    fired = await cue_firing.fire_cue(services, stream_id, "open/0", time_scale=20)  # a 60 s countdown
    assert fired["time_scale"] == 20 and fired["result"]["seconds"] == 3
    assert 3000 <= fired["result"]["ends_at"] - before <= 3000 + (service.now_ms() - before)
    _, doc = await service.load_state(services, stream_id)
    assert doc["cues"]["open/0"]["fired_ms"] == fired["fired_ms"]  # the run sheet shows it done
    assert doc["cues"]["open/0"]["summary"].startswith("倒計時 60s")  # the script's own numbers stay

    calls: list[dict[str, Any]] = []

    async def run(sid: str, cue: dict[str, Any]) -> dict[str, Any]:
        calls.append(cue)
        return {"id": f"x{len(calls)}"}

    services.cues.register("flash_sale", run)
    await cue_firing.fire_cue(services, stream_id, "mask-close/0", time_scale=7)  # 300 s sale
    assert calls[-1]["duration_seconds"] == 43 and calls[-1]["stock"] == 200  # round(300 / 7); stock as is
    await cue_firing.fire_cue(services, stream_id, "mask-close/0", force=True, time_scale=10_000)
    assert calls[-1]["duration_seconds"] == 1  # never below one second
    await cue_firing.fire_cue(services, stream_id, "mask-close/0", force=True, time_scale=0.5)
    assert calls[-1]["duration_seconds"] == 600  # slower works too
    pinned = await cue_firing.fire_cue(services, stream_id, "open/1", time_scale=20)  # nothing to scale
    assert pinned["result"]["text"] == "評論「想要」參與免單抽獎"
    for bad in (0, -1, float("inf"), float("nan"), True, "2", 10_001):
        with pytest.raises(ValueError, match="time_scale"):
            await cue_firing.fire_cue(services, stream_id, "mask-intro/0", time_scale=bad)
    async with services.db.session() as session:
        row = await session.get(StreamRow, stream_id)
        assert "mask-intro/0" not in row.fired_cues  # refused before anything ran


def test_scale_cue_touches_only_the_duration() -> None:
    assert cues.scale_cue("lottery", {"keyword": "想要", "winners": 3, "duration_seconds": 120}, 40) == {
        "keyword": "想要", "winners": 3, "duration_seconds": 3}
    assert cues.scale_cue("countdown", {"seconds": 10, "label": "x"}, 4) == {"seconds": 3, "label": "x"}  # 2.5 up
    assert cues.scale_cue("note", {"text": "t"}, 20) == {"text": "t"}


async def test_section_loaders_fill_other_domains_sections(services, stream_id, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async def metrics(sid: str, now: int) -> dict[str, Any]:
        return {"viewers": 321, "comments_per_min": 4, "orders": 2, "gmv": 198, "intent": {"想要": 132}}

    async def broken(sid: str, now: int) -> Any:
        raise RuntimeError("boom")

    services.sections.register("metrics", metrics)
    services.sections.register("questions", broken)
    _, doc = await service.load_state(services, stream_id)
    assert doc["metrics"]["intent"] == {"想要": 132}
    assert doc["questions"] == []  # the broken loader's section keeps its default
    with pytest.raises(ValueError):
        services.sections.register("segment", metrics)


async def test_prompter_commands(services, stream_id: str) -> None:  # type: ignore[no-untyped-def]
    async with services.hub.subscribe(stream_id) as feed:
        await service.load_state(services, stream_id)
        await service.prompter_command(services, stream_id, "speed", 5)
        message = await asyncio.wait_for(feed.get(), 2)
        while message["type"] != "patch":
            message = await asyncio.wait_for(feed.get(), 2)
    assert message["ops"][0]["path"] == ["prompter"] and message["ops"][0]["value"]["value"] == 5
    with pytest.raises(ValueError):
        await service.prompter_command(services, stream_id, "explode")
    with pytest.raises(ValueError):
        await service.prompter_command(services, stream_id, "speed", 12)
