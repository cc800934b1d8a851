"""Helpers shared by the ingest API tests: a stream on a real server, posting, reading the record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from livecompanion.storage.db import Database
from livecompanion.storage.tables import EventRow, OrderRow
from tests.conftest import EXAMPLE_SCRIPT, ServerProcess


def create_stream(server: ServerProcess, script: bytes | None = None) -> str:
    """A stream of `script` (YAML; default the example script)."""
    created = httpx.post(
        f"{server.base_url}/api/streams",
        content=script if script is not None else EXAMPLE_SCRIPT.read_bytes(),
        headers={**server.headers("operator"), "Content-Type": "application/yaml"},
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


def post_events(
    server: ServerProcess,
    stream_id: str,
    body: Any,
    *,
    content_type: str | None = None,
    role: str = "ingest",
    timeout: float = 30,
) -> httpx.Response:
    headers = server.headers(role)
    if isinstance(body, (bytes, str)):
        if content_type:
            headers["Content-Type"] = content_type
        return httpx.post(
            f"{server.base_url}/api/streams/{stream_id}/events",
            content=body,
            headers=headers,
            timeout=timeout,
        )
    return httpx.post(
        f"{server.base_url}/api/streams/{stream_id}/events", json=body, headers=headers, timeout=timeout
    )


def sqlite_url_of(tmp_path: Path) -> str:
    """The record of a server started by `start_server(tmp_path)` with no database configured."""
    return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'livecompanion.sqlite3'}"


async def stored_events(url: str, stream_id: str) -> int:
    db = Database(url)
    try:
        async with db.session() as s:
            return await s.scalar(
                select(func.count()).select_from(EventRow).where(EventRow.stream_id == stream_id)
            )
    finally:
        await db.dispose()


async def stored_ids(url: str, stream_id: str) -> set[str]:
    db = Database(url)
    try:
        async with db.session() as s:
            return set(await s.scalars(select(EventRow.event_id).where(EventRow.stream_id == stream_id)))
    finally:
        await db.dispose()


async def stored_orders(url: str, stream_id: str) -> dict[str, tuple[str, int | None]]:
    db = Database(url)
    try:
        async with db.session() as s:
            rows = await s.scalars(select(OrderRow).where(OrderRow.stream_id == stream_id))
            return {r.order_id: (r.status, r.paid_ts_ms) for r in rows}
    finally:
        await db.dispose()


def order(
    oid: str,
    status: str,
    ts: int,
    *,
    eid: str | None = None,
    amount: str = "99.00",
    nickname: str | None = "張小林",
    user: str = "buyer-1",
    sku: str = "MASK-01",
) -> dict[str, Any]:
    event = {
        "type": "order",
        "id": eid or f"{oid}-{status}-{ts}",
        "order_id": oid,
        "sku": sku,
        "qty": 1,
        "amount": amount,
        "status": status,
        "ts": ts,
        "user_id": user,
    }
    if nickname:
        event["nickname"] = nickname
    return event
