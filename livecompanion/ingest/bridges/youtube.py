"""YouTube live chat, from the Data API v3 `liveChatMessages.list` response.

| `snippet.type` | event |
| --- | --- |
| textMessageEvent | comment: `snippet.textMessageDetails.messageText` (else `displayMessage`), viewer `authorDetails.channelId`, time `snippet.publishedAt`, id the message's `id` |
| superChatEvent with a `superChatDetails.userComment` | comment (the viewer's paid message is still a question or remark to answer) |
| superChatEvent without a comment, superStickerEvent, newSponsorEvent, messageDeletedEvent … | nothing (money to the creator is not an order) |

The API has no events for viewers entering, likes or follows in chat, and the concurrent viewer
count comes from `videos.list` (liveStreamingDetails.concurrentViewers), which a bridge can send as
a `viewer_count` event itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from livecompanion.ingest.bridges._common import Event, as_mapping, as_text, epoch_ms, event, need_id, pick

PLATFORM = "youtube"


def map_youtube_message(item: Mapping[str, Any]) -> list[Event]:
    """Events for one `youtube#liveChatMessage` resource; [] for message types we do not use."""
    item = as_mapping(item, "item")
    kind = item.get("kind")
    if kind is not None and kind != "youtube#liveChatMessage":
        raise ValueError(f"kind: expected youtube#liveChatMessage, got {kind!r}")
    snippet = as_mapping(item.get("snippet"), "snippet")
    kind = snippet.get("type")
    if kind == "textMessageEvent":
        details = snippet.get("textMessageDetails")
        if details is not None:
            details = as_mapping(details, "snippet.textMessageDetails")
            text = as_text(details.get("messageText"), "snippet.textMessageDetails.messageText").strip()
        else:
            text = as_text(snippet.get("displayMessage"), "snippet.displayMessage").strip()
    elif kind == "superChatEvent":
        details = as_mapping(snippet.get("superChatDetails"), "snippet.superChatDetails")
        text = as_text(details.get("userComment"), "snippet.superChatDetails.userComment").strip()
    else:
        return []
    if not text:
        return []
    author = item.get("authorDetails")
    author = as_mapping(author, "authorDetails") if author is not None else {}
    user_id = need_id(pick(author, "channelId") or snippet.get("authorChannelId"), "authorDetails.channelId")
    name = author.get("displayName")
    ts = epoch_ms(snippet.get("publishedAt"), "snippet.publishedAt")
    message_id = need_id(item.get("id"), "id")
    return [
        event(
            "comment",
            PLATFORM,
            id=f"{PLATFORM}:{message_id}",
            ts=ts,
            user_id=user_id,
            nickname=name if isinstance(name, str) else None,
            text=text,
        )
    ]


def map_youtube_response(response: Mapping[str, Any]) -> list[Event]:
    """Events for a whole `liveChatMessages.list` page; a malformed item raises, naming its index."""
    response = as_mapping(response, "response")
    kind = response.get("kind")
    if kind is not None and kind != "youtube#liveChatMessageListResponse":
        raise ValueError(f"kind: expected youtube#liveChatMessageListResponse, got {kind!r}")
    items = response.get("items", [])
    if not isinstance(items, list):
        raise ValueError(f"items: expected a list, got {type(items).__name__}")
    events: list[Event] = []
    for index, item in enumerate(items):
        try:
            events.extend(map_youtube_message(item))
        except ValueError as exc:
            raise ValueError(f"items[{index}].{exc}") from None
    return events


def map_youtube(message: Mapping[str, Any]) -> list[Event]:
    """One recorded YouTube message: a liveChatMessage resource or a whole list response."""
    message = as_mapping(message, "message")
    if message.get("kind") == "youtube#liveChatMessageListResponse" or "items" in message:
        return map_youtube_response(message)
    return map_youtube_message(message)


def room_of(message: Any) -> str | None:
    """The live chat a resource belongs to (`snippet.liveChatId`)."""
    if not isinstance(message, Mapping):
        return None
    items = message.get("items")
    if isinstance(items, list):
        message = items[0] if items and isinstance(items[0], Mapping) else {}
    snippet = message.get("snippet")
    chat = snippet.get("liveChatId") if isinstance(snippet, Mapping) else None
    return chat if isinstance(chat, str) and chat else None
