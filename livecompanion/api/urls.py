"""The pages of a stream, each with the token its user needs (printed at start, shown on `/`)."""

from __future__ import annotations

from livecompanion.config import Settings


def stream_urls(settings: Settings, stream_id: str) -> dict[str, str]:
    """The pages of a stream, each with the token (of `settings`) its user needs."""
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    viewer, operator = settings.viewer_token, settings.operator_token
    return {
        "console": f"{base}/streams/{stream_id}/console?token={operator}",
        "teleprompter": f"{base}/streams/{stream_id}/teleprompter?token={viewer}",
        "overlay": f"{base}/streams/{stream_id}/overlay?token={viewer}",
        "dashboard": f"{base}/streams/{stream_id}/dashboard?token={viewer}",
        "remote": f"{base}/streams/{stream_id}/remote?token={operator}",
    }
