"""`GET /api/streams/{id}/events` (contract section 5): the stored log as NDJSON, and the CLI's report
of that export equal to the server's report of the stream."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import EXAMPLE_SCRIPT, ROOT

T0 = 1_795_000_000_000
KEY = "same-key-on-both-sides"


def _platform_like_log() -> list[dict[str, Any]]:
    """As a platform bridge sends it: enters, no leave, online counts at irregular times, a 講解."""
    events: list[dict[str, Any]] = [{"type": "segment", "segment": "open", "ts": T0}]
    for i in range(40):
        user = f"u{i % 17}"
        at = T0 + 1_000 + i * 4_700
        events.append({"type": "enter", "user_id": user, "ts": at, "platform": "douyin", "id": f"e{i}"})
        if i % 3 == 0:
            events.append({"type": "comment", "user_id": user, "text": "幾號鏈接", "ts": at + 300,
                           "platform": "douyin"})
        if i % 7 == 2:
            events.append({"type": "viewer_count", "count": 30 + i, "ts": at + 50, "platform": "douyin"})
    events += [
        {"type": "segment", "segment": "mask-intro", "ts": T0 + 120_000},
        {"type": "product_explain", "user_id": "host", "sku": "MASK-01", "action": "start", "ts": T0 + 121_000},
        {"type": "product_impression", "user_id": "u1", "sku": "MASK-01", "ts": T0 + 122_000, "platform": "douyin"},
        {"type": "product_click", "user_id": "u1", "sku": "MASK-01", "ts": T0 + 123_000, "platform": "douyin"},
        {"type": "order", "user_id": "u1", "order_id": "o1", "sku": "MASK-01", "qty": 2, "amount": 198,
         "status": "paid", "ts": T0 + 150_000, "platform": "douyin"},
        {"type": "product_explain", "user_id": "host", "sku": "MASK-01", "action": "stop", "ts": T0 + 170_000},
        {"type": "viewer_count", "count": 12, "ts": T0 + 175_000, "platform": "douyin"},
        {"type": "comment", "user_id": "u3", "text": "拜拜", "ts": T0 + 200_000, "platform": "douyin"},
    ]
    return events


def test_event_log_export_reports_like_the_server(server_factory: Any, database_url: str, tmp_path: Path) -> None:
    server = server_factory(database_url=database_url, extra_env={"LIVECOMPANION_PSEUDONYM_KEY": KEY})
    created = httpx.post(f"{server.base_url}/api/streams", content=EXAMPLE_SCRIPT.read_bytes(),
                         headers=server.headers("operator"))
    stream_id = created.json()["id"]
    log = _platform_like_log()
    pushed = httpx.post(f"{server.base_url}/api/streams/{stream_id}/events", json=log,
                        headers=server.headers("ingest"))
    assert pushed.status_code == 200 and pushed.json()["accepted"] == len(log), pushed.text

    url = f"{server.base_url}/api/streams/{stream_id}/events"
    assert httpx.get(url, headers=server.headers("viewer")).status_code == 403
    assert httpx.get(url).status_code == 401
    missing = httpx.get(f"{server.base_url}/api/streams/nope/events", headers=server.headers("operator"))
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]

    with httpx.stream("GET", url, headers=server.headers("operator"), timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        body = b"".join(response.iter_bytes())
    lines = body.decode("utf-8").splitlines()
    exported = [json.loads(line) for line in lines]
    assert [e["type"] for e in exported] == [e["type"] for e in log]  # the order stored (= sent)
    assert [e["ts"] for e in exported] == [e["ts"] for e in log]

    path = tmp_path / "export.ndjson"
    path.write_bytes(body)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVECOMPANION_")}
    cli = subprocess.run([sys.executable, "-m", "livecompanion", "report", "--events", str(path),
                          "--script", str(EXAMPLE_SCRIPT)], env={**env, "LIVECOMPANION_PSEUDONYM_KEY": KEY},
                         cwd=ROOT, capture_output=True, timeout=120, check=False)
    assert cli.returncode == 0, cli.stderr.decode()
    from_cli = json.loads(cli.stdout)
    from_server = httpx.get(f"{server.base_url}/api/streams/{stream_id}/report", headers=server.headers("viewer"),
                            timeout=30).json()
    assert from_server.pop("stream_id") == stream_id
    assert from_cli["avg_watch_method"] == "online_count" and from_cli["pcu"] == 67
    assert from_cli["explains"][0]["orders"] == 1
    assert from_cli == from_server
