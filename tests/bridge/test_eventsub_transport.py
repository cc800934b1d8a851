"""The Twitch bridge's EventSub transport against a local Twitch: an HTTP server answering the token
validation, the user lookup and the subscription requests, and a WebSocket server playing recorded
EventSub frames (tests/bridge/fixtures/SOURCES.md), with the bridge pointed at them by
`--twitch-auth-url`, `--helix-url` and `--eventsub-url`. The events land in a real service.

The session: welcome -> the bridge subscribes (chat and follow, on the welcomed session) ->
keepalive -> notifications -> session_reconnect to a second URL, while one more notification is
still sent on the old connection -> the second connection's welcome -> more notifications there.
The bridge must yield every notification exactly once and in order (its `--record` file), store
what they map to, and not subscribe again after the reconnect (the subscriptions move with it).
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from websockets.sync.server import ServerConnection, serve

from livecompanion.ingest.bridges.recorded import PLATFORMS
from tests.bridge.test_runner import bridge, push_args, wait_for
from tests.conftest import ROOT, ServerProcess, free_port
from tests.ingest.ingest_client import create_stream, sqlite_url_of, stored_ids

FIXTURES = ROOT / "tests" / "bridge" / "fixtures"
REAL = ROOT / "tests" / "ingest" / "fixtures" / "real"
TOKEN = "test-user-token"  # what the bridge is given; the recorded validation answer is for twitchdev


def recorded() -> dict[str, Any]:
    return json.loads((FIXTURES / "twitch_eventsub_server.json").read_text("utf-8"))


def in_envelope(payload: dict[str, Any], message_id: str) -> dict[str, Any]:
    """A recorded notification payload ({subscription, event}) in the WebSocket envelope Twitch's
    WebSocket reference documents; see SOURCES.md (no whole recorded frame of this type was found)."""
    sub = payload["subscription"]
    return {
        "metadata": {"message_id": message_id, "message_type": "notification",
                     "message_timestamp": sub["created_at"], "subscription_type": sub["type"],
                     "subscription_version": sub["version"]},
        "payload": payload,
    }  # fmt: skip


class TwitchAPI(BaseHTTPRequestHandler):
    """id.twitch.tv/oauth2/validate and api.twitch.tv/helix, answered with recorded bodies."""

    answers: ClassVar[dict[str, Any]] = {}
    requests: ClassVar[list[tuple[str, str, dict[str, str], Any]]] = []

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self.requests.append(("GET", url.path, dict(self.headers), parse_qs(url.query)))
        if url.path == "/oauth2/validate":
            ok = self.headers.get("Authorization") == f"OAuth {TOKEN}"
            self._answer(200, self.answers["validate"]) if ok else self._answer(401, {})
        elif url.path == "/helix/users":
            self._answer(200, self.answers["users"])
        else:
            self._answer(404, {})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        self.requests.append(("POST", urlsplit(self.path).path, dict(self.headers), body))
        self._answer(202, self.answers["subscription_created"])

    def log_message(self, *args: Any) -> None:
        pass


def test_eventsub_session_with_a_reconnect_lands_every_notification_once(server: ServerProcess, tmp_path: Path) -> None:
    frames = recorded()
    real = [json.loads(line) for line in (REAL / "twitch.ndjson").read_text("utf-8").splitlines() if line.strip()]
    chat, shared_chat, follow_v2 = real[11], real[12], real[14]  # twitch.ndjson lines 12, 13, 15
    on_first = [in_envelope(chat, "assembled-1"), frames["notification_hype_train_progress"],
                frames["notification_channel_follow_v1"]]  # fmt: skip
    in_flight = [in_envelope(shared_chat, "assembled-2")]  # sent on the old connection after the reconnect
    on_second = [frames["notification_hype_train_end"], in_envelope(follow_v2, "assembled-3")]
    notifications = on_first + in_flight + on_second

    TwitchAPI.answers, TwitchAPI.requests = frames, []
    api = ThreadingHTTPServer(("127.0.0.1", 0), TwitchAPI)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    api_url = f"http://127.0.0.1:{api.server_address[1]}"
    port = free_port()
    second_welcomed = threading.Event()
    finished = threading.Event()  # ends the handlers: the server's shutdown waits for them
    paths: list[str] = []

    def subscribed() -> int:
        return sum(1 for method, *_ in TwitchAPI.requests if method == "POST")

    def handler(ws: ServerConnection) -> None:
        path = ws.request.path if ws.request is not None else ""
        paths.append(path)
        ws.send(json.dumps(frames["session_welcome"]))
        if path == "/ws":
            wait_for(lambda: subscribed() >= 2, timeout=20)
            ws.send(json.dumps(frames["session_keepalive"]))
            for frame in on_first:
                ws.send(json.dumps(frame))
            reconnect = json.loads(json.dumps(frames["session_reconnect"]))
            reconnect["payload"]["session"]["reconnect_url"] = f"ws://127.0.0.1:{port}/reconnect"
            ws.send(json.dumps(reconnect))
            for frame in in_flight:
                ws.send(json.dumps(frame))
            second_welcomed.wait(20)
            time.sleep(1)
        elif path == "/reconnect":
            second_welcomed.set()
            for frame in on_second:
                ws.send(json.dumps(frame))
            finished.wait(60)
        else:
            finished.wait(60)

    record = tmp_path / "raw.ndjson"
    with serve(handler, "127.0.0.1", port) as ws_server:
        threading.Thread(target=ws_server.serve_forever, daemon=True).start()
        sid = create_stream(server)
        args = push_args(server.base_url, server.tokens["ingest"], sid, tmp_path / "spool")
        live = subprocess.Popen(
            bridge("twitch", "--channel", "TwitchDev", "--twitch-token", TOKEN, "--room-guard", "off",
                   "--eventsub-url", f"ws://127.0.0.1:{port}/ws", "--helix-url", f"{api_url}/helix",
                   "--twitch-auth-url", f"{api_url}/oauth2", "--record", str(record), *args),
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        expected = {e["id"] for n in notifications for e in PLATFORMS["twitch"].events(n)}
        try:
            wait_for(lambda: asyncio.run(stored_ids(sqlite_url_of(server.log.parent), sid)) == expected, timeout=60)
        finally:
            live.send_signal(signal.SIGINT)
            _, err = live.communicate(timeout=60)
            finished.set()
            ws_server.shutdown()
            api.shutdown()
    assert live.returncode == 0, err
    # One comment (the recorded shared-chat notification is the same message, same id: one event) and
    # two follows; the hype trains give nothing.
    assert sorted(e["type"] for n in notifications for e in PLATFORMS["twitch"].events(n)) == [
        "comment", "comment", "follow", "follow"]  # fmt: skip
    assert len(expected) == 3
    # Every notification once, in order; welcomes, keepalives and the reconnect are not messages.
    assert [json.loads(line) for line in record.read_text("utf-8").splitlines()] == notifications
    assert paths == ["/ws", "/reconnect"]
    posts = [(path, headers, body) for method, path, headers, body in TwitchAPI.requests if method == "POST"]
    assert [body["type"] for _, _, body in posts] == ["channel.chat.message", "channel.follow"]  # not again
    welcome_session = frames["session_welcome"]["payload"]["session"]["id"]
    for path, headers, body in posts:
        assert path == "/helix/eventsub/subscriptions"
        assert body["transport"] == {"method": "websocket", "session_id": welcome_session}
        assert body["condition"]["broadcaster_user_id"] == frames["users"]["data"][0]["id"]
        assert headers["Client-Id"] == frames["validate"]["client_id"]
        assert headers["Authorization"] == f"Bearer {TOKEN}"
    lookups = [query for method, path, _, query in TwitchAPI.requests if path == "/helix/users"]
    assert lookups == [{"login": ["twitchdev"]}]


def test_a_refused_token_is_said_and_retried(server: ServerProcess, tmp_path: Path) -> None:
    """Twitch's 401 on validation is told on stderr with its status, and the bridge keeps trying
    (with backoff) until stopped; it exits 0 on Ctrl-C."""
    TwitchAPI.answers, TwitchAPI.requests = recorded(), []
    api = ThreadingHTTPServer(("127.0.0.1", 0), TwitchAPI)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    api_url = f"http://127.0.0.1:{api.server_address[1]}"
    sid = create_stream(server)
    live = subprocess.Popen(
        bridge("twitch", "--channel", "twitchdev", "--twitch-token", "not-the-token", "--helix-url",
               f"{api_url}/helix", "--twitch-auth-url", f"{api_url}/oauth2", "--eventsub-url", "ws://127.0.0.1:9/ws",
               *push_args(server.base_url, server.tokens["ingest"], sid, tmp_path / "spool")),
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: len(TwitchAPI.requests) >= 2, timeout=30)
    finally:
        live.send_signal(signal.SIGINT)
        _, err = live.communicate(timeout=60)
        api.shutdown()
    assert live.returncode == 0, err
    assert "Twitch refused the token (401)" in err
    assert {path for _, path, _, _ in TwitchAPI.requests} == {"/oauth2/validate"}
