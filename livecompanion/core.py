"""What every domain service is built on: the settings, the record, the hub, and two registries.

`Core` is the part of the composition root that the domains may hold. It knows nothing of any
domain: the composition root (`livecompanion/wiring.py`) builds it, builds the domain services on
it, and registers their cue runners, section loaders and show listeners on `cues`, `sections` and
`show_listeners`. The show's own functions (`stream/service.py`) take a `Core`; `Services`
(wiring.py) is a `Core` that also holds the domain services, so it can be passed wherever a `Core`
is wanted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from livecompanion.config import Settings
from livecompanion.realtime.hub import Hub
from livecompanion.storage.db import Database
from livecompanion.stream.cues import CueRunners
from livecompanion.stream.moves import ShowListeners
from livecompanion.stream.sections import SectionLoaders

Role = Literal["operator", "ingest", "viewer"]
ROLES: tuple[Role, ...] = ("operator", "ingest", "viewer")


@dataclass(eq=False, kw_only=True)
class Core:
    settings: Settings
    db: Database
    hub: Hub
    tokens: dict[Role, str]  # role -> its token
    cues: CueRunners = field(default_factory=CueRunners)
    sections: SectionLoaders = field(default_factory=SectionLoaders)
    show_listeners: ShowListeners = field(default_factory=ShowListeners)
