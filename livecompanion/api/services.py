"""What every request handler may reach: settings, the record, the hub. Built once at start."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from livecompanion.config import Settings
from livecompanion.storage.db import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    hub: Any  # livecompanion.realtime.Hub
    tokens: dict[str, str]  # role -> token
    extras: dict[str, Any] = field(default_factory=dict)  # per-domain singletons (ingest writer, ...)

    def urls(self, stream_id: str) -> dict[str, str]:
        base = self.settings.public_url or f"http://{self.settings.host}:{self.settings.port}"
        viewer, operator = self.tokens["viewer"], self.tokens["operator"]
        return {
            "console": f"{base}/streams/{stream_id}/console?token={operator}",
            "teleprompter": f"{base}/streams/{stream_id}/teleprompter?token={viewer}",
            "overlay": f"{base}/streams/{stream_id}/overlay?token={viewer}",
            "dashboard": f"{base}/streams/{stream_id}/dashboard?token={viewer}",
            "remote": f"{base}/streams/{stream_id}/remote?token={operator}",
        }
