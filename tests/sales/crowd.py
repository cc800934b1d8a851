"""A crowd of buyers against real servers: every order is sent twice (a retry, possibly to another
instance), some buyers place two orders, all at once. Then the answers are checked against each
other and against the record."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson

from tests.conftest import ServerProcess
from tests.sales import rawhttp


@dataclass
class CrowdResult:
    answers: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=lambda: defaultdict(list))
    users: dict[str, str] = field(default_factory=dict)  # order_id -> user_id
    qty: dict[str, int] = field(default_factory=dict)

    def granted(self) -> dict[str, dict[str, Any]]:
        """order_id -> its claim (rank, bonus, qty, ...)."""
        out = {}
        for order, answers in self.answers.items():
            ok = [body for code, body in answers if code == 201]
            if ok:
                out[order] = ok[0]
        return out


def plan(buyers: int, seed: int = 11) -> list[tuple[str, str, int]]:
    """(user, order_id, qty) of every request, retries included, shuffled."""
    requests = []
    for i in range(buyers):
        user = f"buyer-{i}"
        requests += [(user, f"{user}/a", 1)] * 2
        if i % 4 == 0:
            requests += [(user, f"{user}/b", 1 + i % 2)] * 2
    random.Random(seed).shuffle(requests)
    return requests


async def run_crowd(
    servers: list[ServerProcess],
    stream_id: str,
    sale_id: str,
    requests: list[tuple[str, str, int]],
    concurrency: int = 64,
) -> CrowdResult:
    """Send every request, `concurrency` at a time; request i goes to servers[i % len(servers)]."""
    result = CrowdResult()
    queue = list(enumerate(requests))
    queue.reverse()

    async def buyer_agent() -> None:
        conns = [await rawhttp.connect(s.base_url) for s in servers]
        try:
            while queue:
                i, (user, order, qty) = queue.pop()
                server, conn = servers[i % len(servers)], conns[i % len(servers)]
                body = orjson.dumps({"user_id": user, "order_id": order, "qty": qty})
                raw = rawhttp.request(
                    "POST",
                    server.base_url,
                    f"/api/streams/{stream_id}/flash-sales/{sale_id}/claims",
                    server.headers("ingest"),
                    body,
                )
                status, _, answer = await conn.send(raw)
                result.answers[order].append((status, orjson.loads(answer)))
                result.users[order] = user
                result.qty[order] = qty
        finally:
            for conn in conns:
                conn.close()

    await asyncio.gather(*(buyer_agent() for _ in range(concurrency)))
    return result


def check_crowd(result: CrowdResult, stock: int, per_user_limit: int, first_n: int | None) -> dict[str, dict]:
    """Everything the answers alone must show; returns the granted claims by order_id."""
    for order, answers in result.answers.items():
        codes = {code for code, _ in answers}
        assert codes <= {201, 409}, f"{order}: {answers}"
        if 201 in codes:
            claims = [(b["rank"], b["bonus"], b["qty"]) for code, b in answers if code == 201]
            assert len(set(claims)) == 1, f"{order} got different claims: {answers}"
            assert codes == {201}, f"{order}: granted, then refused: {answers}"
            assert sum(not b["replayed"] for _, b in answers) == 1, f"{order}: granted twice: {answers}"
        else:
            assert {b["detail"] for _, b in answers} <= {"sold_out", "limit_reached"}, answers
    granted = result.granted()
    assert sum(c["qty"] for c in granted.values()) == stock, "not exactly the stock was sold"
    units = sorted(r for c in granted.values() for r in range(c["rank"], c["rank"] + c["qty"]))
    assert units == list(range(1, stock + 1)), "ranks are not exactly 1..stock"
    held: dict[str, int] = defaultdict(int)
    for order, c in granted.items():
        held[result.users[order]] += c["qty"]
        assert c["bonus"] == (first_n is not None and c["rank"] <= first_n)
    assert max(held.values()) <= per_user_limit
    return granted
