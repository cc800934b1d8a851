"""Alerts are the service's: the ingest path refuses `alert` events and ids in the `alert:` namespace.

Before the fix an ingest token could post `{"type": "alert", ...}`: a forged alert in the stream's
log, marked on the report as if the service had raised it; and since an alert is raised once by the
log's unique `alert:<key>` id, a forged `alert:gmv_pace` (any type) stopped the real one for good.
Each such event is now rejected on its own with its reason (contract section 2: "rejected one by one
with the reason; the rest of the batch is kept"), on SQLite and PostgreSQL alike, over HTTP and the
ingest socket.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from websockets.sync.client import connect

from tests.conftest import ServerProcess
from tests.ingest.ingest_client import create_stream, post_events

T0 = 1_700_000_000_000
FORGED = {"type": "alert", "id": "alert:gmv_pace", "key": "gmv_pace", "kind": "gmv_pace", "level": "warn",
          "text": "GMV 進度落後目標 40%", "ts": T0 + 1000}
SQUATTER = {"type": "comment", "id": "alert:overtime/open@1", "user_id": "u1", "text": "hi", "ts": T0 + 2000}
GOOD = {"type": "comment", "id": "c1", "user_id": "u1", "text": "主播好", "ts": T0}


def _log(server: ServerProcess, sid: str) -> list[dict[str, object]]:
    r = httpx.get(f"{server.base_url}/api/streams/{sid}/events", headers=server.headers("operator"))
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.text.splitlines() if line.strip()]


def _check(answer: dict[str, object], server: ServerProcess, sid: str) -> None:
    assert answer["accepted"] == 1 and answer["duplicates"] == 0, answer
    rejected = {item["index"]: item["reason"] for item in answer["rejected"]}  # type: ignore[union-attr]
    assert sorted(rejected) == [1, 2], answer
    assert "alert" in rejected[1] and "raised by the service" in rejected[1], rejected
    assert "'alert:overtime/open@1'" in rejected[2] and "reserved" in rejected[2], rejected
    log = _log(server, sid)
    assert [e["type"] for e in log] == ["comment"] and log[0]["id"] == "c1", log
    alerts = httpx.get(f"{server.base_url}/api/streams/{sid}/alerts", headers=server.headers("viewer")).json()
    assert alerts["alerts"] == [], alerts


@pytest.mark.parametrize("role", ["ingest", "operator"])
def test_forged_alerts_refused_over_http(server_factory: Callable[..., ServerProcess], database_url: str,
                                         role: str) -> None:
    server = server_factory(database_url=database_url)
    sid = create_stream(server)
    r = post_events(server, sid, [GOOD, FORGED, SQUATTER], role=role)
    assert r.status_code == 200, r.text
    _check(r.json(), server, sid)


def test_forged_alerts_refused_over_the_ingest_socket(server_factory: Callable[..., ServerProcess],
                                                      database_url: str) -> None:
    server = server_factory(database_url=database_url)
    sid = create_stream(server)
    url = f"{server.ws_url}/ws/streams/{sid}/ingest?token={server.tokens['ingest']}"
    with connect(url) as ws:
        ws.send(json.dumps({"seq": 1, "events": [GOOD, FORGED, SQUATTER]}))
        answer = json.loads(ws.recv(timeout=10))
    _check(answer, server, sid)
