"""What the console and the home page ask of the service, on a real server process: the chat feed
from the record, answered questions, notes to the host, links without the operator token, the phone
remote's narrow token, archived streams, `/` without a token, and a port clash found first."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from typing import Any

import httpx

from livecompanion.server import port_taken
from tests.conftest import EXAMPLE_SCRIPT, ServerProcess


def new_stream(server: ServerProcess) -> str:
    made = httpx.post(f"{server.base_url}/api/streams", content=EXAMPLE_SCRIPT.read_bytes(),
                      headers={**server.headers("operator"), "Content-Type": "application/yaml"})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def call(server: ServerProcess, method: str, path: str, role: str = "operator", **kwargs: Any) -> httpx.Response:
    return httpx.request(method, f"{server.base_url}{path}", headers=server.headers(role), timeout=10, **kwargs)


def state(server: ServerProcess, stream_id: str) -> dict[str, Any]:
    return dict(call(server, "GET", f"/api/streams/{stream_id}", "viewer").json()["state"])


def test_chat_feed_answered_and_notes(server: ServerProcess) -> None:
    stream_id = new_stream(server)
    base = f"/api/streams/{stream_id}"
    now = int(time.time() * 1000)
    events = [
        {"type": "comment", "id": "c1", "ts": now - 700_000, "user_id": "u1", "nickname": "小美", "text": "幾號鏈接"},
        {"type": "comment", "id": "c2", "ts": now - 5_000, "user_id": "u2", "nickname": "阿珍",
         "text": "孕婦可以用嗎？"},
        {"type": "comment", "id": "c3", "ts": now - 4_000, "user_id": "u3", "nickname": "<b>x</b>", "text": "已拍"},
        {"type": "comment", "id": "c4", "ts": now - 3_000, "user_id": "u4", "text": "加微信 abc123456 領優惠"},
    ]
    sent = call(server, "POST", f"{base}/events", "ingest", json=events)
    assert sent.status_code == 200 and sent.json()["accepted"] == 4, sent.text
    feed = call(server, "GET", f"{base}/comments", "viewer").json()
    assert [c["text"] for c in feed] == ["已拍", "孕婦可以用嗎？", "幾號鏈接"]  # newest first, no spam
    assert feed[1]["kind"] == "question" and feed[1]["question_key"] and feed[0]["intents"]
    assert feed[0]["nickname"] == "<b>x</b>"  # as sent: the page shows it as text
    recent = call(server, "GET", f"{base}/comments", "viewer", params={"since_ms": now - 600_000}).json()
    assert [c["text"] for c in recent] == ["已拍", "孕婦可以用嗎？"]
    later = call(server, "GET", f"{base}/comments", "viewer", params={"after": feed[0]["seq"]}).json()
    assert later == []
    assert call(server, "GET", f"{base}/comments", "viewer", params={"limit": 0}).status_code == 422

    key = feed[1]["question_key"]
    marked = call(server, "POST", f"{base}/questions/answered", json={"key": key})
    assert marked.status_code == 200 and key in marked.json()["answered"]
    assert key in state(server, stream_id)["answered"]
    undone = call(server, "POST", f"{base}/questions/answered", json={"key": key, "answered": False})
    assert key not in undone.json()["answered"]
    assert call(server, "POST", f"{base}/questions/answered", "viewer", json={"key": key}).status_code == 403

    note = call(server, "POST", f"{base}/notes", json={"text": "講一下贈品"})
    assert note.status_code == 200 and state(server, stream_id)["note"]["text"] == "講一下贈品"
    assert call(server, "DELETE", f"{base}/notes").status_code == 204
    assert state(server, stream_id)["note"] is None
    assert call(server, "POST", f"{base}/notes", json={"text": ""}).status_code == 422


def test_links_and_the_phone_remote_carry_no_operator_token(server: ServerProcess) -> None:
    stream_id = new_stream(server)
    operator = server.tokens["operator"]
    links = call(server, "GET", f"/api/streams/{stream_id}/links").json()
    assert set(links) == {"teleprompter", "overlay", "dashboard", "remote"}
    assert all(operator not in url for url in links.values()), links
    assert links["overlay"].endswith(f"token={server.tokens['viewer']}")
    remote = links["remote"].rsplit("token=", 1)[1]
    # The remote's token drives this stream's teleprompter and ▶, reads its screens, and nothing else.
    as_remote = {"Authorization": f"Bearer {remote}"}
    base = f"{server.base_url}/api/streams/{stream_id}"
    assert httpx.post(f"{base}/prompter", json={"action": "play"}, headers=as_remote).status_code == 200
    assert httpx.post(f"{base}/segments/next", json={}, headers=as_remote).status_code == 200
    assert httpx.post(f"{base}/countdowns", json={"seconds": 5}, headers=as_remote).status_code == 401
    assert httpx.post(f"{base}/end", headers=as_remote).status_code == 401
    other = new_stream(server)
    assert httpx.post(f"{server.base_url}/api/streams/{other}/prompter", json={"action": "play"},
                      headers=as_remote).status_code == 403
    page = httpx.get(f"{server.base_url}/streams/{stream_id}/remote", params={"token": remote})
    assert page.status_code == 200 and operator not in page.text
    assert httpx.get(f"{server.base_url}/streams/{other}/remote", params={"token": remote}).status_code == 401
    # The home page: console links carry the operator token, every other link only what it needs.
    home = httpx.get(f"{server.base_url}/", params={"token": operator}).text
    for line in home.splitlines():
        if "href=" in line and operator in line:
            assert "/console?" in line or 'href="/?token=' in line, line
    viewer_home = httpx.get(f"{server.base_url}/", params={"token": server.tokens["viewer"]}).text
    assert operator not in viewer_home and "/console?" not in viewer_home


def test_home_without_a_token_and_archived_streams(server: ServerProcess) -> None:
    welcome = httpx.get(f"{server.base_url}/")
    assert welcome.status_code == 200 and "text/html" in welcome.headers["content-type"]
    assert "權杖" in welcome.text and "8000" in welcome.text
    wrong = httpx.get(f"{server.base_url}/", params={"token": "nope"})
    assert wrong.status_code == 401 and "text/html" in wrong.headers["content-type"]
    assert httpx.get(f"{server.base_url}/favicon.ico").status_code == 200
    keep, hide = new_stream(server), new_stream(server)
    archived = call(server, "POST", f"/api/streams/{hide}/archive", json={"archived": True})
    assert archived.status_code == 200 and archived.json()["archived_ms"]
    listed = [s["id"] for s in call(server, "GET", "/api/streams", "viewer").json()]
    assert keep in listed and hide not in listed
    everything = [s["id"] for s in call(server, "GET", "/api/streams", "viewer", params={"archived": "true"}).json()]
    assert hide in everything
    assert hide not in httpx.get(f"{server.base_url}/", params={"token": server.tokens["operator"]}).text
    compared = httpx.get(f"{server.base_url}/dashboard", params={"token": server.tokens["viewer"]})
    assert compared.status_code == 200
    call(server, "POST", f"/api/streams/{keep}/segments/next", json={})
    live = call(server, "POST", f"/api/streams/{keep}/archive", json={"archived": True})
    assert live.status_code == 409  # end a live stream before hiding it
    shown = call(server, "POST", f"/api/streams/{hide}/archive", json={"archived": False})
    assert shown.json()["archived_ms"] is None


def test_a_taken_port_is_found_before_any_url_is_printed(tmp_path: Any) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert port_taken("127.0.0.1", port) is not None
        done = subprocess.run([sys.executable, "-m", "livecompanion", "serve", "--port", str(port)], check=False,
                              capture_output=True, text=True, timeout=60,
                              env={"LIVECOMPANION_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 1
    assert "http://" not in done.stdout and str(port) in done.stderr, (done.stdout, done.stderr)
