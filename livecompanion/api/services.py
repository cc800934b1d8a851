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
        return stream_urls(self.settings, self.tokens, stream_id)

    def share_urls(self, stream_id: str) -> dict[str, str]:
        """The links to hand out (OBS, tablet, phone, dashboard): never the operator token."""
        urls = stream_urls(self.settings, self.tokens, stream_id)
        urls.pop("console")
        return urls


def stream_urls(settings: Settings, tokens: dict[str, str | None], stream_id: str) -> dict[str, str]:
    """The pages of a stream, each with the token its user needs: only the console's link carries the
    operator token; the phone remote gets a token that drives this stream's teleprompter only."""
    from livecompanion.api.deps import remote_token

    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    viewer, operator = tokens["viewer"], tokens["operator"]
    remote = remote_token({"operator": operator or ""}, stream_id)
    return {
        "console": f"{base}/streams/{stream_id}/console?token={operator}",
        "teleprompter": f"{base}/streams/{stream_id}/teleprompter?token={viewer}",
        "overlay": f"{base}/streams/{stream_id}/overlay?token={viewer}",
        "dashboard": f"{base}/streams/{stream_id}/dashboard?token={viewer}",
        "remote": f"{base}/streams/{stream_id}/remote?token={remote}",
    }
