"""The draw (pure): the published test vector, an independent re-implementation, and its properties."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecompanion.lottery.draw import ALGORITHM, check_seed, draw, draw_order, entrants_digest, new_seed

SEED = "000102030405060708090a0b0c0d0e0f"
ENTRANTS = ["alice", "bob", "carol", "dave", "erin", "小林", "用戶42"]


def test_vector() -> None:
    """Pinned: changing the algorithm breaks every recorded draw's verification (bump ALGORITHM)."""
    assert ALGORITHM == "hmac-sha256-order/v1"
    assert draw_order(SEED, ENTRANTS) == ["erin", "用戶42", "alice", "bob", "carol", "小林", "dave"]
    assert draw(SEED, ENTRANTS, 3) == ["erin", "用戶42", "alice"]
    assert entrants_digest(ENTRANTS) == "5719aec4f8274ecdf1aabbdacd3c156ce07e69b86ae597a8fda27807188ab105"


def hmac_sha256_by_hand(key: bytes, message: bytes) -> bytes:
    """RFC 2104 from SHA-256 alone, so the test does not reuse the code under test."""
    block = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block) + message).digest()
    return hashlib.sha256(bytes(b ^ 0x5C for b in block) + inner).digest()


@settings(max_examples=200, deadline=None)
@given(
    seed=st.binary(min_size=16, max_size=16).map(bytes.hex),
    entrants=st.lists(st.text(min_size=1, max_size=20), max_size=30),
    k=st.integers(0, 40),
)
def test_anyone_can_re_run_it(seed: str, entrants: list[str], k: int) -> None:
    by_hand = sorted(set(entrants), key=lambda u: (hmac_sha256_by_hand(bytes.fromhex(seed), u.encode()), u))
    winners = draw(seed, entrants, k)
    assert winners == by_hand[:k]
    assert len(winners) == min(k, len(set(entrants))) and len(set(winners)) == len(winners)
    shuffled = list(reversed(entrants)) + entrants[:3]  # order and repeats of the entrants do not matter
    assert draw(seed, shuffled, k) == winners
    assert entrants_digest(shuffled) == entrants_digest(entrants)


def test_seeds() -> None:
    seeds = {new_seed() for _ in range(50)}
    assert len(seeds) == 50 and all(len(s) == 32 for s in seeds)
    many = [f"user-{i}" for i in range(200)]
    assert len({tuple(draw(s, many, 3)) for s in list(seeds)[:20]}) == 20  # a new seed, a new draw
    for bad in ("", "00", "G" * 32, SEED.upper(), SEED + "00"):
        with pytest.raises(ValueError, match="32 lower-case hex"):
            check_seed(bad)
    with pytest.raises(ValueError, match="winners"):
        draw(SEED, ENTRANTS, -1)


def test_every_entrant_has_the_same_chance() -> None:
    """Over many seeds each of 10 entrants wins a 1-winner draw about 1/10 of the time."""
    entrants = [f"u{i}" for i in range(10)]
    wins = dict.fromkeys(entrants, 0)
    for i in range(4000):
        wins[draw(hashlib.sha256(str(i).encode()).hexdigest()[:32], entrants, 1)[0]] += 1
    assert all(320 <= n <= 480 for n in wins.values()), wins
