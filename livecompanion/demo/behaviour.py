"""What simulated viewers do in a second of the show: talk, like, follow, look, click, buy.

A mixin of the simulator's run (`simulator._Run`), which holds the room and the generator; kept
apart so each file stays about one thing. Pure, like the simulator: every draw is from `self.rng`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from livecompanion.demo import audience as A
from livecompanion.demo import phrases as P
from livecompanion.demo.timeline import PlannedSegment, unit_price
from livecompanion.scripts.models import FlashSaleCue

_SALE_ORDER = re.compile(r"-fs(\d+)-")

if TYPE_CHECKING:
    import random

    from livecompanion.demo.simulator import Simulator

CENT = Decimal("0.01")
DEFAULT_SHORT = ("這款", "这款")


@dataclass
class Sale:
    index: int
    sku: str
    price: Decimal
    remaining: int
    per_user_limit: int
    open_s: int
    close_s: int
    attempt_share: float
    bought: dict[int, int] = field(default_factory=dict)


Event = dict[str, Any]
Order = tuple[str, int, str, int, float]  # order_id, user, sku, qty, amount
# Something a viewer does at a later second, tagged by its first item: ("click", user, sku, p_order),
# ("sale_click", user, sale), ("order", user, sku), ("sale_order", user, sale), and
# ("paid" | "cancelled" | "refunded" | "release", Order). `_run_action` takes them apart.
Action = tuple[Any, ...]


class ViewerActions:
    sim: Simulator
    rng: random.Random
    room: list[int]
    pos: dict[int, int]
    sales: list[Sale]
    followed: set[int]
    considered: set[tuple[int, str]]  # (viewer, sku) pairs that have seen the product card
    keen: set[int]  # viewers about to buy in a flash sale: they do not leave before they have tried
    short: dict[str, tuple[str, str]]
    skus: list[str]
    next_order: int
    simplified: Callable[[str], str]
    actions: dict[int, list[Action]]  # second -> what happens then

    if TYPE_CHECKING:  # what the run (simulator._Run) provides
        def _user_event(self, kind: str, user: int, **extra: Any) -> Event: ...

        def _at(self, t: int, action: Action) -> None: ...

    # ---- one second of activity ------------------------------------------------------------------

    def _activity(self, t: int, segment: PlannedSegment, lotteries: list[tuple[str, int, int]],
                  countdown: bool) -> list[Event]:
        rng, room, out = self.rng, self.room, []
        n = len(room)
        kind = segment.segment.kind
        running = [s for s in self.sales if s.open_s <= t < s.close_s]
        sale = running[-1] if running else None
        if n:
            burst = 1.0 + sum(3.0 * math.exp(-(t - s.open_s) / 60.0) for s in running)
            mix = A.COMMENT_MIX["flash_sale" if sale else kind]
            sku = segment.segment.product or (sale.sku if sale else None)
            lam = n * A.COMMENT_RATE * burst * (1.3 if countdown else 1.0)
            for _ in range(A.poisson(rng.random, lam)):
                out.append(self._comment(self._pick(A.TALKERS_PERCENT), self._comment_text(mix, sku)))
            for keyword, start, end in lotteries:
                for _ in range(A.poisson(rng.random, n * A.LOTTERY_JOIN / max(1, end - start))):
                    # Half type it on a simplified-Chinese keyboard.
                    word = self.simplified(keyword) if rng.random() < 0.5 else keyword
                    text = word if rng.random() < 0.6 else word + rng.choice(("", "！", word, "🙏", "[愛心]"))
                    out.append(self._comment(room[int(rng.random() * n)], text))
            self._likes_shares_follows(out, n)
            self._product_funnel(out, t, kind, segment.segment.product, sale)
        if t % A.VIEWER_COUNT_EVERY_S == 0:
            out.append({"type": "viewer_count", "ts": 0, "id": "", **(self._platform()), "count": n})
        for action in self.actions_due(t):
            self._run_action(out, t, action)
        return out

    def actions_due(self, t: int) -> list[Action]:
        return self.actions.pop(t, [])

    def _pick(self, percent: int) -> int:
        """A viewer in the room, most likely one of the `percent` of viewers who do this kind of thing."""
        room, rnd = self.room, self.rng.random
        n = len(room)
        for _ in range(12):
            user = room[int(rnd() * n)]
            if (user * 2654435761 >> 7) % 100 < percent:
                break
        return user

    def _platform(self) -> dict[str, str]:
        return {"platform": self.sim.platform} if self.sim.platform else {}

    # ---- chat --------------------------------------------------------------------------------------

    def _comment(self, user: int, text: str) -> Event:
        return self._user_event("comment", user, nickname=P.nickname(user), text=text)

    def _comment_text(self, mix: tuple[float, float, float, float], sku: str | None) -> str:
        rng = self.rng
        simplified = 1 if rng.random() < 0.6 else 0
        question, intent, chat, _spam = mix
        r = rng.random()
        if r < question:
            text = rng.choice(P.QUESTIONS_BOTH[simplified])
            if "{p}" in text:
                text = text.replace("{p}", self.short.get(sku or "", DEFAULT_SHORT)[simplified])
        elif r < question + intent:
            text = rng.choice(P.INTENT_BOTH[simplified])
        elif r < question + intent + chat:
            text = rng.choice(P.CHAT_BOTH[simplified])
        else:
            return rng.choice(P.SPAM_BOTH[simplified])
        if rng.random() < 0.22:
            text += rng.choice(P.EMOJI)
        return text

    def _likes_shares_follows(self, out: list[Event], n: int) -> None:
        rng, room = self.rng, self.room
        for _ in range(A.poisson(rng.random, n * A.LIKE_RATE)):
            r = rng.random()
            count = 1 if r < 0.5 else rng.randint(2, 10) if r < 0.85 else rng.randint(11, 60)
            out.append(self._user_event("like", self._pick(A.LIKERS_PERCENT), count=count))
        for _ in range(A.poisson(rng.random, n * A.SHARE_RATE)):
            out.append(self._user_event("share", room[int(rng.random() * n)]))
        for _ in range(A.poisson(rng.random, n * A.FOLLOW_RATE)):
            user = room[int(rng.random() * n)]
            if user not in self.followed:
                self.followed.add(user)
                out.append(self._user_event("follow", user, nickname=P.nickname(user)))

    # ---- products and orders -----------------------------------------------------------------------

    def _product_funnel(self, out: list[Event], t: int, kind: str, product: str | None, sale: Sale | None) -> None:
        rng, room, n = self.rng, self.room, len(self.room)
        rate, p_click, p_order = A.FUNNEL.get(kind, A.FUNNEL["product"])
        if product is None and not self.skus:
            return
        for _ in range(A.poisson(rng.random, n * rate)):
            sku = product or rng.choice(self.skus)  # between products, viewers browse the cart
            user = room[int(rng.random() * n)]
            out.append(self._user_event("product_impression", user, sku=sku))
            key = (user, sku)
            if key not in self.considered:  # a viewer makes up their mind about a product once
                self.considered.add(key)
                if rng.random() < p_click:
                    self._at(t + rng.randint(1, 20), ("click", user, sku, p_order))
        if sale is not None:  # the sale card stays up; late comers see it too
            for _ in range(A.poisson(rng.random, n * 0.005)):
                out.append(self._user_event("product_impression", room[int(rng.random() * n)], sku=sale.sku))

    def _open_sale(self, index: int, cue: FlashSaleCue, t: int) -> list[Event]:
        """A flash sale opens: its card pops up, and a crowd goes for it within seconds."""
        product = self.sim.script.product(cue.sku)
        list_price = float(product.list_price) if product and product.list_price else None
        sale = Sale(index, cue.sku, cue.price, cue.stock, cue.per_user_limit, t, t + cue.duration_seconds,
                    A.attempt_share(float(cue.price), list_price))
        self.sales.append(sale)
        rng, room = self.rng, self.room
        shown = rng.sample(room, min(len(room), A.poisson(rng.random, len(room) * 0.8)))
        out = [self._user_event("product_impression", user, sku=cue.sku) for user in shown]
        for user in shown:
            self.considered.add((user, cue.sku))
            if rng.random() < sale.attempt_share:
                self.keen.add(user)  # stays in the room for the sale
                self._at(t + 1 + int(rng.expovariate(1 / 3)), ("sale_click", user, index))
        return out

    def _run_action(self, out: list[Event], t: int, action: Action) -> None:
        kind, rng = action[0], self.rng
        if kind == "release":
            self._release(action[1], t)
        elif kind == "click":
            _, user, sku, p_order = action
            if user in self.pos:
                out.append(self._user_event("product_click", user, sku=sku))
                if rng.random() < p_order:
                    self._at(t + rng.randint(10, 90), ("order", user, sku))
        elif kind == "sale_click":
            _, user, index = action
            sale = self.sales[index]
            if user in self.pos and t < sale.close_s:
                out.append(self._user_event("product_click", user, sku=sale.sku))
                self._at(t + rng.randint(1, 8), ("sale_order", user, index))
            else:
                self.keen.discard(user)
        elif kind == "order":
            _, user, sku = action
            if user in self.pos:
                qty = 1 if rng.random() < 0.85 else rng.randint(2, 3)
                self._order(out, t, user, sku, unit_price(self.sim.script.product(sku)), qty, None)
        elif kind == "sale_order":
            self.keen.discard(action[1])
            self._sale_order(out, t, action[1], self.sales[action[2]])
        elif kind == "paid":
            order = action[1]
            out.append(self._order_event(order, "paid"))
            if rng.random() < A.REFUND_SHARE:
                self._at(t + rng.randint(600, 2400), ("refunded", order))
        else:  # cancelled, refunded
            order = action[1]
            out.append(self._order_event(order, kind))
            if kind == "cancelled":  # the units are back from the next second (after the cancel is seen)
                self._at(t + 1, ("release", order))

    def _release(self, order: Order, t: int) -> None:
        """A cancelled flash-sale order gives its units back while the sale runs (as the service does)."""
        order_id, user, _sku, qty, _amount = order
        index = flash_sale_of(order_id)
        if index is None:
            return
        sale = self.sales[index]
        if t < sale.close_s:
            sale.remaining += qty
            sale.bought[user] = sale.bought.get(user, 0) - qty

    def _sale_order(self, out: list[Event], t: int, user: int, sale: Sale) -> None:
        rng = self.rng
        wanted = 2 if rng.random() < 0.25 else 1
        allowed = sale.per_user_limit - sale.bought.get(user, 0)
        if t >= sale.close_s or sale.remaining <= 0 or allowed <= 0:
            why = "ended" if t >= sale.close_s else "sold_out" if sale.remaining <= 0 else "limit_reached"
            if self.sim.on_missed is not None:
                self.sim.on_missed({"sale": sale.index, "user_id": f"u{user}", "qty": wanted, "why": why})
            if why != "limit_reached" and user in self.pos and rng.random() < A.SOLD_OUT_COMPLAINT:
                out.append(self._comment(user, rng.choice(P.SOLD_OUT_BOTH[1 if rng.random() < 0.6 else 0])))
            return
        qty = min(wanted, allowed, sale.remaining)
        sale.remaining -= qty
        sale.bought[user] = sale.bought.get(user, 0) + qty
        self._order(out, t, user, sale.sku, sale.price, qty, sale.index)

    def _order(self, out: list[Event], t: int, user: int, sku: str, price: Decimal, qty: int,
               sale_index: int | None) -> None:
        rng = self.rng
        self.next_order += 1
        kind = f"fs{sale_index}-" if sale_index is not None else "o"
        order_id = f"{self.sim.id_prefix}{kind}{self.next_order}"
        order: Order = (order_id, user, sku, qty, float((price * qty).quantize(CENT)))
        out.append(self._order_event(order, "created"))
        if rng.random() < A.PAY_SHARE:
            self._at(t + rng.randint(3, 40), ("paid", order))
        else:
            self._at(t + rng.randint(60, 300), ("cancelled", order))

    def _order_event(self, order: Order, status: str) -> Event:
        order_id, user, sku, qty, amount = order
        return self._user_event("order", user, nickname=P.nickname(user), order_id=order_id, sku=sku,
                                qty=qty, amount=amount, status=status)


def flash_sale_of(order_id: str) -> int | None:
    """Which flash sale (its position among the script's flash sales) a simulated order belongs to."""
    match = _SALE_ORDER.search(order_id)
    return int(match.group(1)) if match else None
