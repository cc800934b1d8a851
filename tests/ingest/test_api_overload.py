"""Backpressure as senders see it: when the writer is saturated, a request waits, then gets 503 with
Retry-After (HTTP) or an error with `retry_after` (socket); nothing of it is stored."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from livecompanion.api.app import create_app
from livecompanion.config import Settings
from livecompanion.storage.migrate import upgrade
from tests.conftest import EXAMPLE_SCRIPT

TOKENS = {"operator_token": "op", "ingest_token": "in", "viewer_token": "vw"}


@pytest.fixture
def client(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, **TOKENS)
    upgrade(settings.resolved_database_url())
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def comments(prefix: str, n: int) -> list[dict[str, object]]:
    return [{"type": "comment", "id": f"{prefix}{i}", "user_id": "u", "text": "hi"} for i in range(n)]


def test_a_saturated_writer_answers_503_with_retry_after(client: TestClient) -> None:
    auth = {"Authorization": "Bearer op"}
    sid = client.post(
        "/api/streams",
        content=EXAMPLE_SCRIPT.read_bytes(),
        headers={**auth, "Content-Type": "application/yaml"},
    ).json()["id"]
    ingest = client.app.state.services.ingest  # type: ignore[attr-defined]
    writer = ingest.writer
    writer.max_pending_events, writer.admit_timeout = 10, 0.3
    after = writer.after_commit

    async def slow_after(commits: list[object]) -> None:  # the screens are slow: acks wait
        await asyncio.sleep(1.5)
        await after(commits)

    writer.after_commit = slow_after
    first: dict[str, object] = {}

    def send_first() -> None:
        r = client.post(
            f"/api/streams/{sid}/events", json=comments("a", 10), headers={"Authorization": "Bearer in"}
        )
        first.update(r.json())

    thread = threading.Thread(target=send_first)
    thread.start()
    time.sleep(0.5)  # the first 10 events are committed and wait for their after-commit step
    started = time.monotonic()
    r = client.post(
        f"/api/streams/{sid}/events", json=comments("b", 5), headers={"Authorization": "Bearer in"}
    )
    waited = time.monotonic() - started
    assert r.status_code == 503 and r.headers["retry-after"] == "1", r.text
    assert "overloaded" in r.json()["detail"] and waited >= 0.25  # it waited for room first
    with client.websocket_connect(f"/ws/streams/{sid}/ingest?token=in") as ws:
        ws.send_json(comments("c", 5))
        error = ws.receive_json()
    assert (
        error["type"] == "error" and error["status"] == 503 and error["retry_after"] > 0 and error["seq"] == 1
    )
    thread.join(10)
    assert first["accepted"] == 10
    # Once the writer has room again the same events go in: nothing was half-stored.
    writer.after_commit = after
    again = client.post(
        f"/api/streams/{sid}/events", json=comments("b", 5), headers={"Authorization": "Bearer in"}
    )
    assert again.json() == {"accepted": 5, "duplicates": 0, "rejected": []}
