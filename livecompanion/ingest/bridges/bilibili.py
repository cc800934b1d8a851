"""bilibili live (B站直播) broadcast commands, as the danmaku WebSocket delivers them (JSON, `cmd`).

| cmd | event |
| --- | --- |
| DANMU_MSG (also with a `:…` suffix) | comment: `info[1]` text, `info[2][0]` uid, `info[2][1]` name, `info[0][4]` time (ms) |
| INTERACT_WORD_V2 (base64 protobuf in `data.pb`) | by msg_type (field 5): 1 enter, 2 follow, 3 share, 4 (special follow) and 5 (mutual follow) follow |
| INTERACT_WORD (the JSON form it replaced in 2025) | `data.msg_type`, the same table |
| anything else (SEND_GIFT, SUPER_CHAT_MESSAGE, WATCHED_CHANGE, ONLINE_RANK_V3 …) | nothing |

bilibili-api-python's `LiveDanmaku` hands its callbacks the command wrapped as
`{"room_display_id", "room_real_id", "type", "data": {<command>}}`; that wrapper is unwrapped.

Ids: DANMU_MSG carries its message id as `id_str` inside the JSON text `info[0][15].extra`; without
it the id is derived from uid, time and text. INTERACT_WORD(_V2) has none: it is derived from uid,
msg_type and `trigger_time` (ns; protobuf field 15), else `timestamp` (s; field 7).

INTERACT_WORD_V2 protobuf fields read (live.xuserreward.v1.InteractWord, as blivedm and
bilibili-api-python decode it): 1 uid, 2 uname, 5 msg_type, 6 room id, 7 timestamp (s), 15
trigger_time (ns). Measured against four recorded messages in tests/ingest/fixtures/real.

bilibili hides viewers from connections that are not logged in: uids are 0 and names masked
(`江***`). Such a message is rejected with that reason, because an event without its viewer cannot
be counted; give the bridge a login cookie (docs/bridges.md).
"""

from __future__ import annotations

import base64
import binascii
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
from livecompanion.ingest.bridges.pbwire import fields, first_int, first_text

PLATFORM = "bilibili"
HIDDEN_UID = (
    "uid is 0: bilibili hides viewers (uid 0, masked names) from connections that are not logged in; "
    "give the bridge a login cookie"
)
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
        raise ValueError(f"info[2][0]: {HIDDEN_UID}")
    name = sender[1] if len(sender) > 1 and isinstance(sender[1], str) else None
    ts = epoch_ms(meta[4], "info[0][4]") if len(meta) > 4 else None
    msg_id = _extra_id(meta)
    eid = f"{PLATFORM}:{msg_id}" if msg_id else derived_id(PLATFORM, uid, ts, text)
    return [event("comment", PLATFORM, id=eid, ts=ts, user_id=uid, nickname=name, text=text)]


def _interaction(uid: str | None, name: str | None, msg_type: int, trigger: int, seconds: Any) -> list[Event]:
    kind = _INTERACT.get(msg_type)
    if kind is None:
        return []
    if uid is None:
        raise ValueError(f"uid: {HIDDEN_UID}")
    ts = epoch_ms(trigger or seconds, "timestamp")
    eid = derived_id(PLATFORM, uid, msg_type, trigger or ts)
    return [event(kind, PLATFORM, id=eid, ts=ts, user_id=uid, nickname=name)]


def _interact(command: Mapping[str, Any]) -> list[Event]:
    data = as_mapping(command.get("data"), "data")
    msg_type = as_int(data.get("msg_type"), "data.msg_type")
    uid = as_id(data.get("uid"), "data.uid", required=False)
    name = data.get("uname") if isinstance(data.get("uname"), str) else None
    trigger = as_int(data.get("trigger_time"), "data.trigger_time", default=0)
    return _interaction(uid, name, msg_type, trigger, data.get("timestamp"))


def decode_interact_word_v2(pb: Any) -> dict[str, Any]:
    """The fields of an INTERACT_WORD_V2 `data.pb` we use, by name (for mapping and for tests)."""
    if not isinstance(pb, str) or not pb:
        raise ValueError("data.pb: expected base64 text")
    try:
        raw = base64.b64decode(pb, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("data.pb: not base64") from None
    try:
        found = fields(raw)
    except ValueError as exc:
        raise ValueError(f"data.pb: {exc}") from None
    return {
        "uid": first_int(found, 1) or 0,
        "uname": first_text(found, 2) or "",
        "msg_type": first_int(found, 5) or 0,
        "room_id": first_int(found, 6) or 0,
        "timestamp": first_int(found, 7) or 0,
        "trigger_time": first_int(found, 15) or 0,
    }


def _interact_v2(command: Mapping[str, Any]) -> list[Event]:
    data = as_mapping(command.get("data"), "data")
    decoded = decode_interact_word_v2(data.get("pb"))
    uid = str(decoded["uid"]) if decoded["uid"] else None
    name = decoded["uname"] or None
    return _interaction(uid, name, decoded["msg_type"], decoded["trigger_time"], decoded["timestamp"])


def unwrap(command: Any) -> Mapping[str, Any]:
    """The command itself, also when bilibili-api-python wrapped it for its callback."""
    found = as_mapping(command, "command")
    inner = found.get("data")
    if "cmd" not in found and "room_real_id" in found and isinstance(inner, Mapping):
        return as_mapping(inner, "data")
    return found


def room_of(command: Any) -> str | None:
    """The room a command belongs to, where it says (INTERACT_WORD_V2 field 6, wrapper room id)."""
    if not isinstance(command, Mapping):
        return None
    if "room_real_id" in command:
        return as_id(command.get("room_real_id"), "room_real_id", required=False)
    cmd = command.get("cmd")
    data = command.get("data")
    if cmd == "INTERACT_WORD_V2" and isinstance(data, Mapping):
        try:
            room = decode_interact_word_v2(data.get("pb"))["room_id"]
        except ValueError:
            return None
        return str(room) if room else None
    if isinstance(data, Mapping) and cmd in ("INTERACT_WORD",):
        return as_id(data.get("roomid"), "data.roomid", required=False)
    return None


def map_bilibili(command: Mapping[str, Any]) -> list[Event]:
    """Events for one bilibili live command; [] for commands we do not use."""
    command = unwrap(command)
    cmd = command.get("cmd")
    if not isinstance(cmd, str):
        raise ValueError("cmd: missing or not text")
    name = cmd.split(":", 1)[0]
    if name == "DANMU_MSG":
        return _danmu(command)
    if name == "INTERACT_WORD_V2":
        return _interact_v2(command)
    if name == "INTERACT_WORD":
        return _interact(command)
    return []
