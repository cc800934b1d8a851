"""The bridge runner against a real server process: replays land exactly once, a service killed and
restarted in the middle loses nothing and doubles nothing, Ctrl-C saves what is not acknowledged and
the next run sends it, and a connected bridge shows up in the stream's sources."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.bridge.recordings import write_twitch
from tests.conftest import ROOT, ServerProcess, free_port, start_server
from tests.ingest.ingest_client import create_stream, sqlite_url_of, stored_events, stored_ids

REAL = ROOT / "tests" / "ingest" / "fixtures" / "real"


def bridge(platform: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "livecompanion", "bridge", platform, *args]


def push_args(server_url: str, token: str, stream: str, spool: Path) -> list[str]:
    return ["--stream", stream, "--url", server_url, "--token", token, "--spool", str(spool)]


def wait_for(predicate, timeout: float = 30.0, every: float = 0.1) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError("timed out waiting")


def test_replay_of_real_recording_lands_as_printed(server: ServerProcess, tmp_path: Path) -> None:
    """`--from` into the service stores exactly the events `--from --print` shows (real Douyin
    recording; its messages carry no time, so the service stamps them and nothing is refused). The
    recording holds two rooms: both keep the first and say why the other room's lines are left."""
    sid = create_stream(server)
    printed = subprocess.run(
        bridge("douyin", "--from", str(REAL / "douyin.ndjson"), "--print"), capture_output=True, text=True, timeout=60
    )
    assert printed.returncode == 0, printed.stderr
    expected = {json.loads(line)["id"] for line in printed.stdout.splitlines()}
    assert len(expected) == 12
    assert printed.stderr.count("of room 7004347458255899428, not 6922580638159719176") == 7
    args = push_args(server.base_url, server.tokens["ingest"], sid, tmp_path / "spool")
    for _ in range(2):  # the second replay is all duplicates
        run = subprocess.run(
            bridge("douyin", "--from", str(REAL / "douyin.ndjson"), *args), capture_output=True, text=True, timeout=60
        )
        assert run.returncode == 0, run.stderr
    assert asyncio.run(stored_ids(sqlite_url_of(tmp_path), sid)) == expected
    assert "dup 12" in run.stderr.splitlines()[-2]  # the final status line, before the latency line
    assert "dropping messages of room 7004347458255899428" in run.stderr
    report = httpx.get(f"{server.base_url}/api/streams/{sid}/report", headers=server.headers("operator"))
    assert report.status_code == 200, report.text
    assert report.json()["source_silence"]["douyin"]["events"] == 12


def test_service_killed_and_restarted_mid_replay_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    port = free_port()
    server = start_server(tmp_path, port=port)
    try:
        sid = create_stream(server)
        recording = tmp_path / "room.ndjson"
        ids = write_twitch(recording, 30_000)
        url = sqlite_url_of(tmp_path)
        args = push_args(server.base_url, server.tokens["ingest"], sid, tmp_path / "spool")
        replay = subprocess.Popen(
            bridge("twitch", "--from", str(recording), "--rate", "6000", "--drain-timeout", "60", *args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        wait_for(lambda: asyncio.run(stored_events(url, sid)) > 3_000)
        server.process.kill()  # no shutdown: whatever was not committed is gone
        server.process.wait(10)
        time.sleep(1.5)  # the replay keeps reading; the runner backs off and keeps the rest
        server = start_server(tmp_path, tokens=server.tokens, port=port)
        _, err = replay.communicate(timeout=120)
        assert replay.returncode == 0, err
        stored = asyncio.run(stored_ids(url, sid))
        assert stored == ids  # nothing lost
        assert asyncio.run(stored_events(url, sid)) == len(ids)  # nothing doubled
        assert "reconnecting" in err or "service down" in err or "dup" in err
    finally:
        server.stop()


def test_ctrl_c_saves_what_is_not_acknowledged_and_the_next_run_sends_it(tmp_path: Path) -> None:
    port = free_port()
    server = start_server(tmp_path, port=port)
    sid = create_stream(server)
    tokens = server.tokens
    server.stop()  # the service is away while the room talks
    spool = tmp_path / "spool"
    recording = tmp_path / "room.ndjson"
    ids = write_twitch(recording, 2_000)
    args = push_args(f"http://127.0.0.1:{port}", tokens["ingest"], sid, spool)
    live = subprocess.Popen(
        bridge("douyin", "--stdin", *args), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert live.stdin is not None
    # Douyin messages from stdin, in the fetcher envelope shape, one per recorded Twitch id.
    for n, eid in enumerate(sorted(ids)):
        message = {
            "method": "WebcastChatMessage",
            "msg_id": eid.removeprefix("twitch:"),
            "payload": {"content": f"question {n}", "user": {"uid": 1000 + n, "nickname": "v"}},
        }
        live.stdin.write(json.dumps(message).encode() + b"\n")
    live.stdin.flush()
    time.sleep(2)
    live.send_signal(signal.SIGINT)
    _, err = live.communicate(timeout=60)
    assert live.returncode == 0, err
    assert b"saved in" in err
    assert any(spool.iterdir())
    server = start_server(tmp_path, tokens=tokens, port=port)
    try:
        empty = tmp_path / "empty.ndjson"
        empty.write_text("")
        run = subprocess.run(bridge("douyin", "--from", str(empty), *args), capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        stored = asyncio.run(stored_ids(sqlite_url_of(tmp_path), sid))
        assert stored == {f"douyin:{eid.removeprefix('twitch:')}" for eid in ids}
        assert not any(spool.iterdir())
    finally:
        server.stop()


def test_a_connected_bridge_is_listed_in_the_stream_sources(server: ServerProcess, tmp_path: Path) -> None:
    sid = create_stream(server)
    args = push_args(server.base_url, server.tokens["ingest"], sid, tmp_path / "spool")
    live = subprocess.Popen(bridge("douyin", "--stdin", *args), stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert live.stdin is not None
    message = {"method": "WebcastChatMessage", "msg_id": 1, "payload": {"content": "hi", "user": {"uid": 5}}}
    live.stdin.write(json.dumps(message).encode() + b"\n")
    live.stdin.flush()

    def listed() -> dict:  # type: ignore[type-arg]
        state = httpx.get(f"{server.base_url}/api/streams/{sid}", headers=server.headers("viewer")).json()["state"]
        found = [s for s in (state.get("sources") or {}).values() if s.get("events")]
        return found[0] if found else {}

    wait_for(lambda: bool(listed()))
    entry = listed()
    assert (entry["platform"], entry["connected"], entry["events"]) == ("douyin", True, 1)
    assert "stdin" in entry["library"] and entry["last_event_ms"] > time.time() * 1000 - 60_000
    live.send_signal(signal.SIGINT)
    live.communicate(timeout=30)
    wait_for(lambda: listed().get("connected") is False)
    os.environ.get("CI")  # nothing to skip: this test needs only the embedded server
