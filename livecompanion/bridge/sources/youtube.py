"""YouTube live chat: the Data API v3 with a key (`--api-key`), else pytchat-ng without one.

Data API (no extra dependency): `videos.list` gives the video's `activeLiveChatId`, then
`liveChatMessages.list` is polled at the `pollingIntervalMillis` YouTube asks for, each item
yielded as the liveChatMessage resource it is. Quota: each poll costs 5 units of the default
10,000 a day, so a key lasts about 3 to 4 hours of one stream at YouTube's usual interval; the
bridge never polls faster than YouTube says.

pytchat-ng (`pip install 'livecompanion[youtube]'`) reads the chat the way the web player does,
with no key and no quota; its items are converted to the same liveChatMessage shape (id, type,
publishedAt, author channel id and name, text) so recordings and mapping are one format.

Errors: a chat that ended (`liveChatEnded`, `liveChatNotFound`, `liveChatDisabled`) or a key out of
quota (`quotaExceeded`) stops the bridge with that reason (polling again cannot help); any other
error answer is retried with backoff. `--api-url` points the Data API path elsewhere (a local
server in tests/bridge/test_youtube_transport.py, or a proxy).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx

from livecompanion.bridge.sources import YOUTUBE_API as API
from livecompanion.bridge.sources import SourceEnded


def library_version(api_key: str | None) -> str:
    if api_key:
        return "YouTube Data API v3"
    from importlib.metadata import version

    return f"pytchat-ng {version('pytchat-ng')}"


# Error reasons (the `error.errors[].reason` of a Data API error body) after which polling again
# cannot help: the bridge stops and says why instead of retrying.
CHAT_OVER = {"liveChatEnded", "liveChatNotFound", "liveChatDisabled"}
OUT_OF_QUOTA = {"quotaExceeded", "dailyLimitExceeded"}


def api_error(response: httpx.Response) -> Exception:
    """What a Data API error answer means for the bridge: `SourceEnded` when polling again cannot
    help (the chat ended; the key's daily quota is used up), else a ValueError (reconnect with
    backoff) naming the status and Google's reason."""
    try:
        error = response.json().get("error") or {}
        reasons = [str(e.get("reason")) for e in error.get("errors") or [] if isinstance(e, dict)]
        message = str(error.get("message") or "")
    except (ValueError, AttributeError):
        reasons, message = [], response.text[:200]
    if CHAT_OVER.intersection(reasons):
        return SourceEnded(f"YouTube: the live chat has ended ({', '.join(reasons)}: {message})")
    if OUT_OF_QUOTA.intersection(reasons):
        return SourceEnded(
            f"YouTube: the API key's daily quota is used up ({', '.join(reasons)}); it resets at midnight "
            "Pacific time. Run the bridge without --api-key (pytchat-ng, no quota) or with another key."
        )
    return ValueError(f"YouTube answered {response.status_code} ({', '.join(reasons) or 'no reason'}): {message[:200]}")


async def data_api_messages(video: str, api_key: str, api: str = API) -> AsyncIterator[Any]:
    """Each liveChatMessage of the video's live chat, polled at the `pollingIntervalMillis` YouTube
    asks for (at least 1 s), following `nextPageToken` (kept when a page has none)."""
    api = api.rstrip("/")
    async with httpx.AsyncClient(timeout=20) as client:
        details = await client.get(
            f"{api}/videos", params={"part": "liveStreamingDetails", "id": video, "key": api_key}
        )
        if details.status_code >= 400:
            raise api_error(details)
        items = details.json().get("items") or []
        chat = (items[0].get("liveStreamingDetails") or {}).get("activeLiveChatId") if items else None
        if not chat:
            raise ValueError(f"video {video} has no active live chat (not live, or chat off)")
        token: str | None = None
        while True:
            params = {"liveChatId": chat, "part": "snippet,authorDetails", "key": api_key, "maxResults": 2000}
            if token:
                params["pageToken"] = token
            page = await client.get(f"{api}/liveChat/messages", params=params)
            if page.status_code >= 400:
                raise api_error(page)
            body = page.json()
            for item in body.get("items") or []:
                yield item
            token = body.get("nextPageToken") or token
            await asyncio.sleep(max(int(body.get("pollingIntervalMillis") or 5000), 1000) / 1000)


_PYTCHAT_TYPES = {"textMessage": "textMessageEvent", "superChat": "superChatEvent"}


def pytchat_item(chat: Any, video: str) -> dict[str, Any]:
    """A pytchat(-ng) chat item as a liveChatMessage resource (the fields the mapper reads)."""
    published = datetime.fromtimestamp(int(chat.timestamp) / 1000, tz=UTC).isoformat()
    kind = _PYTCHAT_TYPES.get(getattr(chat, "type", ""), str(getattr(chat, "type", "")))
    snippet: dict[str, Any] = {"type": kind, "liveChatId": video, "publishedAt": published,
                               "displayMessage": chat.message}
    if kind == "textMessageEvent":
        snippet["textMessageDetails"] = {"messageText": chat.message}
    elif kind == "superChatEvent":
        snippet["superChatDetails"] = {"userComment": chat.message, "amountDisplayString": chat.amountString}
    return {
        "kind": "youtube#liveChatMessage",
        "id": chat.id,
        "snippet": snippet,
        "authorDetails": {"channelId": chat.author.channelId, "displayName": chat.author.name},
    }


async def pytchat_messages(video: str) -> AsyncIterator[Any]:
    try:
        import pytchat  # type: ignore[import-not-found]
    except ImportError:
        raise SystemExit(
            "the youtube bridge needs --api-key, or pytchat-ng: pip install 'livecompanion[youtube]'"
        ) from None
    chat = pytchat.create(video_id=video, interruptable=False)
    loop = asyncio.get_running_loop()
    try:
        while chat.is_alive():
            data = await loop.run_in_executor(None, chat.get)
            for item in data.items:
                yield pytchat_item(item, video)
            await asyncio.sleep(1)
        chat.raise_for_status()
    finally:
        chat.terminate()
