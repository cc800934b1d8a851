"""`livecompanion bridge SHOP --from FILE --print`: recorded shop pushes as the events they map to.

Shops push to the service themselves (`POST /api/streams/{id}/webhooks/{shop}`), so a shop's bridge
only replays recordings; one command per shop sits beside the platforms' in `bridge`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import typer

from livecompanion.shops.replay import MAPPERS, print_recorded


def register(bridge_app: typer.Typer) -> None:
    for shop in MAPPERS:
        bridge_app.command(name=shop, help=f"{shop}: recorded pushes -> events with --from FILE --print "
                                           "(live pushes go to the service's webhook; docs/bridges.md, Shops).")(
            _command(shop))


def _command(shop: str) -> Callable[..., None]:
    def replay(
        source: Path = typer.Option(..., "--from", help="Recorded pushes, one a line (docs/bridges.md)."),
        print_events: bool = typer.Option(False, "--print", help="Print the events as NDJSON."),
        script: Path | None = typer.Option(None, "--script", help="Map shop product ids through its shop_ids."),
    ) -> None:
        if not print_events:
            print(f"{shop} pushes to the service itself (docs/bridges.md, Shops); use --print", file=sys.stderr)
            raise typer.Exit(2)
        raise typer.Exit(print_recorded(shop, source, script, sys.stdout, sys.stderr))

    return replay
