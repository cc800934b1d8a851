"""The seam through which other domains fill their sections when a document is rebuilt.

The live document is rebuilt from the record whenever the hub does not hold it (first use, after a
restart, on a fresh Redis). Sections that other packages own (flash_sales, lotteries, metrics,
questions, ticker, alerts) start empty unless their package registers a loader:

    from livecompanion.stream.sections import register_section_loader

    async def load_flash_sales(services, stream_id: str, now_ms: int) -> dict:
        ...  # read FlashSaleRow etc.
        return {sale_id: {...}}

    register_section_loader("flash_sales", load_flash_sales)

A loader returns the section's whole value (JSON-ready). A loader that raises is logged and its
section keeps the empty default, so one broken section never blanks every screen.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

SectionLoader = Callable[[Any, str, int], Awaitable[Any]]

# The show's own sections: built by this package, never by a loader.
OWN_SECTIONS = frozenset({"stream", "segment", "run_sheet", "products", "cues", "countdowns", "pinned",
                          "note", "prompter"})

_LOADERS: dict[str, SectionLoader] = {}


def register_section_loader(section: str, loader: SectionLoader) -> None:
    if section in OWN_SECTIONS:
        raise ValueError(f"section '{section}' is built by livecompanion.stream itself")
    _LOADERS[section] = loader


async def load_sections(services: Any, stream_id: str, now_ms: int) -> dict[str, Any]:
    """The other domains' sections as their loaders build them (failed loaders are left out)."""
    loaded: dict[str, Any] = {}
    for section, loader in list(_LOADERS.items()):
        try:
            loaded[section] = await loader(services, stream_id, now_ms)
        except Exception:
            log.exception("loading section '%s' of stream %s failed", section, stream_id)
    return loaded
