"""The behaviour of a simulated live-room audience: rates, mixes and stays (pure, tunable data).

Rates are per viewer in the room per second of show time; probabilities are per step of the funnel.
They were set so that a simulated stream lands in the ranges the industry reports for a beauty
room: about a quarter of impressions enter, stays are mostly short with a loyal core, roughly one
product impression in ten is clicked and one click in ten buys, and a flash sale pulls a crowd.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

# Share of comments by category in each kind of segment: (question, intent, chat, spam).
COMMENT_MIX = {
    "opening": (0.12, 0.10, 0.73, 0.05),
    "product": (0.36, 0.16, 0.43, 0.05),
    "value": (0.32, 0.10, 0.53, 0.05),
    "closing": (0.18, 0.44, 0.33, 0.05),
    "wrapup": (0.22, 0.12, 0.61, 0.05),
    "flash_sale": (0.08, 0.70, 0.19, 0.03),  # while a flash sale runs, whatever the segment
}

# How full the room is (share of room_size) across a segment of each kind: (at its start, at its end).
OCCUPANCY = {
    "opening": (0.12, 0.65),
    "product": (0.72, 0.75),
    "value": (0.70, 0.68),
    "closing": (0.80, 0.84),
    "wrapup": (0.62, 0.30),
}

COMMENT_RATE = 0.0025
LIKE_RATE = 0.002
SHARE_RATE = 0.0001
FOLLOW_RATE = 0.00012
# Most of the chat comes from a minority of viewers: this share of them (percent) talk, this share like.
TALKERS_PERCENT = 15
LIKERS_PERCENT = 20
RETURNING_SHARE = 0.15  # of arrivals, viewers who were here earlier in the stream
ENTER_RATE = 0.25  # of impressions (曝光-觀看率)
VIEWER_COUNT_EVERY_S = 5
ARRIVAL_RESPONSE_S = 20.0  # how fast arrivals close the gap to the wanted room size

# Product funnel per segment kind: (product impression rate, click probability, order probability).
FUNNEL = {
    "opening": (0.0010, 0.05, 0.04),
    "product": (0.0060, 0.10, 0.10),
    "value": (0.0035, 0.06, 0.06),
    "closing": (0.0080, 0.16, 0.20),
    "wrapup": (0.0015, 0.08, 0.08),
}
SALE_IMPRESSION_RATE = 0.03  # the sale card pops up for everyone
PAY_SHARE = 0.88  # of created orders, the rest are cancelled unpaid
REFUND_SHARE = 0.04  # of paid orders
SOLD_OUT_COMPLAINT = 0.45  # of buyers who miss a sale, those who say so in chat
LOTTERY_JOIN = 0.45  # share of the room that comments the keyword during a lottery


@dataclass(frozen=True, slots=True)
class Stay:
    """A mixture of bouncers, casual viewers and fans: (share, low seconds, high seconds)."""

    bounce: tuple[float, int, int] = (0.50, 5, 60)
    casual: tuple[float, int, int] = (0.40, 60, 900)
    fan: tuple[float, int, int] = (0.10, 1200, 4800)

    def mean_seconds(self) -> float:
        return sum(share * (lo + hi) / 2 for share, lo, hi in (self.bounce, self.casual, self.fan))


STAY = Stay()


def occupancy(kind: str, fraction: float) -> float:
    start, end = OCCUPANCY.get(kind, (0.7, 0.7))
    return start + (end - start) * fraction


def sale_pull(seconds_since_open: float) -> float:
    """Extra crowd a running flash sale draws: strong at once, fading over a couple of minutes."""
    return 0.2 * math.exp(-seconds_since_open / 90.0)


def attempt_share(price: float, list_price: float | None) -> float:
    """Share of the room that tries to buy in a flash sale: the deeper the discount, the more."""
    discount = 1.0 - price / list_price if list_price and list_price > 0 else 0.3
    return min(0.45, max(0.05, 0.06 + 0.45 * discount))


def poisson(rng_random: Callable[[], float], lam: float) -> int:
    """A Poisson count (Knuth's method for small means, a rounded normal for large ones)."""
    if lam <= 0:
        return 0
    if lam > 30:
        # Box-Muller from two uniforms of the caller's generator keeps the run seeded.
        u1, u2 = rng_random() or 1e-12, rng_random()
        z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
        return max(0, int(lam + z * math.sqrt(lam) + 0.5))
    limit, k, p = math.exp(-lam), 0, rng_random()
    while p > limit:
        k += 1
        p *= rng_random()
    return k
