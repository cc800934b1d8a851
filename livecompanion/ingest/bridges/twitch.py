"""Twitch chat over IRC: one raw line, with IRCv3 tags (request the `twitch.tv/tags` capability).

    @badge-info=;display-name=Ann;id=8a1c…;tmi-sent-ts=1700000000000;user-id=4711 :ann!ann@ann.tmi.twitch.tv PRIVMSG #shop :how much?

| command | event |
| --- | --- |
| PRIVMSG | comment: the trailing text (a /me action unwrapped), viewer `user-id`, name `display-name` (else the login), time `tmi-sent-ts`, id `id` |
| anything else (PING, JOIN, USERNOTICE, CLEARCHAT, numerics …) | nothing |

JOIN is not mapped to enter: Twitch sends JOINs in batches, only for small channels and without
user ids, so it would distort the funnel rather than measure it.
"""

from __future__ import annotations

from livecompanion.ingest.bridges._common import Event, epoch_ms, event, need_id

PLATFORM = "twitch"
_UNESCAPE = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


def _unescape(value: str) -> str:
    # IRCv3 tag values escape ; space \ CR LF as \: \s \\ \r \n; any other \x is x, a lone \ dropped.
    if "\\" not in value:
        return value
    out: list[str] = []
    chars = iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append(_UNESCAPE.get(nxt, nxt))
        else:
            out.append(ch)
    return "".join(out)


def parse_tags(raw: str) -> dict[str, str]:
    """IRCv3 tags (without the leading @) as a dict of unescaped values."""
    tags: dict[str, str] = {}
    for part in raw.split(";"):
        if part:
            name, _, value = part.partition("=")
            tags[name] = _unescape(value)
    return tags


def map_twitch_line(line: str) -> list[Event]:
    """Events for one raw IRC line from Twitch chat; [] for lines that are not chat messages."""
    if not isinstance(line, str):
        raise ValueError(f"line: expected text, got {type(line).__name__}")
    rest = line.rstrip("\r\n")
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        raw_tags, _, rest = rest[1:].partition(" ")
        tags = parse_tags(raw_tags)
    prefix = ""
    if rest.startswith(":"):
        prefix, _, rest = rest[1:].partition(" ")
    command, _, params = rest.lstrip(" ").partition(" ")
    if command != "PRIVMSG":
        return []
    channel, sep, text = params.partition(" :")
    if not sep or not channel.startswith("#"):
        raise ValueError("PRIVMSG: expected '#channel :text'")
    if not tags:
        raise ValueError(
            "PRIVMSG without tags: request the twitch.tv/tags capability to get user and message ids"
        )
    if text.startswith("\x01ACTION ") and text.endswith("\x01"):
        text = text[len("\x01ACTION ") : -1]
    text = text.strip()
    if not text:
        return []
    user_id = need_id(tags.get("user-id"), "tag user-id")
    message_id = need_id(tags.get("id"), "tag id")
    login = prefix.partition("!")[0] or None
    nickname = tags.get("display-name") or login
    ts = epoch_ms(tags.get("tmi-sent-ts") or None, "tag tmi-sent-ts")
    return [
        event(
            "comment",
            PLATFORM,
            id=f"{PLATFORM}:{message_id}",
            ts=ts,
            user_id=user_id,
            nickname=nickname,
            text=text,
        )
    ]
