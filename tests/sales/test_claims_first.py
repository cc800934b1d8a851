"""A claim POST goes straight to its handler (api/hot_paths.py `HotPathsFirst`, which replaced
api/sales.py's `ClaimsFirst`): no route matching, the same answers (issue 20: the app's layers cost a
claim as much CPU as the claim itself)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from livecompanion.api.app import create_app
from livecompanion.config import Settings
from livecompanion.storage.migrate import upgrade
from tests.sales.conftest import SCRIPT_YAML


def test_a_claim_skips_the_router_and_answers_as_the_route_did(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(data_dir=tmp_path, operator_token="op", ingest_token="in", viewer_token="vw")
    upgrade(settings.resolved_database_url())
    with TestClient(create_app(settings)) as client:
        op, ingest = {"Authorization": "Bearer op"}, {"Authorization": "Bearer in"}
        stream = client.post("/api/streams", content=SCRIPT_YAML.encode(),
                             headers={**op, "Content-Type": "application/yaml"}).json()["id"]
        sale = client.post(f"/api/streams/{stream}/flash-sales", json={
            "sku": "MASK-01", "price": 79, "stock": 1, "duration_seconds": 600}, headers=op).json()["id"]
        router = type(client.app.router)  # type: ignore[attr-defined]
        routed: list[str] = []
        through = router.__call__

        async def counted(self: Any, scope: Any, receive: Any, send: Any) -> None:
            routed.append(scope["path"])
            await through(self, scope, receive, send)

        monkeypatch.setattr(router, "__call__", counted)
        claims = f"/api/streams/{stream}/flash-sales/{sale}/claims"
        first = client.post(claims, json={"user_id": "a", "order_id": "o1"}, headers=ingest)
        assert first.status_code == 201 and first.json()["rank"] == 1
        assert client.post(claims, json={"user_id": "a", "order_id": "o1"}, headers=ingest).json()["replayed"]
        assert client.post(claims, json={"user_id": "b"}, headers=ingest).json() == {
            "detail": "sold_out", "remaining": 0}
        assert client.post(claims, json={"user_id": "b"}).status_code == 401
        assert client.post(claims, json={"user_id": "b"}, headers={"Authorization": "Bearer vw"}).status_code == 403
        assert client.post(claims, json={"qty": 1}, headers=ingest).status_code == 422
        assert client.post(f"/api/streams/{stream}/flash-sales/nope/claims", json={"user_id": "b"},
                           headers=ingest).status_code == 404
        assert routed == []  # every claim answered without the router
        assert client.get(f"/api/streams/{stream}/flash-sales/{sale}", headers=op).json()["sold"] == 1
        assert routed == [f"/api/streams/{stream}/flash-sales/{sale}"]  # anything else goes the usual way
