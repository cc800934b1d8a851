"""Twitch chat over IRC, anonymously (no account, no token, no extra dependency).

Twitch serves IRC over WebSocket at wss://irc-ws.chat.twitch.tv:443 (one or more IRC lines per
WebSocket message) and over plain TCP/TLS at irc.chat.twitch.tv:6667/6697. Both speak the same
lines, so one reader serves both: `irc_lines(url, channel)` accepts ws://, wss://, irc:// and
ircs:// URLs. Login is the anonymous `justinfanNNNNN` nick Twitch allows for reading; the
`twitch.tv/tags` capability brings the message ids and user ids the mapper needs, and
`twitch.tv/commands` the USERNOTICE/CLEARCHAT lines. PING is answered with PONG (Twitch closes a
connection that does not answer within about 5 minutes); a RECONNECT line ends the session so the
caller reconnects.
"""

from __future__ import annotations

import asyncio
import random
import ssl
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from websockets.asyncio.client import connect

from livecompanion.ingest.bridges.twitch import split_line

TWITCH_IRC_WS = "wss://irc-ws.chat.twitch.tv:443"


def login_lines(channel: str, password: str | None = None, nick: str | None = None) -> list[str]:
    nick = nick or f"justinfan{random.randint(10_000, 99_999)}"
    return [
        "CAP REQ :twitch.tv/tags twitch.tv/commands",
        *([f"PASS {password}"] if password else []),
        f"NICK {nick}",
        f"USER {nick} 8 * :{nick}",  # ignored by Twitch, required by standard IRC servers
    ]


def _reply(line: str, channel: str) -> str | None:
    """The line to send back for a server line, if any: PONG for PING; CAP END once the server
    answered the capability request (standard IRC servers hold the login until then; Twitch does
    not need it and ignores it); JOIN once the login is welcomed (001)."""
    _, _, command, params = split_line(line)
    if command == "PING":
        return f"PONG {params}"
    if command == "CAP" and (" ACK " in f" {params} " or " NAK " in f" {params} "):
        return "CAP END"
    if command == "001":
        return f"JOIN #{channel.lower().lstrip('#')}"
    return None


def _ends_session(line: str) -> bool:
    return split_line(line)[2] == "RECONNECT"


def _password(url: str) -> str | None:
    """The URL's password (`irc://:secret@host`); for Twitch's own hosts the placeholder its
    anonymous login accepts (tmi.js sends the same); none for other servers."""
    parts = urlsplit(url)
    if parts.password:
        return parts.password
    return "SCHMOOPIIE" if (parts.hostname or "").endswith("twitch.tv") else None


async def irc_lines(url: str, channel: str) -> AsyncIterator[str]:
    """Raw IRC lines (without CRLF) of one session; ends when the server closes or asks to reconnect."""
    scheme = urlsplit(url).scheme
    if scheme in ("ws", "wss"):
        async for line in _websocket(url, channel):
            yield line
    elif scheme in ("irc", "ircs"):
        async for line in _tcp(url, channel):
            yield line
    else:
        raise ValueError(f"--irc-url: expected ws://, wss://, irc:// or ircs://, got {url!r}")


async def _websocket(url: str, channel: str) -> AsyncIterator[str]:
    async with connect(url, open_timeout=10, ping_interval=60) as ws:
        for line in login_lines(channel, _password(url)):
            await ws.send(line)
        async for frame in ws:
            text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
            for line in text.split("\r\n"):
                if not line:
                    continue
                reply = _reply(line, channel)
                if reply:
                    await ws.send(reply)
                if _ends_session(line):
                    return
                if not line.startswith("PING"):
                    yield line


async def _tcp(url: str, channel: str) -> AsyncIterator[str]:
    parts = urlsplit(url)
    secure = parts.scheme == "ircs"
    port = parts.port or (6697 if secure else 6667)
    context = ssl.create_default_context() if secure else None
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(parts.hostname or "localhost", port, ssl=context), 10
    )
    try:
        for line in login_lines(channel, _password(url)):
            writer.write(line.encode() + b"\r\n")
        await writer.drain()
        while True:
            raw = await reader.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                continue
            reply = _reply(line, channel)
            if reply:
                writer.write(reply.encode() + b"\r\n")
                await writer.drain()
            if _ends_session(line):
                return
            if not line.startswith("PING"):
                yield line
    finally:
        writer.close()
