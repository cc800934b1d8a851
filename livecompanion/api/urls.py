"""The pages of a stream, each with the token its user needs (printed at start, shown on `/`).

Only the console's link carries the operator token. The teleprompter, overlay and dashboard carry
the read-only viewer token (safe in an OBS scene file); the phone remote a token of its own that
only drives that stream's teleprompter (`deps.remote_token`).
"""

from __future__ import annotations

from livecompanion.config import Settings


def stream_urls(settings: Settings, stream_id: str) -> dict[str, str]:
    """The pages of a stream, each with the token (of `settings`) its user needs."""
    from livecompanion.api.deps import remote_token

    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    viewer, operator = settings.viewer_token, settings.operator_token
    remote = remote_token({"operator": operator or "", "ingest": "", "viewer": ""}, stream_id)
    return {
        "console": f"{base}/streams/{stream_id}/console?token={operator}",
        "teleprompter": f"{base}/streams/{stream_id}/teleprompter?token={viewer}",
        "overlay": f"{base}/streams/{stream_id}/overlay?token={viewer}",
        "dashboard": f"{base}/streams/{stream_id}/dashboard?token={viewer}",
        "remote": f"{base}/streams/{stream_id}/remote?token={remote}",
    }


def share_urls(settings: Settings, stream_id: str) -> dict[str, str]:
    """The links to hand out (OBS, tablet, phone, dashboard): every page but the console's."""
    urls = stream_urls(settings, stream_id)
    urls.pop("console")
    return urls
