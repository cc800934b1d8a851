"""The YouTube bridge's Data API transport against a local HTTP server answering `videos.list` and
`liveChatMessages.list` with recorded responses (tests/bridge/fixtures/SOURCES.md), the bridge
pointed at it with `--api-url`; the events land in a real service.

- A page with `nextPageToken` and `pollingIntervalMillis`, then the recorded `liveChatEnded` error:
  the second poll carries the page token and waits the interval YouTube asked for; after the error
  the bridge stops polling, says why, sends what it read and exits 0 by itself.
- The recorded `quotaExceeded` error on the first poll: the bridge says the key's quota is used up
  and stops instead of retrying.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from livecompanion.ingest.bridges.recorded import PLATFORMS
from tests.bridge.test_runner import bridge, push_args
from tests.conftest import ROOT, ServerProcess
from tests.ingest.ingest_client import create_stream, sqlite_url_of, stored_ids

FIXTURES = ROOT / "tests" / "bridge" / "fixtures"
REAL = ROOT / "tests" / "ingest" / "fixtures" / "real"
KEY = "test-api-key"


def recorded() -> dict[str, Any]:
    return json.loads((FIXTURES / "youtube_data_api_server.json").read_text("utf-8"))


class DataAPI(BaseHTTPRequestHandler):
    """/youtube/v3/videos and /youtube/v3/liveChat/messages; the chat pages are served in order."""

    videos: Any = None
    pages: ClassVar[list[tuple[int, Any]]] = []
    polls: ClassVar[list[tuple[float, dict[str, list[str]]]]] = []

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/youtube/v3/videos":
            status, body = 200, self.videos
        elif url.path == "/youtube/v3/liveChat/messages":
            self.polls.append((time.monotonic(), query))
            status, body = self.pages.pop(0) if self.pages else (500, {})
        else:
            status, body = 404, {}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def run_bridge(server: ServerProcess, tmp_path: Path, pages: list[tuple[int, Any]]) -> tuple[str, str, int]:
    """(stream id, stderr, exit code) of `bridge youtube --api-key` against the local Data API,
    left to end by itself."""
    DataAPI.videos, DataAPI.pages, DataAPI.polls = recorded()["videos"], pages, []
    api = ThreadingHTTPServer(("127.0.0.1", 0), DataAPI)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    sid = create_stream(server)
    try:
        done = subprocess.run(
            bridge("youtube", "--video", "c7_kqMFDE8c", "--api-key", KEY,
                   "--api-url", f"http://127.0.0.1:{api.server_address[1]}/youtube/v3",
                   *push_args(server.base_url, server.tokens["ingest"], sid, tmp_path / "spool")),
            stderr=subprocess.PIPE, text=True, timeout=120,
        )  # fmt: skip
    finally:
        api.shutdown()
    return sid, done.stderr, done.returncode


def test_pages_follow_the_token_and_interval_and_an_ended_chat_stops_the_bridge(
    server: ServerProcess, tmp_path: Path
) -> None:
    page = json.loads((REAL / "youtube.ndjson").read_text("utf-8").splitlines()[0])  # a whole list response
    fixtures = recorded()
    sid, err, code = run_bridge(server, tmp_path, [(200, page), (403, fixtures["live_chat_ended"])])
    assert code == 0, err
    assert "the live chat has ended (liveChatEnded: The live chat is no longer live.)" in err
    expected = {e["id"] for e in PLATFORMS["youtube"].events(page)}
    assert len(expected) == len(page["items"]) == 51
    assert asyncio.run(stored_ids(sqlite_url_of(server.log.parent), sid)) == expected
    (first_at, first), (second_at, second) = DataAPI.polls  # no poll after the chat ended
    chat = fixtures["videos"]["items"][0]["liveStreamingDetails"]["activeLiveChatId"]
    assert first["liveChatId"] == second["liveChatId"] == [chat]
    assert first["key"] == [KEY]
    assert "pageToken" not in first
    assert second["pageToken"] == [page["nextPageToken"]]
    assert second_at - first_at >= page["pollingIntervalMillis"] / 1000 - 0.05


def test_quota_exceeded_is_said_and_stops_the_bridge(server: ServerProcess, tmp_path: Path) -> None:
    sid, err, code = run_bridge(server, tmp_path, [(403, recorded()["quota_exceeded"])])
    assert code == 0, err
    assert "YouTube: the API key's daily quota is used up (quotaExceeded)" in err
    assert len(DataAPI.polls) == 1  # not retried: it cannot succeed before the daily reset
    assert asyncio.run(stored_ids(sqlite_url_of(server.log.parent), sid)) == set()
