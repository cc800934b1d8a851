"""A flash sale's claims against the shop's paid orders, and the report's `shop_orders` counts
(unmapped items, orders without items, orders outside the live window)."""

from __future__ import annotations

from livecompanion.analytics import compute_report

T0 = 1_765_022_400_000  # the show starts
MIN = 60_000


def order(oid: str, status: str, ts: int, user: str, sku: str = "MASK-01", amount: str = "79.00") -> dict:
    return {"type": "order", "id": f"{oid}:{status}", "ts": ts, "user_id": user, "order_id": oid, "sku": sku,
            "qty": 1, "amount": amount, "status": status}


def events() -> list[dict]:
    return [
        {"type": "segment", "segment": "open", "ts": T0},
        {"type": "comment", "user_id": "v1", "text": "想要", "ts": T0 + 60 * MIN},
        order("yz-1", "created", T0 + 5 * MIN, "buyer-1"),
        order("yz-1", "paid", T0 + 6 * MIN, "buyer-1"),  # claimed with its order id
        order("yz-2", "paid", T0 + 7 * MIN, "v2"),  # claimed by the same viewer, no order id
        order("yz-3", "paid", T0 + 8 * MIN, "buyer-3"),  # paid, never claimed
        order("yz-4", "paid", T0 + 8 * MIN, "buyer-4", sku="OTHER"),  # another sku: not this sale's
        order("dd-1", "paid", T0 + 9 * MIN, "doudian-order-dd-1", sku="unmapped:doudian:unknown-item"),
        order("yz-5", "paid", T0 + 9 * MIN, "buyer-5", sku="unmapped:youzan:1234", amount="10.00"),
        order("yz-6", "paid", T0 + 60 * MIN + 3 * 60 * MIN, "buyer-6", amount="20.00"),  # 3 h after the last comment
        order("yz-7", "paid", T0 - 2 * 60 * MIN, "buyer-7", amount="5.00"),  # 2 h before the show
    ]


SALE = {
    "id": "fs-1", "sku": "MASK-01", "price": 79, "stock": 10, "started_at": T0 + 4 * MIN,
    "ends_at": T0 + 9 * MIN,
    "claims": [
        {"ts": T0 + 4 * MIN + 500, "user_id": "v1", "qty": 1, "rank": 1, "order_id": "yz-1", "status": "paid"},
        {"ts": T0 + 4 * MIN + 900, "user_id": "v2", "qty": 1, "rank": 2, "order_id": None, "status": "claimed"},
        {"ts": T0 + 4 * MIN + 990, "user_id": "v9", "qty": 2, "rank": 3, "order_id": "yz-99", "status": "claimed"},
    ],
}


def test_claims_reconcile_with_paid_orders() -> None:
    report = compute_report(events(), flash_sales=[SALE], pseudonymizer=lambda u: u and f"p-{u}")
    rec = report["flash_sales"][0]["reconciliation"]
    assert (rec["claims"], rec["paid_orders"], rec["matched"]) == (3, 3, 2)
    assert [(c["viewer"], c["order_id"], c["qty"]) for c in rec["unpaid_claims"]] == [("p-v9", "yz-99", 2)]
    assert [(p["order_id"], p["buyer"], p["amount"]) for p in rec["unclaimed_payments"]] == [
        ("yz-3", "p-buyer-3", 79.0)
    ]


def test_shop_orders_quality() -> None:
    quality = compute_report(events())["shop_orders"]
    window = quality["live_window"]
    assert (window["start_ms"], window["end_ms"]) == (T0 - 30 * MIN, T0 + 60 * MIN + 120 * MIN)
    assert quality["outside_live_window"] == {
        "before": 1, "after": 1, "paid_amount_before": 5.0, "paid_amount_after": 20.0
    }
    assert quality["unmapped_items"] == [{"shop": "youzan", "product_id": "1234", "orders": 1, "paid_amount": 10.0}]
    assert quality["orders_without_item"] == {"doudian": 1}


def test_dashboard_lists_the_reconciliation_and_shop_orders() -> None:
    from livecompanion.analytics.dashboard import render_dashboard_html

    html = render_dashboard_html(compute_report(events(), flash_sales=[SALE], pseudonymizer=lambda u: u and f"p-{u}"))
    assert 'data-unpaid="1" data-unclaimed="1"' in html
    assert "#yz-99" in html and "#yz-3" in html and "p-buyer-3" in html
    assert 'data-section="shop-orders"' in html and "youzan:1234" in html
