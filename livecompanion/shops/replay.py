"""`livecompanion bridge SHOP --from FILE --print` for shops: recorded pushes -> NDJSON events.

Reads the file line by line (recorded.py says what a line is), prints each event as one NDJSON
line on stdout, and one line on stderr per line it cannot use (`FILE:LINE: SHOP: REASON`). With
`--script`, product ids are resolved to the script's skus through its `shop_ids`. Exit status:
0 when the file was read, 2 when it (or the script) cannot be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import orjson

from livecompanion.shops.common import ShopCatalog, ShopMessageError
from livecompanion.shops.recorded import MAPPERS, map_recorded


def print_recorded(shop: str, source: Path, script: Path | None, out: TextIO, err: TextIO) -> int:
    if shop not in MAPPERS:
        err.write(f"{shop}: not a shop (shops: {', '.join(MAPPERS)})\n")
        return 2
    catalog = ShopCatalog()
    if script is not None:
        from livecompanion.scripts import check_file

        loaded = check_file(script)
        if loaded.script is None:
            err.writelines(finding.format() + "\n" for finding in loaded.findings)
            return 2
        catalog = ShopCatalog.from_products(loaded.script.products)
    try:
        handle = source.open("rb")
    except OSError as exc:
        err.write(f"{source}: cannot read ({exc.strerror})\n")
        return 2
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                events = map_recorded(shop, line, catalog)
            except ShopMessageError as exc:
                err.write(f"{source}:{number}: {shop}: {exc}\n")
                continue
            if not events:
                err.write(f"{source}:{number}: {shop}: a message of a kind that carries no order state\n")
            out.writelines(orjson.dumps(event).decode() + "\n" for event in events)
    return 0
