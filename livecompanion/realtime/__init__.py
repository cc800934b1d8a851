"""Revisioned shared live state and its fan-out to screens (in-memory or through Redis).

See `hub.py` for the Hub interface, `state.py` for ops, `feed.py` for the viewer socket protocol and
README.md for the sections of the state document.
"""

from __future__ import annotations

from livecompanion.realtime.hub import RESYNC, Hub, MemoryHub, NotLoaded, Subscription, Watch
from livecompanion.realtime.state import PatchError, apply_ops, check_ops, del_op, set_op

__all__ = [
    "RESYNC", "Hub", "MemoryHub", "NotLoaded", "PatchError", "Subscription",
    "Watch", "apply_ops", "check_ops", "del_op", "make_hub", "set_op",
]


def make_hub(redis_url: str | None, prefix: str = "livecompanion:") -> Hub:
    """The hub for this configuration: in memory without Redis, shared through Redis with it."""
    if not redis_url:
        return MemoryHub()
    from livecompanion.realtime.redis_hub import RedisHub

    return RedisHub.from_url(redis_url, prefix=prefix)
