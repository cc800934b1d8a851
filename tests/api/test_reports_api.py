"""The report and dashboards of a stored stream, through HTTP against a real server."""

import httpx

from tests.conftest import EXAMPLE_SCRIPT, ServerProcess

T0 = 1_795_000_000_000


def _events() -> list[dict]:
    return [
        {"type": "segment", "segment": "open", "ts": T0},
        {"type": "impression", "user_id": "u1", "ts": T0 + 1_000},
        {"type": "impression", "user_id": "u2", "ts": T0 + 1_000},
        {"type": "enter", "user_id": "u1", "ts": T0 + 2_000, "id": "e1"},
        {"type": "enter", "user_id": "u2", "ts": T0 + 3_000},
        {"type": "comment", "user_id": "u2", "text": "這款面膜適合油性皮膚嗎？", "ts": T0 + 4_000},
        {"type": "segment", "segment": "mask-intro", "ts": T0 + 60_000},
        {"type": "product_impression", "user_id": "u1", "sku": "MASK-01", "ts": T0 + 61_000},
        {"type": "product_click", "user_id": "u1", "sku": "MASK-01", "ts": T0 + 62_000},
        {"type": "order", "user_id": "u1", "order_id": "o1", "sku": "MASK-01", "qty": 2, "amount": 198,
         "status": "paid", "ts": T0 + 63_000},
        {"type": "leave", "user_id": "u2", "ts": T0 + 90_000},
        {"type": "leave", "user_id": "u1", "ts": T0 + 120_000},
    ]


def test_report_json_html_csv_and_comparison(server: ServerProcess) -> None:
    created = httpx.post(f"{server.base_url}/api/streams", content=EXAMPLE_SCRIPT.read_bytes(),
                         headers=server.headers("operator"))
    stream_id = created.json()["id"]
    pushed = httpx.post(f"{server.base_url}/api/streams/{stream_id}/events", json=_events(),
                        headers=server.headers("ingest"))
    assert pushed.status_code == 200 and pushed.json()["accepted"] == 12, pushed.text

    url = f"{server.base_url}/api/streams/{stream_id}/report"
    report = httpx.get(url, headers=server.headers("viewer"), timeout=30).json()
    assert (report["exposure_uv"], report["viewer_uv"], report["views"], report["buyer_uv"]) == (2, 2, 2, 1)
    assert report["gmv"] == 198 and report["items_sold"] == 2 and report["gpm"] == 99_000
    assert report["enter_rate"] == 1 and report["click_conversion_rate"] == 1
    assert [s["id"] for s in report["segments"]] == ["open", "mask-intro"]
    assert report["segments"][0]["target_seconds"] == 600 and report["segments"][1]["orders"] == 1
    assert report["targets"]["gmv"]["target"] == 50000
    assert report["questions"][0]["count"] == 1

    html = httpx.get(url, params={"format": "html", "token": server.tokens["viewer"]}, timeout=30)
    assert html.status_code == 200 and "plotly" in html.text.lower() and "秋冬補水專場" in html.text
    page = httpx.get(f"{server.base_url}/streams/{stream_id}/dashboard", params={"token": server.tokens["viewer"]})
    assert page.status_code == 200 and "<html" in page.text.lower()
    csv = httpx.get(url, params={"format": "csv-segments"}, headers=server.headers("viewer"))
    assert csv.status_code == 200 and "mask-intro" in csv.text
    comparison = httpx.get(f"{server.base_url}/dashboard", headers=server.headers("viewer"), timeout=30)
    assert comparison.status_code == 200 and "秋冬補水專場" in comparison.text
    assert httpx.get(url).status_code == 401
    assert httpx.get(f"{server.base_url}/api/streams/nope/report", headers=server.headers("viewer")).status_code == 404
