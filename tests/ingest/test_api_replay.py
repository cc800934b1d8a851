"""scripts/replay.py against a real server: a simulated stream's log, fast, over HTTP and the socket;
a second replay is all duplicates; `--id-prefix` makes it new; timestamps rebased or kept."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import orjson

from livecompanion.storage.db import Database
from tests.conftest import ROOT, ServerProcess
from tests.ingest.ingest_client import create_stream, sqlite_url_of, stored_events


def replay(server: ServerProcess, log: Path, sid: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "replay.py"),
            str(log),
            "--url",
            server.base_url,
            "--stream",
            sid,
            "--token",
            server.tokens["ingest"],
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


async def _ts_range(url: str, sid: str) -> tuple[int, int]:
    from sqlalchemy import func, select

    from livecompanion.storage.tables import EventRow

    db = Database(url)
    try:
        async with db.session() as s:
            row = (
                await s.execute(
                    select(func.min(EventRow.ts_ms), func.max(EventRow.ts_ms)).where(
                        EventRow.stream_id == sid
                    )
                )
            ).one()
            return int(row[0]), int(row[1])
    finally:
        await db.dispose()


async def test_replay_a_recorded_stream(server: ServerProcess, tmp_path: Path) -> None:
    from livecompanion.demo import load_script
    from livecompanion.demo.simulator import DEFAULT_START_MS, Simulator

    events = list(Simulator(load_script(), seed=3, room_size=200).events())[:1500]
    events.insert(10, {"type": "comment", "user_id": "x"})  # a bad line: reported, the rest goes in
    log = tmp_path / "stream.ndjson"
    log.write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")
    span_s = (events[-1]["ts"] - events[0]["ts"]) / 1000
    sid = create_stream(server)

    # 1000x real speed over HTTP, timestamps rebased to now and compressed by the speed.
    started = time.time() * 1000
    first = replay(server, log, sid, "--speed", "1000", "--batch", "200")
    assert first.returncode == 1, first.stderr
    assert (
        "replayed 1,501 events" in first.stdout and "accepted 1,500, duplicates 0, rejected 1" in first.stdout
    )
    assert "text: Field required" in first.stderr  # the one bad event, counted and explained
    assert await stored_events(sqlite_url_of(tmp_path), sid) == 1500
    low, high = await _ts_range(sqlite_url_of(tmp_path), sid)
    assert started - 1000 <= low and high - low <= span_s * 1000 / 1000 + 1000

    # Again, over the socket: every event is a duplicate now.
    again = replay(server, log, sid, "--speed", "max", "--via", "ws", "--batch", "300")
    assert "accepted 0, duplicates 1,500, rejected 1, refused 0" in again.stdout, again.stderr
    assert await stored_events(sqlite_url_of(tmp_path), sid) == 1500

    # With an id prefix and the recorded times kept: all new, at their old times.
    good = log.read_bytes().replace(b'{"type":"comment","user_id":"x"}\n', b"")
    (tmp_path / "good.ndjson").write_bytes(good)
    third = replay(server, tmp_path / "good.ndjson", sid, "--speed", "max", "--keep-ts", "--id-prefix", "r2-")
    assert third.returncode == 0, third.stderr
    assert await stored_events(sqlite_url_of(tmp_path), sid) == 3000
    low, _ = await _ts_range(sqlite_url_of(tmp_path), sid)
    assert low == DEFAULT_START_MS
