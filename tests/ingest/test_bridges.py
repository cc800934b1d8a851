"""Platform bridges: fixture payloads in each platform's shape -> events that parse_event accepts."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from livecompanion.events import parse_event
from livecompanion.ingest.bridges import (
    map_bilibili,
    map_douyin,
    map_shopify_order,
    map_tiktok,
    map_twitch_line,
    map_youtube_message,
    map_youtube_response,
    share_total,
    verify_shopify_hmac,
)

FIXTURES = Path(__file__).parent / "fixtures"
RECEIVED = 1_717_300_000_000


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text("utf-8"))


def parsed(events: list[dict[str, Any]]) -> list[Any]:
    return [parse_event(e, RECEIVED) for e in events]


def test_douyin_messages() -> None:
    messages = load("douyin_messages.json")
    events = [e for m in messages for e in map_douyin(m)]
    typed = parsed(events)
    assert [e.type for e in typed] == [
        "comment", "comment", "enter", "like", "follow", "share", "viewer_count", "comment",
    ]  # fmt: skip
    chat = typed[0]
    assert (chat.id, chat.user_id, chat.nickname, chat.text, chat.ts, chat.platform) == (
        "douyin:7321458712345678901", "93847561234", "小鹿爱囤货", "這款面膜適合油性皮膚嗎？", 1717318800123, "douyin",
    )  # fmt: skip
    assert typed[1].text == "[比心]"
    assert typed[2].user_id == "MS4wLjABAAAAq9w8e7"  # numeric id zeroed: secUid stands in
    assert typed[3].count == 15
    assert typed[6].count == 3512  # total = viewers now, not totalUser (cumulative)
    enveloped = typed[7]
    assert (enveloped.id, enveloped.user_id, enveloped.nickname) == (
        "douyin:6922636275858098944",
        "61152922824",
        "若他",
    )
    assert enveloped.ts == RECEIVED  # no time in that message: parse_event uses the time received


def test_douyin_method_can_be_passed_and_gifts_are_ignored() -> None:
    chat = load("douyin_messages.json")[0]
    bare = dict(chat)
    bare["common"] = {k: v for k, v in chat["common"].items() if k != "method"}
    assert map_douyin(bare, method="ChatMessage") == map_douyin(chat)
    assert map_douyin(bare) == []  # no method anywhere: not a message we know
    gift = load("douyin_messages.json")[7]
    assert map_douyin(gift) == []


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"common": {"method": "WebcastChatMessage"}, "content": "hi", "user": {"id": "1"}}, "common.msgId"),
        ({"common": {"method": "WebcastChatMessage", "msgId": "9"}, "content": "hi"}, "user"),
        (
            {"common": {"method": "WebcastChatMessage", "msgId": "9"}, "content": "hi", "user": {"id": 0}},
            "user",
        ),
        (
            {"common": {"method": "WebcastLikeMessage", "msgId": "9"}, "count": "many", "user": {"id": "1"}},
            "count",
        ),
        ({"common": {"method": "WebcastChatMessage", "msgId": "9", "createTime": "soon"}}, "createTime"),
        ({"common": "WebcastChatMessage"}, "common"),
        ("WebcastChatMessage", "message"),
    ],
)
def test_douyin_malformed(message: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        map_douyin(message)


def test_tiktok_events() -> None:
    entries = load("tiktok_events.json")
    events = [e for entry in entries for e in map_tiktok(entry["event"], entry["data"])]
    typed = parsed(events)
    assert [e.type for e in typed] == [
        "comment",
        "enter",
        "like",
        "follow",
        "follow",
        "share",
        "viewer_count",
        "comment",
    ]
    assert typed[0].id == "tiktok:7269288778833267462" and typed[0].ts == 1692513196281
    assert typed[2].count == 5
    # The connector emits `social` and `follow` for one message: same id, so ingest keeps one.
    assert typed[3].id == typed[4].id == "tiktok:7269289217805732613"
    # Neither msgId nor time: the id comes from what the message says, so a replay is a duplicate.
    assert typed[6].count == 1532 and typed[6].id.startswith("tiktok:h:")
    question = typed[7]
    assert question.text == "Do you ship to Canada?" and question.id.startswith("tiktok:h:")
    again = [e for entry in entries for e in map_tiktok(entry["event"], entry["data"])]
    assert [e["id"] for e in again] == [e.id for e in typed]


def test_tiktok_nested_user_and_derived_ids() -> None:
    data = {
        "comment": "想要",
        "user": {"userId": "77", "nickname": "Lin"},
        "common": {"createTime": "1692513196281"},
    }
    first = map_tiktok("chat", data)
    assert first == map_tiktok("chat", copy.deepcopy(data))  # re-delivery: same id
    assert first[0]["id"].startswith("tiktok:h:") and first[0]["user_id"] == "77"
    other = map_tiktok("chat", {**data, "comment": "已拍"})
    assert other[0]["id"] != first[0]["id"]
    assert map_tiktok("chat", {"comment": "  ", "userId": "1"}) == []
    assert map_tiktok("social", {"displayType": "pm_mt_join_message_other_viewer", "userId": "1"}) == []
    assert map_tiktok("streamEnd", {}) == []


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("chat", {"comment": "hi"}, "user id or uniqueId"),
        ("chat", {"comment": 42, "userId": "1"}, "comment"),
        ("like", {"likeCount": "lots", "userId": "1"}, "likeCount"),
        ("roomUser", {}, "viewerCount"),
        ("roomUser", {"viewerCount": -3}, "negative"),
        ("chat", ["not", "an", "object"], "data"),
    ],
)
def test_tiktok_malformed(name: str, data: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        map_tiktok(name, data)


def test_bilibili_commands() -> None:
    commands = load("bilibili_commands.json")
    events = [e for c in commands for e in map_bilibili(c)]
    typed = parsed(events)
    assert [e.type for e in typed] == ["comment", "comment", "enter", "follow", "share"]
    first = typed[0]
    assert first.id == "bilibili:b3a1f0c2d4e5f60718293a4b5c6d7e8f9012"  # id_str from info[0][15].extra
    assert (first.user_id, first.nickname, first.text, first.ts) == (
        "1850091",
        "Jannchie见齐",
        "这个包邮吗",
        1717318800123,
    )
    older = typed[1]
    assert older.id.startswith("bilibili:h:") and older.ts == 1644559560263 and older.text == "想要想要"
    assert typed[2].ts == 1717318801123  # trigger_time is in nanoseconds
    assert [e.id for e in parsed([e for c in commands for e in map_bilibili(c)])] == [e.id for e in typed]


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ({"cmd": "DANMU_MSG", "info": [[0] * 5, "hi", [0, "用***"]]}, "not logged in"),
        ({"cmd": "DANMU_MSG", "info": [[0] * 5, "hi"]}, "at least 3"),
        ({"cmd": "DANMU_MSG", "info": "hi"}, "info"),
        ({"cmd": "DANMU_MSG", "info": [[0] * 5, 7, [1, "a"]]}, r"info\[1\]"),
        ({"cmd": "INTERACT_WORD", "data": {"msg_type": 1, "uid": 0}}, "not logged in"),
        ({"cmd": "INTERACT_WORD", "data": {"uid": 5}}, "msg_type"),
        ({"info": []}, "cmd"),
    ],
)
def test_bilibili_malformed(command: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        map_bilibili(command)


def test_youtube_response() -> None:
    response = load("youtube_livechat_response.json")
    typed = parsed(map_youtube_response(response))
    assert [e.text for e in typed] == [
        "is it good for oily skin?",
        "love this stream",
        "sold! 🔥",
    ]  # a super chat's comment is a comment; the deletion is ignored
    first = typed[0]
    assert first.id == "youtube:LCC.CjgKDQoLZ2lMQmN0QkJpNTQqJwoYVUNtNV9OQ1hfTXhR"
    assert (first.user_id, first.nickname, first.ts) == (
        "UCm5_NCX_MxQ7xxxxxxxxxxA",
        "Mia Chen",
        1717318800123,
    )
    assert typed[2].ts == 1717318809500
    assert map_youtube_message(response["items"][1])[0]["text"] == "love this stream"


def test_youtube_malformed() -> None:
    response = load("youtube_livechat_response.json")
    broken = copy.deepcopy(response)
    del broken["items"][2]["authorDetails"]
    del broken["items"][2]["snippet"]["authorChannelId"]
    with pytest.raises(ValueError, match=r"items\[2\]\.authorDetails.channelId"):
        map_youtube_response(broken)
    with pytest.raises(ValueError, match="kind"):
        map_youtube_message({"kind": "youtube#video", "snippet": {}})
    with pytest.raises(ValueError, match="publishedAt"):
        item = copy.deepcopy(response["items"][0])
        item["snippet"]["publishedAt"] = "yesterday"
        map_youtube_message(item)


def test_twitch_lines() -> None:
    lines = (FIXTURES / "twitch_irc.txt").read_text("utf-8").split("\n")
    events = [e for line in lines for e in map_twitch_line(line)]
    typed = parsed(events)
    assert [(e.user_id, e.nickname, e.text) for e in typed] == [
        ("713936733", "Lovingt3s", "how much is the red one?"),
        ("424242", "Mei Ling", "wants two"),  # \s unescaped, /me unwrapped
    ]
    assert typed[0].id == "twitch:885196de-cb67-427a-baa8-82f9b0fcd05f" and typed[0].ts == 1643904084794


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (":a!a@a.tmi.twitch.tv PRIVMSG #chan :hello", "twitch.tv/tags"),
        ("@id=1;user-id=2 :a!a@a PRIVMSG nochannel", "#channel"),
        ("@id=1;tmi-sent-ts=1 :a!a@a PRIVMSG #chan :hi", "user-id"),
        ("@user-id=2;tmi-sent-ts=1 :a!a@a PRIVMSG #chan :hi", "tag id"),
        (b"PRIVMSG", "line"),
    ],
)
def test_twitch_malformed(line: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        map_twitch_line(line)


def _sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_shopify_hmac() -> None:
    body = (FIXTURES / "shopify_orders_create.json").read_bytes()
    header = _sign(body, "hush")
    assert verify_shopify_hmac(body, header, "hush")
    assert verify_shopify_hmac(body, f" {header}\n", "hush")
    assert not verify_shopify_hmac(body + b" ", header, "hush")
    assert not verify_shopify_hmac(body, header, "other")
    assert not verify_shopify_hmac(body, "", "hush")
    assert not verify_shopify_hmac(body, header, "")
    assert not verify_shopify_hmac(body, "négatif", "hush")


def test_shopify_orders_one_event_per_line_item_adding_up_to_the_total() -> None:
    created = parsed(map_shopify_order("orders/create", load("shopify_orders_create.json")))
    paid = parsed(map_shopify_order("orders/paid", load("shopify_orders_paid.json")))
    assert [(e.sku, e.qty, e.status) for e in created] == [
        ("MASK-01", 2, "created"),
        ("SERUM-02", 1, "created"),
    ]
    assert [e.status for e in paid] == ["paid", "paid"]
    assert sum(e.amount for e in paid) == Decimal("237.00")  # total_price, shipping included
    assert [e.amount for e in paid] == [Decimal("175.40"), Decimal("61.60")]  # 237 shared 168 : 59
    assert (
        [e.order_id for e in created]
        == [e.order_id for e in paid]
        == ["5820982911946:13866550311760", "5820982911946:13866550311761"]
    )
    assert {e.user_id for e in paid} == {"7115310627314"}
    assert all(e.id.startswith("shopify:orders/paid:") for e in paid)
    assert {e.id for e in created}.isdisjoint(e.id for e in paid)  # the paid event is not a duplicate
    assert created[0].ts == 1717319111000 and paid[0].ts == 1717319200000
    dumped = json.dumps(map_shopify_order("orders/paid", load("shopify_orders_paid.json")))
    assert "mia@example.com" not in dumped and "Chen" not in dumped  # no personal data leaves


def test_shopify_guest_order_and_other_topics() -> None:
    guest = parsed(map_shopify_order("orders/create", load("shopify_guest_order_create.json")))
    assert len(guest) == 1  # the line with quantity 0 was removed from the order
    assert (guest[0].user_id, guest[0].sku, guest[0].amount) == (
        "shopify-guest-5820982911999",
        "shopify-variant-40427219",
        Decimal("0.00"),
    )
    paid = load("shopify_orders_paid.json")
    assert map_shopify_order("orders/updated", paid) == []
    assert map_shopify_order("products/create", paid) == []
    refunded = parsed(map_shopify_order("orders/updated", {**paid, "financial_status": "refunded"}))
    assert [e.status for e in refunded] == ["refunded", "refunded"]
    cancelled = parsed(
        map_shopify_order("orders/cancelled", {**paid, "cancelled_at": "2024-06-02T18:00:00+08:00"})
    )
    assert cancelled[0].status == "cancelled" and cancelled[0].ts == 1717322400000


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "id: missing"),
        ({"total_price": "n/a"}, "total_price"),
        ({"total_price": "-5"}, "total_price"),
        ({"line_items": []}, "line_items"),
        (
            {"line_items": [{"id": 1, "sku": "A", "quantity": "two", "price": "1"}]},
            r"line_items\[0\]\.quantity",
        ),
        ({"line_items": [{"id": 1, "sku": "A", "quantity": 1, "price": None}]}, r"line_items\[0\]\.price"),
        ({"line_items": [{"sku": "A", "quantity": 1, "price": "1"}]}, r"line_items\[0\]\.id"),
        ({"created_at": "2024-06-02 17:05"}, "created_at"),
    ],
)
def test_shopify_malformed(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        map_shopify_order("orders/create", {**load("shopify_orders_create.json"), **change})


def test_share_total_is_exact() -> None:
    shares = share_total(Decimal("100.00"), [Decimal(1), Decimal(1), Decimal(1)])
    assert shares == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert share_total(Decimal("9.99"), [Decimal(0), Decimal(0)]) == [Decimal("4.99"), Decimal("5.00")]
    assert share_total(Decimal(5), []) == []
