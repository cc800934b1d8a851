"""講解 from the console against a real server: `POST /api/streams/{id}/explain`, the
`product_explain` cue, and each 講解 measured in the report."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import EXAMPLE_SCRIPT, ServerProcess

CUE_SCRIPT = """\
title: 講解 cue
products:
  - {sku: MASK-01, name: 面膜}
segments:
  - id: open
    kind: opening
    target: 5m
    cues:
      - {at: 0, action: product_explain, sku: MASK-01}
      - {at: 1m, action: product_explain, sku: MASK-01, mode: stop}
"""


def _post(server: ServerProcess, path: str, body: Any = None, role: str = "operator") -> httpx.Response:
    return httpx.post(f"{server.base_url}{path}", json=body, headers=server.headers(role), timeout=10)


def _state(server: ServerProcess, api: str) -> dict[str, Any]:
    return httpx.get(f"{server.base_url}{api}", headers=server.headers("viewer")).json()["state"]


def test_explain_start_stop_and_the_report(server: ServerProcess) -> None:
    made = httpx.post(f"{server.base_url}/api/streams", content=EXAMPLE_SCRIPT.read_bytes(),
                      headers={**server.headers("operator"), "Content-Type": "application/yaml"})
    api = f"/api/streams/{made.json()['id']}"
    early = _post(server, f"{api}/explain", {"sku": "MASK-01", "action": "start"})
    assert early.status_code == 409 and early.json()["detail"] == "not_live"
    assert _post(server, f"{api}/segments/next").status_code == 200

    assert _post(server, f"{api}/explain", {"sku": "MASK-01", "action": "start"}, "viewer").status_code == 403
    unknown = _post(server, f"{api}/explain", {"sku": "NOPE", "action": "start"})
    assert unknown.status_code == 404 and "MASK-01" in unknown.json()["detail"]
    assert _post(server, f"{api}/explain", {"sku": "MASK-01", "action": "pause"}).status_code == 422

    started = _post(server, f"{api}/explain", {"sku": "MASK-01", "action": "start"})
    assert started.status_code == 200, started.text
    assert started.json()["explaining"]["sku"] == "MASK-01"
    assert _state(server, api)["explaining"]["sku"] == "MASK-01"
    httpx.post(f"{server.base_url}{api}/events", headers=server.headers("ingest"), json=[
        {"type": "product_impression", "user_id": "u1", "sku": "MASK-01"},
        {"type": "product_click", "user_id": "u1", "sku": "MASK-01"},
        {"type": "product_click", "user_id": "u1", "sku": "SERUM-02"},
    ]).raise_for_status()
    # Another product's start ends this one; a stop of what is not being explained is refused.
    assert _post(server, f"{api}/explain", {"sku": "SERUM-02", "action": "start"}).status_code == 200
    refused = _post(server, f"{api}/explain", {"sku": "MASK-01", "action": "stop"})
    assert refused.status_code == 409 and refused.json()["detail"] == "not_explaining"
    stopped = _post(server, f"{api}/explain", {"sku": "SERUM-02", "action": "stop"})
    assert stopped.status_code == 200 and stopped.json()["explaining"] is None
    assert _state(server, api)["explaining"] is None

    report = httpx.get(f"{server.base_url}{api}/report", headers=server.headers("viewer"), timeout=30).json()
    assert [(e["sku"], e["product_clicks"], e["product_exposure_uv"]) for e in report["explains"]] == [
        ("MASK-01", 1, 1), ("SERUM-02", 0, 0)]
    assert [p["sku"] for p in report["explained_products"]] == ["MASK-01", "SERUM-02"]


def test_a_script_cue_explains_a_product(server: ServerProcess) -> None:
    made = httpx.post(f"{server.base_url}/api/streams", content=CUE_SCRIPT.encode(),
                      headers={**server.headers("operator"), "Content-Type": "application/yaml"})
    assert made.status_code == 201, made.text
    api = f"/api/streams/{made.json()['id']}"
    assert _post(server, f"{api}/segments/next").status_code == 200
    fired = _post(server, f"{api}/cues/open/0/fire")
    assert fired.status_code == 200, fired.text
    assert _state(server, api)["explaining"]["sku"] == "MASK-01"
    assert _post(server, f"{api}/cues/open/1/fire").status_code == 200
    assert _state(server, api)["explaining"] is None
