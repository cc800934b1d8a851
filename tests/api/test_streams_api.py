"""`POST/GET /api/streams` and role tokens, through HTTP against a real server process."""

import httpx

from tests.conftest import EXAMPLE_SCRIPT, ServerProcess


def test_create_from_yaml_and_read_back(server: ServerProcess) -> None:
    body = EXAMPLE_SCRIPT.read_bytes()
    created = httpx.post(f"{server.base_url}/api/streams", content=body,
                         headers={**server.headers("operator"), "Content-Type": "application/yaml"})
    assert created.status_code == 201, created.text
    stream_id = created.json()["id"]
    assert created.json()["title"] == "秋冬補水專場"
    assert created.json()["urls"]["overlay"].endswith(f"/streams/{stream_id}/overlay?token={server.tokens['viewer']}")

    listed = httpx.get(f"{server.base_url}/api/streams", headers=server.headers("viewer"))
    assert [s["id"] for s in listed.json()] == [stream_id]

    state = httpx.get(f"{server.base_url}/api/streams/{stream_id}", params={"token": server.tokens["viewer"]})
    assert state.status_code == 200, state.text
    data = state.json()
    assert data["id"] == stream_id and isinstance(data["rev"], int) and data["server_time"] > 0
    assert data["state"]["stream"]["title"] == "秋冬補水專場"


def test_script_as_json(server: ServerProcess) -> None:
    created = httpx.post(f"{server.base_url}/api/streams", headers=server.headers("operator"),
                         json={"title": "JSON 腳本", "segments": [{"kind": "opening", "target": "5m"}]})
    assert created.status_code == 201, created.text


def test_invalid_script_gets_422_with_located_findings(server: ServerProcess) -> None:
    bad = "title: 壞腳本\nsegments:\n  - kind: openning\n    target: 五到十分鐘\n"
    response = httpx.post(f"{server.base_url}/api/streams", content=bad.encode(),
                          headers={**server.headers("operator"), "Content-Type": "application/yaml"})
    assert response.status_code == 422
    texts = [f["text"] for f in response.json()["findings"]]
    assert texts == [
        "script:3:11: error: segments[0].kind: segment kind 'openning' is not one of opening, product, value, "
        "closing, wrapup",
        "script:4:13: error: segments[0].target: '五到十分鐘' is not a duration (write 90s, 8m, 1h5m or seconds)",
    ]
    garbage = httpx.post(f"{server.base_url}/api/streams", content=b"\xff\xfe\x00garbage",
                         headers=server.headers("operator"))
    assert garbage.status_code == 422 and "not UTF-8" in garbage.json()["findings"][0]["message"]
    huge = httpx.post(f"{server.base_url}/api/streams", content=b"a" * 2_000_000, headers=server.headers("operator"))
    assert huge.status_code == 413


def test_roles_are_enforced(server: ServerProcess) -> None:
    url = f"{server.base_url}/api/streams"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, params={"token": "wrong"}).status_code == 401
    assert httpx.post(url, content=b"title: x", headers=server.headers("viewer")).status_code == 403
    assert httpx.post(url, content=b"title: x", headers=server.headers("ingest")).status_code == 403
    assert httpx.get(url, headers=server.headers("operator")).status_code == 200
    assert httpx.get(f"{url}/nope", headers=server.headers("viewer")).status_code == 404


def test_home_page_lists_streams_as_text(server: ServerProcess) -> None:
    script = "title: <script>alert(1)</script>\nsegments:\n  - kind: opening\n"
    httpx.post(f"{server.base_url}/api/streams", content=script.encode(), headers=server.headers("operator"))
    page = httpx.get(f"{server.base_url}/", params={"token": server.tokens["operator"]})
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)</script>" not in page.text


def test_openapi_docs(server: ServerProcess) -> None:
    spec = httpx.get(f"{server.base_url}/openapi.json").json()
    assert "/api/streams" in spec["paths"]
    assert httpx.get(f"{server.base_url}/docs").status_code == 200
