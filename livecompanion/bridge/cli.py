"""`livecompanion bridge PLATFORM ...` (contract section 3): connect a real room and push its events.

    livecompanion bridge twitch --channel NAME --stream ID [--url URL] [--token T]
    livecompanion bridge PLATFORM --from FILE --print          # a recording's events, no service

Every platform shares the runner's options (`--stream`, `--url`, `--token`, `--record`, `--from`,
`--print`, `--spool`, `--room`, `--drain-timeout`); each adds its own way to find the room.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, Any

import typer

from livecompanion.bridge.backlog import Backlog
from livecompanion.bridge.pusher import Pusher
from livecompanion.bridge.runner import Runner, print_recording, read_recording, reconnecting
from livecompanion.bridge.sources import TWITCH_AUTH, TWITCH_EVENTSUB, TWITCH_HELIX, YOUTUBE_API

bridge_app = typer.Typer(
    help="Connect a real room (or replay a recording) and push its events to the service.",
    no_args_is_help=True,
)

STREAM = typer.Option(None, "--stream", help="The stream (live script id) to push to.")
URL = typer.Option(
    None, "--url", envvar="LIVECOMPANION_URL", help="The service (default http://127.0.0.1:8000)."
)
TOKEN = typer.Option(None, "--token", envvar="LIVECOMPANION_INGEST_TOKEN", help="The ingest token.")
RECORD = typer.Option(None, "--record", help="Also append every raw message received to this NDJSON file.")
FROM = typer.Option(None, "--from", help="Read recorded raw messages (NDJSON) instead of connecting.")
PRINT = typer.Option(False, "--print", help="With --from: print the events as NDJSON; no service needed.")
SPOOL = typer.Option(
    None,
    "--spool",
    help="Directory that keeps unacknowledged events while the service is away (default: "
    "~/.cache/livecompanion/bridge/PLATFORM-STREAM). Bounded to 512 MB.",
)
ROOM = typer.Option(
    None,
    "--room-guard",
    help="Keep only messages of this room id (default: the room connected to, else the first room a "
    "message names); 'off' keeps every room.",
)
DRAIN = typer.Option(30.0, "--drain-timeout", help="Seconds to wait for acknowledgements when stopping.")
RATE = typer.Option(None, "--rate", help="With --from: replay at most this many messages a second.")


def _spool_dir(spool: Path | None, platform: str, stream: str) -> Path:
    if spool is not None:
        return spool
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "livecompanion" / "bridge" / f"{platform}-{stream}".replace("/", "_")


def _run(
    platform: str,
    *,
    label: str,
    stream: str | None,
    url: str | None,
    token: str | None,
    record: Path | None,
    from_file: Path | None,
    print_only: bool,
    spool: Path | None,
    room: str | None,
    drain: float,
    rate: float | None = None,
    live: Callable[[IO[str]], AsyncIterator[Any]] | None,
    library: Callable[[], str] = lambda: "",
) -> None:
    """The shared body of every platform command."""
    if print_only:
        if from_file is None:
            raise typer.BadParameter("--print needs --from FILE", param_hint="--print")
        with _open_input(from_file) as lines:
            raise typer.Exit(print_recording(platform, lines, sys.stdout, sys.stderr, room))
    if not stream:
        raise typer.BadParameter("which stream? give --stream ID (the live script's id)", param_hint="--stream")
    if from_file is None and live is None:
        raise typer.BadParameter(f"{platform} has no live connection here: give --from FILE", param_hint="--from")
    if from_file is not None:
        source: AsyncIterator[Any] = read_recording(from_file, sys.stderr, rate)
    else:
        assert live is not None
        source = live(sys.stderr)
    try:
        version = library() if from_file is None else f"recording {from_file.name}"
    except Exception:  # noqa: BLE001 - a version we cannot tell is not a reason to stop
        version = ""
    recording = record.open("ab") if record is not None else None
    backlog = Backlog(directory=_spool_dir(spool, platform, stream))
    pusher = Pusher(
        url=url or "http://127.0.0.1:8000",
        stream=stream,
        token=token,
        backlog=backlog,
        source={"platform": platform, "room": room or label, "library": version},
    )
    runner = Runner(platform, source, pusher, label, room=room, record=recording, drain_s=drain)
    try:
        code = asyncio.run(runner.run())
    finally:
        if recording is not None:
            recording.close()
    raise typer.Exit(code)


def _open_input(path: Path) -> IO[bytes]:
    if str(path) == "-":
        return os.fdopen(os.dup(sys.stdin.fileno()), "rb")
    try:
        return path.open("rb")
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="--from") from None


@bridge_app.command()
def twitch(
    channel: str | None = typer.Option(None, "--channel", help="The channel's login name, e.g. shop_tv."),
    twitch_token: str | None = typer.Option(
        None,
        "--twitch-token",
        envvar="TWITCH_USER_TOKEN",
        help="A Twitch user access token (scope user:read:chat; moderator:read:followers for follows): "
        "use EventSub instead of anonymous IRC.",
    ),
    irc_url: str = typer.Option(
        "wss://irc-ws.chat.twitch.tv:443", "--irc-url", help="IRC server: wss://, ws://, ircs:// or irc://."
    ),
    eventsub_url: str = typer.Option(
        TWITCH_EVENTSUB, "--eventsub-url", help="EventSub WebSocket (for testing against a local server, or a proxy)."
    ),
    helix_url: str = typer.Option(TWITCH_HELIX, "--helix-url", help="Helix API base (for testing, or a proxy)."),
    twitch_auth_url: str = typer.Option(
        TWITCH_AUTH, "--twitch-auth-url", help="Twitch OAuth base, for /validate (for testing, or a proxy)."
    ),
    stream: str | None = STREAM,
    url: str | None = URL,
    token: str | None = TOKEN,
    record: Path | None = RECORD,
    from_file: Path | None = FROM,
    print_only: bool = PRINT,
    spool: Path | None = SPOOL,
    room: str | None = ROOM,
    drain: float = DRAIN,
    rate: float | None = RATE,
) -> None:
    """Twitch chat: anonymous IRC with IRCv3 tags, or EventSub (chat, follows) with --twitch-token."""
    from livecompanion.bridge.sources.twitch_eventsub import eventsub_messages
    from livecompanion.bridge.sources.twitch_irc import irc_lines

    def eventsub(err: IO[str], name: str, secret: str) -> AsyncIterator[Any]:
        return eventsub_messages(name, secret, err, eventsub_url, helix_url, twitch_auth_url)

    live = None
    if channel:
        name = channel.lstrip("#").lower()
        if twitch_token:
            live = lambda err: reconnecting(lambda: eventsub(err, name, twitch_token), err, "twitch")  # noqa: E731
        else:
            live = lambda err: reconnecting(lambda: irc_lines(irc_url, name), err, "twitch")  # noqa: E731
            room = room or f"#{name}"
    elif from_file is None:
        raise typer.BadParameter("which channel? give --channel NAME", param_hint="--channel")
    library = "Twitch EventSub (WebSocket)" if twitch_token else f"Twitch IRC ({irc_url})"
    _run("twitch", label=f"twitch #{channel}" if channel else "twitch", stream=stream, url=url, token=token,
         record=record, from_file=from_file, print_only=print_only, spool=spool, room=room, drain=drain, rate=rate,
         live=live, library=lambda: library)  # fmt: skip


@bridge_app.command()
def douyin(
    stdin: bool = typer.Option(False, "--stdin", help="Read decoded messages, one JSON a line, from standard input."),
    listen: str | None = typer.Option(
        None, "--listen", help="HOST:PORT of a local WebSocket endpoint a fetcher pushes decoded messages to."
    ),
    stream: str | None = STREAM,
    url: str | None = URL,
    token: str | None = TOKEN,
    record: Path | None = RECORD,
    from_file: Path | None = FROM,
    print_only: bool = PRINT,
    spool: Path | None = SPOOL,
    room: str | None = ROOM,
    drain: float = DRAIN,
    rate: float | None = RATE,
) -> None:
    """Douyin: decoded Webcast messages from any open-source fetcher (stdin or a local WebSocket)."""
    from livecompanion.bridge.sources.douyin import listen_messages, stdin_messages

    live = None
    if listen:
        host, _, port = listen.rpartition(":")
        if not port.isdigit():
            raise typer.BadParameter("expected HOST:PORT, e.g. 127.0.0.1:8765", param_hint="--listen")
        live = lambda err: listen_messages(host or "127.0.0.1", int(port), err)  # noqa: E731
    elif stdin:
        live = lambda err: stdin_messages(err)  # noqa: E731
    elif from_file is None:
        raise typer.BadParameter("give --stdin, --listen HOST:PORT or --from FILE", param_hint="--stdin")
    _run("douyin", label="douyin", stream=stream, url=url, token=token, record=record, from_file=from_file,
         print_only=print_only, spool=spool, room=room, drain=drain, rate=rate, live=live,
         library=lambda: "decoded messages (" + ("stdin" if stdin else f"ws://{listen}") + ")")  # fmt: skip


@bridge_app.command()
def bilibili(
    room_id: int | None = typer.Option(None, "--room", help="The live room number (live.bilibili.com/NNN)."),
    cookie: str | None = typer.Option(
        None, "--cookie", envvar="BILIBILI_COOKIE", help="Login cookie: SESSDATA=...; bili_jct=...; buvid3=..."
    ),
    cookie_file: Path | None = typer.Option(None, "--cookie-file", help="Read the login cookie from this file."),
    stream: str | None = STREAM,
    url: str | None = URL,
    token: str | None = TOKEN,
    record: Path | None = RECORD,
    from_file: Path | None = FROM,
    print_only: bool = PRINT,
    spool: Path | None = SPOOL,
    room: str | None = ROOM,
    drain: float = DRAIN,
    rate: float | None = RATE,
) -> None:
    """bilibili live danmaku (bilibili-api-python). Without a login cookie names are masked and uids are 0."""
    from livecompanion.bridge.sources.bilibili import bilibili_messages, library_version

    live = None
    if room_id:
        secret = cookie_file.read_text("utf-8").strip() if cookie_file else cookie
        if not secret:
            print("bilibili: no login cookie: bilibili masks names and sends uid 0 to connections that are "
                  "not logged in, so most messages cannot be counted; give --cookie or --cookie-file",
                  file=sys.stderr)  # fmt: skip
        live = lambda err: reconnecting(lambda: bilibili_messages(room_id, secret), err, "bilibili")  # noqa: E731
    elif from_file is None:
        raise typer.BadParameter("which room? give --room NUMBER", param_hint="--room")
    _run("bilibili", label=f"bilibili {room_id}" if room_id else "bilibili", stream=stream, url=url, token=token,
         record=record, from_file=from_file, print_only=print_only, spool=spool, room=room, drain=drain, rate=rate,
         live=live, library=library_version)  # fmt: skip


@bridge_app.command()
def youtube(
    video: str | None = typer.Option(None, "--video", help="The live video's id (youtube.com/watch?v=ID)."),
    api_key: str | None = typer.Option(
        None, "--api-key", envvar="YOUTUBE_API_KEY", help="A Data API v3 key; without one, pytchat-ng is used."
    ),
    api_url: str = typer.Option(
        YOUTUBE_API, "--api-url", help="Data API base (for testing against a local server, or a proxy)."
    ),
    stream: str | None = STREAM,
    url: str | None = URL,
    token: str | None = TOKEN,
    record: Path | None = RECORD,
    from_file: Path | None = FROM,
    print_only: bool = PRINT,
    spool: Path | None = SPOOL,
    room: str | None = ROOM,
    drain: float = DRAIN,
    rate: float | None = RATE,
) -> None:
    """YouTube live chat: the Data API with --api-key, else pytchat-ng (no key)."""
    from livecompanion.bridge.sources.youtube import data_api_messages, library_version, pytchat_messages

    live = None
    if video:
        if api_key:
            live = lambda err: reconnecting(lambda: data_api_messages(video, api_key, api_url), err, "youtube")  # noqa: E731
        else:
            live = lambda err: reconnecting(lambda: pytchat_messages(video), err, "youtube")  # noqa: E731
    elif from_file is None:
        raise typer.BadParameter("which video? give --video ID", param_hint="--video")
    _run("youtube", label=f"youtube {video}" if video else "youtube", stream=stream, url=url, token=token,
         record=record, from_file=from_file, print_only=print_only, spool=spool, room=room, drain=drain, rate=rate,
         live=live, library=lambda: library_version(api_key))  # fmt: skip


@bridge_app.command()
def tiktok(
    user: str | None = typer.Option(None, "--user", help="The streamer's @username."),
    sign_api_key: str | None = typer.Option(
        None, "--sign-api-key", envvar="SIGN_API_KEY", help="Euler Stream signing key (higher rate limits)."
    ),
    stream: str | None = STREAM,
    url: str | None = URL,
    token: str | None = TOKEN,
    record: Path | None = RECORD,
    from_file: Path | None = FROM,
    print_only: bool = PRINT,
    spool: Path | None = SPOOL,
    room: str | None = ROOM,
    drain: float = DRAIN,
    rate: float | None = RATE,
) -> None:
    """TikTok LIVE through TikTokLive (the tiktok extra); the room must be live."""
    from livecompanion.bridge.sources.tiktok import library_version, tiktok_messages

    live = None
    if user:
        name = user.lstrip("@")
        live = lambda err: reconnecting(lambda: tiktok_messages(name, sign_api_key), err, "tiktok")  # noqa: E731
    elif from_file is None:
        raise typer.BadParameter("whose room? give --user NAME", param_hint="--user")
    _run("tiktok", label=f"tiktok @{user}" if user else "tiktok", stream=stream, url=url, token=token,
         record=record, from_file=from_file, print_only=print_only, spool=spool, room=room, drain=drain, rate=rate,
         live=live, library=library_version)  # fmt: skip


@bridge_app.command()
def shopify(
    stream: str | None = STREAM,
    url: str | None = URL,
    token: str | None = TOKEN,
    record: Path | None = RECORD,
    from_file: Path | None = FROM,
    print_only: bool = PRINT,
    spool: Path | None = SPOOL,
    drain: float = DRAIN,
    rate: float | None = RATE,
) -> None:
    """Shopify order webhooks: replay recorded ones with --from (live orders arrive at the service's
    webhook endpoint, POST /api/streams/ID/webhooks/shopify; see docs/bridges.md)."""
    _run("shopify", label="shopify", stream=stream, url=url, token=token, record=record, from_file=from_file,
         print_only=print_only, spool=spool, room=None, drain=drain, rate=rate, live=None)  # fmt: skip
