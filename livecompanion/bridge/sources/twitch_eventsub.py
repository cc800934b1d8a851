"""Twitch EventSub over WebSocket, for a bridge given a user access token (`--twitch-token`).

What twitchio 3 does under the hood, without the dependency: validate the token (which gives the
client id and the token's user), look the channel up, open wss://eventsub.wss.twitch.tv/ws, and on
`session_welcome` subscribe this session to `channel.chat.message` (scope `user:read:chat`) and,
when the token allows it (scope `moderator:read:followers`, as the broadcaster or a moderator),
`channel.follow` v2. A subscription the token does not allow is reported once and skipped.
Notifications are yielded whole (`{"metadata", "payload"}`), the form `--record` keeps;
keepalives are not.

`session_reconnect` (Twitch moving the session to another edge): connect to the `reconnect_url`
while still reading the old connection, and close the old one only once the new one sent its
welcome; the subscriptions move with the session, so nothing is subscribed again (Twitch's
"Handling WebSocket Events", reconnect message). Notifications that arrive on the old connection
in between are still yielded; one sent on both is a duplicate the service drops by its id.

The three endpoints can be pointed elsewhere (`--eventsub-url`, `--helix-url`, `--twitch-auth-url`),
for testing against a local server (tests/bridge/test_eventsub_transport.py) or going through a
proxy; the defaults are Twitch's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import IO, Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect

from livecompanion.bridge.sources import TWITCH_AUTH as AUTH
from livecompanion.bridge.sources import TWITCH_EVENTSUB as EVENTSUB_WS
from livecompanion.bridge.sources import TWITCH_HELIX as HELIX

HANDOVER_S = 10.0  # how long a reconnect may take before the old connection is given up
DRAIN_S = 0.5  # after the new connection's welcome, the old one is read until quiet this long


async def _identity(client: httpx.AsyncClient, token: str, channel: str, helix: str, auth: str) -> tuple[str, str, str]:
    """(client id, the token's user id, the channel's user id)."""
    response = await client.get(f"{auth}/validate", headers={"Authorization": f"OAuth {token}"})
    if response.status_code != 200:
        raise ValueError(f"Twitch refused the token ({response.status_code}): {response.text[:200]}")
    info = response.json()
    headers = {"Client-Id": info["client_id"], "Authorization": f"Bearer {token}"}
    users = await client.get(f"{helix}/users", params={"login": channel}, headers=headers)
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


def _kind(message: Any) -> str:
    meta = message.get("metadata") if isinstance(message, dict) else None
    kind = meta.get("message_type") if isinstance(meta, dict) else None
    return kind if isinstance(kind, str) else ""


async def eventsub_messages(
    channel: str,
    token: str,
    err: IO[str],
    url: str = EVENTSUB_WS,
    helix: str = HELIX,
    auth: str = AUTH,
) -> AsyncIterator[Any]:
    """EventSub notifications of one session, across Twitch's reconnects (ends when Twitch closes
    the session; the caller reconnects from scratch)."""
    helix, auth = helix.rstrip("/"), auth.rstrip("/")
    async with httpx.AsyncClient(timeout=15) as client:
        client_id, user_id, broadcaster = await _identity(client, token, channel.lstrip("#").lower(), helix, auth)
        headers = {"Client-Id": client_id, "Authorization": f"Bearer {token}"}

        async def subscribe(session: str) -> None:
            for sub in subscriptions(broadcaster, user_id):
                body = {**sub, "transport": {"method": "websocket", "session_id": session}}
                made = await client.post(f"{helix}/eventsub/subscriptions", json=body, headers=headers)
                if made.status_code >= 300:
                    print(f"twitch: cannot subscribe to {sub['type']} ({made.status_code}): {made.text[:160]}",
                          file=err, flush=True)  # fmt: skip

        ws = await connect(url, open_timeout=10)
        subscribed = False
        try:
            while True:
                message = orjson.loads(await ws.recv())
                kind = _kind(message)
                if kind == "notification":
                    yield message
                elif kind == "session_welcome" and not subscribed:
                    await subscribe(message["payload"]["session"]["id"])
                    subscribed = True
                elif kind == "session_reconnect":
                    old = ws
                    async for held in _handover(old, message["payload"]["session"]["reconnect_url"]):
                        if isinstance(held, ClientConnection):
                            ws = held
                        else:
                            yield held
                    await old.close()
        finally:
            await ws.close()


async def _handover(old: ClientConnection, reconnect_url: str) -> AsyncIterator[Any]:
    """Connect to `reconnect_url` and wait for its welcome while still reading `old`: yields the
    notifications `old` delivers meanwhile, then the new connection. If the new one cannot be
    opened within HANDOVER_S, the error ends the session (the caller starts a new one)."""
    opening = asyncio.ensure_future(_open_welcomed(reconnect_url))
    try:
        while not opening.done():
            reading = asyncio.ensure_future(old.recv())
            done, _ = await asyncio.wait({opening, reading}, timeout=HANDOVER_S, return_when=asyncio.FIRST_COMPLETED)
            if reading in done:
                try:
                    message = orjson.loads(reading.result())
                except Exception:  # noqa: BLE001 - the old connection closed: only the new one matters now
                    await asyncio.wait_for(asyncio.shield(opening), HANDOVER_S)
                    break
                if _kind(message) == "notification":
                    yield message
                continue
            reading.cancel()
            if not done:
                raise TimeoutError(f"Twitch's reconnect URL did not welcome us within {HANDOVER_S:.0f} s")
        new = opening.result()
        # What the old connection had already been sent before the new one's welcome.
        while True:
            try:
                message = orjson.loads(await asyncio.wait_for(old.recv(), DRAIN_S))
            except Exception:  # noqa: BLE001 - quiet for DRAIN_S, or closed: done with it
                break
            if _kind(message) == "notification":
                yield message
        yield new
    finally:
        if not opening.done():
            opening.cancel()


async def _open_welcomed(url: str) -> ClientConnection:
    ws = await connect(url, open_timeout=HANDOVER_S)
    message = orjson.loads(await asyncio.wait_for(ws.recv(), HANDOVER_S))
    if _kind(message) != "session_welcome":
        await ws.close()
        raise ValueError(f"Twitch's reconnect URL sent {_kind(message) or 'something else'} before its welcome")
    return ws
