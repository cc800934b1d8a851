"""bilibili live (B站直播) broadcast commands, as the danmaku WebSocket delivers them (JSON, `cmd`).

| cmd | event |
| --- | --- |
| DANMU_MSG (also with a `:…` suffix) | comment: `info[1]` text, `info[2][0]` uid, `info[2][1]` name, `info[0][4]` time (ms) |
| INTERACT_WORD | `data.msg_type` 1 enter, 2 follow, 3 share, 4 (special follow) and 5 (mutual follow) follow |
| anything else (SEND_GIFT, SUPER_CHAT_MESSAGE, INTERACT_WORD_V2 …) | nothing |

DANMU_MSG carries a message id in the JSON string `info[0][15].extra` (`id_str`) in current
versions; without it the id is derived from uid, time and text. INTERACT_WORD has no message id:
it is derived from uid, msg_type and `trigger_time` (ns) or `timestamp` (s).

bilibili hides viewer ids from connections that are not logged in (uid 0, names masked): such a
message is rejected with that reason, because an event without its viewer cannot be counted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from livecompanion.ingest.bridges._common import (
    Event,
    as_id,
    as_int,
    as_mapping,
    as_text,
    derived_id,
    epoch_ms,
    event,
)

PLATFORM = "bilibili"
_HIDDEN_UID = "uid is 0: bilibili hides viewers from connections that are not logged in; log the bridge in"
_INTERACT = {1: "enter", 2: "follow", 3: "share", 4: "follow", 5: "follow"}


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _extra_id(meta: list[Any]) -> str | None:
    # info[0][15] = {"extra": "<JSON text>", "user": {...}, ...} in current versions.
    if len(meta) <= 15 or not isinstance(meta[15], Mapping):
        return None
    extra = meta[15].get("extra")
    if not isinstance(extra, str) or not extra.strip():
        return None
    try:
        decoded = json.loads(extra)
    except ValueError:
        return None
    if not isinstance(decoded, Mapping):
        return None
    return as_id(decoded.get("id_str"), "info[0][15].extra.id_str", required=False)


def _danmu(command: Mapping[str, Any]) -> list[Event]:
    info = _list(command.get("info"), "info")
    if len(info) < 3:
        raise ValueError(f"info: expected at least 3 entries (meta, text, user), got {len(info)}")
    meta = _list(info[0], "info[0]")
    text = as_text(info[1], "info[1]").strip()
    if not text:
        return []
    sender = _list(info[2], "info[2]")
    if not sender:
        raise ValueError("info[2]: the sender [uid, name, ...] is empty")
    uid = as_id(sender[0], "info[2][0]", required=False)
    if uid is None:
        raise ValueError(f"info[2][0]: {_HIDDEN_UID}")
    name = sender[1] if len(sender) > 1 and isinstance(sender[1], str) else None
    ts = epoch_ms(meta[4], "info[0][4]") if len(meta) > 4 else None
    msg_id = _extra_id(meta)
    eid = f"{PLATFORM}:{msg_id}" if msg_id else derived_id(PLATFORM, uid, ts, text) if ts else None
    return [event("comment", PLATFORM, id=eid, ts=ts, user_id=uid, nickname=name, text=text)]


def _interact(command: Mapping[str, Any]) -> list[Event]:
    data = as_mapping(command.get("data"), "data")
    msg_type = as_int(data.get("msg_type"), "data.msg_type")
    kind = _INTERACT.get(msg_type)
    if kind is None:
        return []
    uid = as_id(data.get("uid"), "data.uid", required=False)
    if uid is None:
        raise ValueError(f"data.uid: {_HIDDEN_UID}")
    name = data.get("uname") if isinstance(data.get("uname"), str) else None
    trigger = as_int(data.get("trigger_time"), "data.trigger_time", default=0)
    ts = epoch_ms(trigger or data.get("timestamp"), "data.timestamp")
    eid = derived_id(PLATFORM, uid, msg_type, trigger or ts) if (trigger or ts) else None
    return [event(kind, PLATFORM, id=eid, ts=ts, user_id=uid, nickname=name)]


def map_bilibili(command: Mapping[str, Any]) -> list[Event]:
    """Events for one bilibili live command; [] for commands we do not use."""
    command = as_mapping(command, "command")
    cmd = command.get("cmd")
    if not isinstance(cmd, str):
        raise ValueError("cmd: missing or not text")
    name = cmd.split(":", 1)[0]
    if name == "DANMU_MSG":
        return _danmu(command)
    if name == "INTERACT_WORD":
        return _interact(command)
    return []
