"""What the alerts read at each ingest commit: the two sections their audience rules use, not the
whole live document (a commit comes a tenth of a second a room; issue 20's ten rooms made that a
full snapshot, run sheet, questions and ticker decoded, fifty times a second an instance)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from livecompanion.config import Settings
from livecompanion.ingest.rows import StreamCommit, records_of_values
from livecompanion.scripts.models import Script
from livecompanion.storage import streams
from livecompanion.storage.migrate import upgrade_async
from livecompanion.stream import service as stream_service
from livecompanion.wiring import Services, build_services

SCRIPT = Script.model_validate({"title": "t", "segments": [{"kind": "opening", "target": "5m"}]})


@pytest.fixture
async def services(sqlite_url: str) -> AsyncIterator[Services]:
    await upgrade_async(sqlite_url)
    made = build_services(Settings(database_url=sqlite_url).with_generated_tokens())  # no watch loop
    yield made
    await made.hub.close()
    await made.db.dispose()


def _comments(stream_id: str) -> list[StreamCommit]:
    now = int(time.time() * 1000)
    values: list[tuple[int, Any]] = [
        (i, {"type": "comment", "user_id": f"v{i}", "text": "多少錢", "ts": now + i}) for i in range(5)]
    return [StreamCommit(stream_id, records_of_values(stream_id, values, now, []), [])]


async def test_an_audience_commit_reads_two_sections_not_the_document(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    sid = await streams.create_stream(services.db, SCRIPT, "title: t\n")
    await stream_service.next_segment(services, sid)  # live: the audience rules look
    snapshots: list[str] = []
    whole = services.hub.snapshot

    async def counted(stream_id: str) -> Any:
        snapshots.append(stream_id)
        return await whole(stream_id)

    monkeypatch.setattr(services.hub, "snapshot", counted)
    await services.alerts.on_commit(_comments(sid))
    assert snapshots == []  # before: one whole snapshot a commit
    assert sid in services.alerts._live  # it did read the stream as live
    await services.hub.drop(sid)  # a hub without the document: read whole, rebuilt from the record
    services.alerts._live.clear()  # (read at all: a stream not yet seen live, or a rule that could raise)
    await services.alerts.on_commit(_comments(sid))
    assert snapshots
    assert (await services.hub.sections(sid, ("stream",)) or {}).get("stream", {}).get("status") == "live"


async def test_a_commit_with_nothing_to_raise_reads_no_document(services: Services,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the stream is watched as live, a commit whose audience rules cannot raise anything (no
    fall in the online count, comments not collapsing) reads nothing of the document: it could only
    stop an alert or word it. A Redis round trip at every commit before (fails on the old code)."""
    sid = await streams.create_stream(services.db, SCRIPT, "title: t\n")
    await stream_service.next_segment(services, sid)
    reads: list[str] = []
    sections = services.hub.sections

    async def counted(stream_id: str, names: tuple[str, ...]) -> Any:
        reads.append(stream_id)
        return await sections(stream_id, names)

    monkeypatch.setattr(services.hub, "sections", counted)
    await services.alerts.on_commit(_comments(sid))
    assert reads == [sid] and sid in services.alerts._live  # the first: is it live?
    for _ in range(5):
        await services.alerts.on_commit(_comments(sid))
    assert reads == [sid]
    # A fall in the online count: the document is read, and the alert raised.
    now = int(time.time() * 1000)
    values: list[tuple[int, Any]] = [(0, {"type": "viewer_count", "count": 1000, "ts": now}),
                                     (1, {"type": "viewer_count", "count": 500, "ts": now + 5000})]
    await services.alerts.on_commit([StreamCommit(sid, records_of_values(sid, values, now, []), [])])
    assert reads == [sid, sid]
    _, doc = await services.hub.snapshot(sid)
    assert any(a["kind"] == "viewers_drop" for a in (doc.get("alerts") or {}).values())
