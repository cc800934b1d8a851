"""Recordings for runner tests and the benchmark, generated from the shape of real messages.

The lines are the real Twitch IRC line of tests/ingest/fixtures/real/twitch.ndjson (Twitch docs)
and the real Douyin envelopes of douyin.ndjson with their ids, users, texts and times replaced, so
that a recording can be long, current (the service refuses times more than a day off) and have a
known set of ids. They are generated, not recorded: only the shape is real.
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


def douyin_room(count: int, seed: int = 7) -> Iterator[bytes]:
    """A big Douyin room's mix (by message count: ~45% enters, 30% likes, 20% chat, 3% follows,
    2% gifts that give no event), in the fetcher envelope shape, as NDJSON lines."""
    rng = random.Random(seed)
    now = time.time_ns() // 1_000_000
    kinds = ["WebcastMemberMessage"] * 45 + ["WebcastLikeMessage"] * 30 + ["WebcastChatMessage"] * 20
    kinds += ["WebcastSocialMessage"] * 3 + ["WebcastGiftMessage"] * 2
    for i in range(count):
        method = rng.choice(kinds)
        uid = 50_000_000_000 + rng.randrange(200_000)
        payload: dict[str, object] = {
            "common": {"method": method, "msgId": str(7_300_000_000_000_000_000 + i), "roomId": "7004347458255899428",
                       "createTime": str(now + i // 20)},
            "user": {"id": str(uid), "nickName": f"用户{uid % 100000}"},
        }
        if method == "WebcastChatMessage":
            payload["content"] = rng.choice(TEXTS)
        elif method == "WebcastLikeMessage":
            payload["count"] = rng.randint(1, 15)
        elif method == "WebcastSocialMessage":
            payload["action"] = 1
        yield orjson.dumps({"method": method, "payload": payload}) + b"\n"
