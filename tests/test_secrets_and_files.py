"""Issue 13 items 8 and 11: tokens never in logs nor printed when they came from the environment;
the data directory, tokens.json and the SQLite file private to their owner."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import httpx

from livecompanion.config import Settings
from livecompanion.logs import RedactTokens, redact
from tests.conftest import EXAMPLE_SCRIPT, start_server


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_redaction() -> None:
    assert redact("GET /streams/a/overlay?token=abc123&x=1 HTTP/1.1") == \
        "GET /streams/a/overlay?token=[redacted]&x=1 HTTP/1.1"
    assert redact('"WebSocket /ws/streams/a?token=s3cr3t" [accepted]') == \
        '"WebSocket /ws/streams/a?token=[redacted]" [accepted]'
    assert redact("Authorization: Bearer abc.def") == "Authorization: Bearer [redacted]"
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/?token=zzz", "1.1", 200), None)
    RedactTokens().filter(record)
    assert "zzz" not in record.getMessage()


def test_tokens_stay_out_of_the_logs_and_the_start_banner(tmp_path: Path) -> None:
    server = start_server(tmp_path, args=["--log-level", "info", "--script", str(EXAMPLE_SCRIPT)])
    try:
        streams = httpx.get(f"{server.base_url}/api/streams", headers=server.headers("viewer")).json()
        page = httpx.get(f"{server.base_url}/streams/{streams[0]['id']}/overlay",
                         params={"token": server.tokens["viewer"]})
        assert page.status_code == 200
    finally:
        server.stop()
    log = server.log.read_text()
    assert "overlay?token=[redacted]" in log, log[-2000:]
    for token in server.tokens.values():  # all three came from the environment
        assert token not in log
    assert "token=${LIVECOMPANION_OPERATOR_TOKEN}" in log


def test_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "tokens.json").write_text(json.dumps({"operator_token": "a", "ingest_token": "b",
                                                  "viewer_token": "c"}))
    (data / "tokens.json").chmod(0o644)  # as an older version or a hand left it
    settings = Settings(data_dir=data).with_generated_tokens()
    assert settings.operator_token == "a"
    url = settings.resolved_database_url()
    assert _mode(data) == 0o700
    assert _mode(data / "tokens.json") == 0o600
    assert url.endswith("livecompanion.sqlite3") and _mode(data / "livecompanion.sqlite3") == 0o600
