"""Twitch EventSub over WebSocket, for a bridge given a user access token (`--token-twitch`).

What twitchio 3 does under the hood, without the dependency: validate the token (which gives the
client id and the token's user), look the channel up, open wss://eventsub.wss.twitch.tv/ws, and on
`session_welcome` subscribe this session to `channel.chat.message` (scope `user:read:chat`) and,
when the token allows it (scope `moderator:read:followers`, as the broadcaster or a moderator),
`channel.follow` v2. A subscription the token does not allow is reported once and skipped.
Notifications are yielded whole (`{"metadata", "payload"}`), the form `--record` keeps;
keepalives are not. `session_reconnect` moves to the URL Twitch gives.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import IO, Any

import httpx
import orjson
from websockets.asyncio.client import connect

EVENTSUB_WS = "wss://eventsub.wss.twitch.tv/ws"
HELIX = "https://api.twitch.tv/helix"
VALIDATE = "https://id.twitch.tv/oauth2/validate"


async def _identity(client: httpx.AsyncClient, token: str, channel: str) -> tuple[str, str, str]:
    """(client id, the token's user id, the channel's user id)."""
    response = await client.get(VALIDATE, headers={"Authorization": f"OAuth {token}"})
    if response.status_code != 200:
        raise ValueError(f"Twitch refused the token ({response.status_code}): {response.text[:200]}")
    info = response.json()
    headers = {"Client-Id": info["client_id"], "Authorization": f"Bearer {token}"}
    users = await client.get(f"{HELIX}/users", params={"login": channel}, headers=headers)
    users.raise_for_status()
    found = users.json().get("data") or []
    if not found:
        raise ValueError(f"no Twitch channel named {channel!r}")
    return info["client_id"], info["user_id"], found[0]["id"]


def subscriptions(broadcaster: str, user: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "channel.chat.message",
            "version": "1",
            "condition": {"broadcaster_user_id": broadcaster, "user_id": user},
        },
        {
            "type": "channel.follow",
            "version": "2",
            "condition": {"broadcaster_user_id": broadcaster, "moderator_user_id": user},
        },
    ]


async def eventsub_messages(channel: str, token: str, err: IO[str], url: str = EVENTSUB_WS) -> AsyncIterator[Any]:
    """EventSub notifications of one session (ends when Twitch closes it)."""
    async with httpx.AsyncClient(timeout=15) as client:
        client_id, user_id, broadcaster = await _identity(client, token, channel.lstrip("#").lower())
        headers = {"Client-Id": client_id, "Authorization": f"Bearer {token}"}
        while url:
            next_url = ""
            async with connect(url, open_timeout=10) as ws:
                async for raw in ws:
                    message = orjson.loads(raw)
                    kind = message.get("metadata", {}).get("message_type")
                    if kind == "session_welcome":
                        session = message["payload"]["session"]["id"]
                        for sub in subscriptions(broadcaster, user_id):
                            body = {**sub, "transport": {"method": "websocket", "session_id": session}}
                            made = await client.post(f"{HELIX}/eventsub/subscriptions", json=body, headers=headers)
                            if made.status_code >= 300:
                                print(
                                    f"twitch: cannot subscribe to {sub['type']} ({made.status_code}): "
                                    f"{made.text[:160]}", file=err, flush=True,
                                )
                    elif kind == "session_reconnect":
                        next_url = message["payload"]["session"]["reconnect_url"]
                        break
                    elif kind == "notification":
                        yield message
            url = next_url
