"""The `livecompanion` command (contract section 3)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from livecompanion.bridge.cli import bridge_app
from livecompanion.shops.cli import register as register_shop_bridges
from livecompanion.textcli import register as register_text_commands

if TYPE_CHECKING:
    from livecompanion.config import Settings

app = typer.Typer(
    help="LiveCompanion: live scripts, teleprompter, console, overlays, ingest, flash sales, reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
register_text_commands(app)  # lint, comments
register_shop_bridges(bridge_app)  # doudian, wechat_shop, youzan, generic: --from --print
app.add_typer(bridge_app, name="bridge")


class ReportFormat(str, Enum):
    json = "json"
    html = "html"
    csv = "csv"


def _settings(host: str | None, port: int | None) -> Settings:
    """Settings from the environment, with the command line's --host and --port over them.
    (`livecompanion.config` is imported where it is used: its pydantic settings take about a third
    of a bridge's start-up, and bridges and text commands never read them.)"""
    from livecompanion.config import Settings

    overrides: dict[str, Any] = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    return Settings(**overrides)


@app.command()
def serve(
    script: Path | None = typer.Option(None, "--script", help="A live script to load as a stream."),
    host: str | None = typer.Option(None, "--host", help="Address to listen on (default 127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", help="Port (default 8000)."),
    log_level: str = typer.Option("info", "--log-level"),
) -> None:
    """Run the service. With no configuration it keeps everything in a local SQLite file."""
    from livecompanion.server import serve as run

    raise typer.Exit(run(_settings(host, port), script, log_level))


@app.command()
def validate(files: list[Path] = typer.Argument(..., help="Live script files (YAML).")) -> None:
    """Check live scripts: exit 0 when every file is valid, 1 otherwise."""
    from livecompanion.scripts import check_file

    ok = True
    for path in files:
        result = check_file(path)
        for finding in result.findings:
            print(finding.format())
        ok = ok and result.ok
    raise typer.Exit(0 if ok else 1)


@app.command()
def report(
    events: Path = typer.Option(..., "--events", help="Event log: NDJSON (one event a line) or a JSON array."),
    script: Path | None = typer.Option(None, "--script", help="The stream's live script."),
    format: ReportFormat = typer.Option(ReportFormat.json, "--format"),
    output: Path | None = typer.Option(
        None, "-o", "--output",
        help="Write here instead of stdout (csv: writes OUT-minutes.csv and OUT-segments.csv).",
    ),
    history: list[Path] = typer.Option(
        [], "--history", help="Event log of an earlier stream to compare with (repeat for each).",
    ),
) -> None:
    """The after-stream report from an event log alone; no server needed."""
    from livecompanion.analytics.cli import run_report

    raise typer.Exit(run_report(events, script, format.value, output, history=history))


@app.command()
def demo(
    speed: float = typer.Option(
        20.0, "--speed", help="How much faster than real time the show runs (20: the 2-hour sample in 6 minutes)."
    ),
    room: int = typer.Option(600, "--room", help="Peak number of simulated viewers in the room."),
    host: str | None = typer.Option(None, "--host"),
    port: int | None = typer.Option(None, "--port"),
    seed: int = typer.Option(7, "--seed", help="Seed of the simulated audience."),
    platform_like: bool = typer.Option(
        False, "--platform-like",
        help="Send what real platform feeds send: no leave events, online counts at irregular times "
             "(the report then counts presence by activity).",
    ),
) -> None:
    """Serve a sample script with a simulated audience, so a newcomer sees everything move."""
    from livecompanion.demo import run_demo

    raise typer.Exit(run_demo(_settings(host, port), speed=speed, seed=seed, room_size=room,
                              platform_like=platform_like))


class Via(str, Enum):
    http = "http"
    ws = "ws"


@app.command()
def rehearse(
    events: Path = typer.Option(..., "--events", help="The recorded stream: an event log (NDJSON or a JSON "
                                "array: an export of GET /api/streams/ID/events, a simulator log), or with "
                                "--platform a `bridge --record` file."),
    script: Path = typer.Option(..., "--script", help="The live script of the rehearsal's new stream."),
    speed: float = typer.Option(1.0, "--speed", help="N times faster than recorded (1: real time)."),
    url: str | None = typer.Option(None, "--url", help="A running service (default: serve one in this process)."),
    token: str | None = typer.Option(None, "--token", envvar="LIVECOMPANION_OPERATOR_TOKEN",
                                     help="With --url: the operator token (makes the stream, moves segments)."),
    ingest_token: str | None = typer.Option(None, "--ingest-token", help="Send the events with this token "
                                            "(default: --token)."),
    via: Via = typer.Option(Via.http, "--via", help="http: batches to POST .../events; ws: the ingest socket."),
    operator_moves: bool = typer.Option(False, "--operator-moves", help="Leave the segment changes to the "
                                        "operator's console instead of making the recorded ones."),
    keep_live: bool = typer.Option(False, "--keep-live", help="Leave the stream on air at the end of the log."),
    platform: str | None = typer.Option(None, "--platform", help="--events is a raw `bridge PLATFORM --record` "
                                        "file: map it as `bridge PLATFORM --from FILE --print` does."),
    port: int | None = typer.Option(None, "--port", help="Without --url: the port to serve on."),
    exit_when_done: bool = typer.Option(False, "--exit", help="Without --url: stop serving when done."),
) -> None:
    """Play a recorded stream into a new stream through the real ingest path, in real time or N
    times faster; its report then equals `livecompanion report` on the same log (exit 1 if not)."""
    from livecompanion.rehearsal.runner import run_rehearse

    raise typer.Exit(run_rehearse(events, script, speed=speed, url=url, token=token, ingest_token=ingest_token,
                                  via=via.value, operator_moves=operator_moves, keep_live=keep_live,
                                  platform=platform, port=port, exit_when_done=exit_when_done))


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Bring the database schema up to date (serve does this at start)."""
    from livecompanion.config import Settings
    from livecompanion.storage.migrate import upgrade

    settings = Settings()
    upgrade(settings.resolved_database_url(), revision)
    print(f"database at {revision}", file=sys.stderr)


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. base or -1.")) -> None:
    """Step the schema back (for rolling back a release)."""
    from livecompanion.config import Settings
    from livecompanion.storage.migrate import downgrade

    downgrade(Settings().resolved_database_url(), revision)
    print(f"database at {revision}", file=sys.stderr)


if __name__ == "__main__":
    app()
