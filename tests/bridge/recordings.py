"""Recordings for the runner tests, generated from the shape of a real message.

The lines are the real Twitch IRC line of tests/ingest/fixtures/real/twitch.ndjson (Twitch docs)
with its ids, users, texts and times replaced, so that a recording can be long, current (the
service refuses times more than a day off) and have a known set of ids. They are generated, not
recorded: only the shape is real.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

TWITCH = (
    "@badge-info=;badges=;color=#0000FF;display-name={name};emotes=;first-msg=0;flags=;id={id};mod=0;"
    "room-id=713936733;subscriber=0;tmi-sent-ts={ts};turbo=0;user-id={user};user-type= "
    ":{login}!{login}@{login}.tmi.twitch.tv PRIVMSG #lovingt3s :{text}"
)
TEXTS = ["how much is the red one?", "size M please", "ship to HK?", "已拍", "多少钱", "link please", "❤️❤️"]


def twitch_lines(count: int, start_ms: int | None = None, seed: int = 1) -> Iterator[tuple[str, str]]:
    """(IRC line, the event id it maps to) for `count` chat messages, one ms apart."""
    rng = random.Random(seed)
    start = start_ms if start_ms is not None else time.time_ns() // 1_000_000
    for i in range(count):
        user = 10_000 + rng.randrange(5_000)
        uid = f"{seed:08x}-0000-4000-8000-{i:012x}"
        line = TWITCH.format(
            name=f"Viewer{user}", id=uid, ts=start + i, user=user, login=f"viewer{user}", text=rng.choice(TEXTS)
        )
        yield line, f"twitch:{uid}"


def write_twitch(path: Path, count: int, **kwargs: int) -> set[str]:
    ids = set()
    with path.open("wb") as out:
        for line, eid in twitch_lines(count, **kwargs):
            out.write(orjson.dumps(line) + b"\n")
            ids.add(eid)
    return ids


