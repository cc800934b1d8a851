"""The lottery draw: a pure function of (seed, entrants, number of winners), so anyone can re-run it.

Algorithm `hmac-sha256-order/v1`:

1. The seed is 16 random bytes, recorded as 32 lower-case hex characters.
2. The entrants are the distinct user ids that entered (excluded users removed).
3. Each entrant gets the key HMAC-SHA256(key = the 16 seed bytes, message = the user id in UTF-8).
4. Entrants are sorted by key (bytes, ascending), ties (never seen in practice) by user id; the first
   `winners` of that order win, in that order. Fewer entrants than winners: every entrant wins.

In Python:

    import hashlib, hmac
    key = bytes.fromhex(seed)
    order = sorted(set(entrants), key=lambda u: (hmac.new(key, u.encode(), hashlib.sha256).digest(), u))
    winners = order[:k]

The entrant list is fixed with a digest, SHA-256 of the sorted distinct user ids joined by "\\n"
(UTF-8), recorded at the draw, so the list re-run later is provably the list that was drawn from.
The seed is drawn when the lottery is drawn, after entry has closed, so nobody can know in advance
which ids it favours.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

ALGORITHM = "hmac-sha256-order/v1"
SEED_RE = re.compile(r"^[0-9a-f]{32}$")


def new_seed() -> str:
    return secrets.token_hex(16)


def check_seed(seed: str) -> bytes:
    if not isinstance(seed, str) or not SEED_RE.match(seed):
        raise ValueError(f"a seed is 32 lower-case hex characters, got {seed!r}")
    return bytes.fromhex(seed)


def draw_order(seed: str, entrants: Iterable[str]) -> list[str]:
    """Every distinct entrant, in draw order."""
    key = check_seed(seed)
    return sorted(set(entrants), key=lambda u: (hmac.new(key, u.encode("utf-8"), hashlib.sha256).digest(), u))


def draw(seed: str, entrants: Iterable[str], winners: int) -> list[str]:
    """The winners' user ids, first drawn first."""
    if isinstance(winners, bool) or not isinstance(winners, int) or winners < 0:
        raise ValueError(f"winners must be a non-negative integer, got {winners!r}")
    return draw_order(seed, entrants)[:winners]


def entrants_digest(entrants: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(set(entrants))).encode("utf-8")).hexdigest()
