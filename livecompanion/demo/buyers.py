"""The audience's side of a played show: events to the ingest endpoint, flash-sale claims before orders.

A buyer's order in a flash sale exists only if their claim got stock, as in a shop: the claim goes
first (`.../flash-sales/{sale}/claims`, the order id as idempotency key), and a refused claim's order
events are never sent. Buyers the simulation knows came too late press "buy" all the same and are
refused; if the service gives one of them stock after all (a cancel put it back), they order it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from livecompanion.clock import now_ms
from livecompanion.demo.api import StreamApi
from livecompanion.demo.simulator import Simulator, flash_sale_of
from livecompanion.ingest.answers import IngestCounts

CLAIM_CONCURRENCY = 8

Event = dict[str, Any]


@dataclass
class Tally(IngestCounts):
    """What was sent and what the service said, for the progress lines and the final summary."""

    claims: int = 0
    claims_refused: int = 0
    paid_orders: int = 0
    gmv: Decimal = Decimal(0)
    in_room: int = 0
    first_rejections: list[str] = field(default_factory=list)


@dataclass
class SaleTally:
    """One flash sale as the buyers saw it: units granted, buyers, who was turned away and when."""

    opened_ms: int  # show time
    price: Decimal
    sku: str
    units: int = 0
    buyers: set[str] = field(default_factory=set)
    turned_away: int = 0
    sold_out_ms: int | None = None  # show time


class Buyers:
    def __init__(self, api: StreamApi, sim: Simulator, show_ms: Callable[[], int]) -> None:
        self.api = api
        self.prefix = sim.id_prefix
        self.show_ms = show_ms  # where the show is, for the sell-out moment
        self.tally = Tally()
        self.sale_ids: dict[int, str] = {}  # flash sale ordinal in the script -> the service's sale id
        self.sales: dict[int, SaleTally] = {}
        self.dropped_orders: set[str] = set()  # orders whose claim was refused: their events are not sent
        self.missed: list[dict[str, Any]] = []  # buyers who came too late
        sim.on_missed = self.missed.append
        self.late_orders: list[Event] = []  # orders of late buyers who got stock back after all
        self._late = 0
        self._claims = asyncio.Semaphore(CLAIM_CONCURRENCY)

    def sale_opened(self, index: int, sale_id: str, opened_ms: int, price: Decimal, sku: str) -> None:
        self.sale_ids[index] = sale_id
        self.sales[index] = SaleTally(opened_ms, price, sku)

    async def send(self, batch: list[Event]) -> None:
        await self._claim_flash_sale_orders(batch)
        if self.dropped_orders:
            batch = [e for e in batch if e.get("order_id") not in self.dropped_orders]
        if self.late_orders:
            batch, self.late_orders = batch + self.late_orders, []
        if not batch:
            return
        response = await self.api.call("POST", "/events", batch, "the audience's events", "ingest")
        if response is None or response.status_code != 200:
            return
        self._count(batch)
        result = response.json()
        t = self.tally
        t.sent += len(batch)
        rejected = t.add(result, reasons_per_answer=0)  # the first three are kept whole, below
        for item in rejected[: max(0, 3 - len(t.first_rejections))]:
            t.first_rejections.append(str(item))
            self.api.say(f"    ! an event was rejected: {item}")

    async def _claim_flash_sale_orders(self, batch: list[Event]) -> None:
        claims: list[Awaitable[None]] = []
        missed, self.missed[:] = list(self.missed), []
        for attempt in missed:
            if attempt["sale"] in self.sale_ids:
                self._late += 1
                order_id = f"{self.prefix}late-fs{attempt['sale']}-{self._late}"
                claims.append(self._claim(attempt["sale"], {**attempt, "order_id": order_id}))
        for event in batch:
            if event["type"] == "order" and event["status"] == "created":
                sale = flash_sale_of(event["order_id"])
                if sale is not None and sale in self.sale_ids:
                    claims.append(self._claim(sale, event))
        if claims:
            await asyncio.gather(*claims)

    async def _claim(self, index: int, order: Event) -> None:
        body = {"user_id": order["user_id"], "qty": order["qty"], "order_id": order["order_id"]}
        async with self._claims:
            response = await self.api.call("POST", f"/flash-sales/{self.sale_ids[index]}/claims", body,
                                           "flash-sale claims", "ingest")
        if response is None:
            return  # no claims endpoint: the order goes on as an ordinary one
        self.tally.claims += 1
        sale = self.sales[index]
        if response.status_code == 201:
            reply = response.json()
            sale.units += int(reply.get("qty", order["qty"]))
            sale.buyers.add(order["user_id"])
            if "why" in order:  # the simulation thought it gone, but a cancel put stock back: they buy
                self.late_orders += self._late_order(order, sale)
            if reply.get("remaining") == 0 and sale.sold_out_ms is None:
                sale.sold_out_ms = self.show_ms()
        else:
            self.tally.claims_refused += 1
            sale.turned_away += 1
            if response.status_code == 409 and "sold_out" in response.text and sale.sold_out_ms is None:
                sale.sold_out_ms = self.show_ms()
            self.dropped_orders.add(order["order_id"])

    @staticmethod
    def _late_order(claim: Event, sale: SaleTally) -> list[Event]:
        order = {"type": "order", "user_id": claim["user_id"], "order_id": claim["order_id"], "sku": sale.sku,
                 "qty": claim["qty"], "amount": float(sale.price * claim["qty"])}
        ts = now_ms()
        return [{**order, "ts": ts, "id": f"{claim['order_id']}-created", "status": "created"},
                {**order, "ts": ts + 1, "id": f"{claim['order_id']}-paid", "status": "paid"}]

    def _count(self, batch: list[Event]) -> None:
        t = self.tally
        for event in batch:
            kind = event["type"]
            if kind == "viewer_count":
                t.in_room = event["count"]
            elif kind == "order" and event["status"] == "paid":
                t.paid_orders += 1
                t.gmv += Decimal(str(event["amount"]))
