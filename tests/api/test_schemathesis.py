"""Issue 13 item 9: the OpenAPI schema is true to what the service answers. schemathesis fuzzes a
live instance (SQLite; PostgreSQL + Redis) for a bounded time: no 500, no answer outside the schema
(status code, content type, body)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import start_server

FUZZ_SECONDS = int(os.environ.get("LIVECOMPANION_FUZZ_SECONDS", "30"))
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def _fuzz(tmp_path: Path, **server: str) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    if st is None:
        pytest.fail("schemathesis is a test dependency: pip install -e '.[test]'")
    # With a Shopify secret the webhook route checks signatures (401) instead of asking Shopify to
    # retry until one is configured (503, by design: webhooks.py).
    # The same for the shops' pushes (shop_webhooks.py).
    shops = {"SHOPIFY_SECRET": "fuzz", "DOUDIAN_APP_KEY": "fuzz", "DOUDIAN_APP_SECRET": "fuzz",
             "YOUZAN_CLIENT_ID": "fuzz", "YOUZAN_CLIENT_SECRET": "fuzz", "WECHAT_SHOP_TOKEN": "fuzz",
             "WECHAT_SHOP_AES_KEY": "a" * 43, "WECHAT_SHOP_APPID": "wxfuzz", "SHOP_WEBHOOK_SECRET": "fuzz"}
    proc = start_server(tmp_path, extra_env={f"LIVECOMPANION_{k}": v for k, v in shops.items()},
                        **server)  # type: ignore[arg-type]
    try:
        run = subprocess.run(
            [st, "run", f"{proc.base_url}/openapi.json", "--checks", CHECKS,
             "-H", f"Authorization: Bearer {proc.tokens['operator']}",
             "--max-time", str(FUZZ_SECONDS), "--workers", "1", "--seed", "13",
             "--suppress-health-check", "all", "--request-timeout", "30"],
            capture_output=True, text=True, timeout=FUZZ_SECONDS + 120,
        )
    finally:
        proc.stop()
    server_log = proc.log.read_text()
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:] + "\n--- server log ---\n" + server_log[-3000:]
    assert "Traceback" not in server_log, server_log[-4000:]


def test_fuzz_sqlite(tmp_path: Path) -> None:
    _fuzz(tmp_path)


@pytest.mark.postgres
@pytest.mark.redis
def test_fuzz_postgresql_redis(tmp_path: Path, postgres_url: str, redis_url: str) -> None:
    _fuzz(tmp_path, database_url=postgres_url, redis_url=redis_url)
