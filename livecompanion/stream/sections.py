"""The seam through which other domains fill their sections when a document is rebuilt.

The live document is rebuilt from the record whenever the hub does not hold it (first use, after a
restart, on a fresh Redis). Sections that other domains own (flash_sales, lotteries, metrics,
questions, ticker, alerts) start empty unless the composition root (`livecompanion/wiring.py`)
registered a loader for them on `Core.sections`:

    sections.register("flash_sales", sales.load_section)    # async (stream_id, now_ms) -> value

A loader returns the section's whole value (JSON-ready). A loader that raises is logged and its
section keeps the empty default, so one broken section never blanks every screen.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

SectionLoader = Callable[[str, int], Awaitable[Any]]

# The show's own sections: built by this package, never by a loader.
OWN_SECTIONS = frozenset({"stream", "segment", "run_sheet", "products", "cues", "countdowns", "pinned",
                          "note", "prompter"})


class SectionLoaders:
    """The loader of each section other domains own, as the composition root registered them."""

    def __init__(self) -> None:
        self._loaders: dict[str, SectionLoader] = {}

    def register(self, section: str, loader: SectionLoader) -> None:
        if section in OWN_SECTIONS:
            raise ValueError(f"section '{section}' is built by livecompanion.stream itself")
        self._loaders[section] = loader

    async def load(self, stream_id: str, now_ms: int) -> dict[str, Any]:
        """The other domains' sections as their loaders build them (failed loaders are left out)."""
        loaded: dict[str, Any] = {}
        for section, loader in list(self._loaders.items()):
            try:
                loaded[section] = await loader(stream_id, now_ms)
            except Exception:
                log.exception("loading section '%s' of stream %s failed", section, stream_id)
        return loaded
