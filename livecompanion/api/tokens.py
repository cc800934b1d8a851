"""A socket's token in its `Sec-WebSocket-Protocol` header, so that pages keep it out of URLs.

A browser cannot set `Authorization` on a WebSocket, and `?token=` in the socket's URL is written to
access logs (ours redact it; a proxy's may not). So the pages (web/static/live.js) offer two
subprotocols: `livecompanion` and `bearer.<the token, base64url without padding>`; the server
takes the token from the second and answers with the first (a browser drops a socket whose server
picks none of the offered protocols). `Authorization: Bearer` and `?token=` (OBS, scripts, older
pages) work as before; the contract's two ways are unchanged, this is a third for browsers.
"""

from __future__ import annotations

import base64
import binascii

PROTOCOL = "livecompanion"
BEARER_PREFIX = "bearer."


def token_of_subprotocols(header: str | None) -> str | None:
    """The token carried in a `Sec-WebSocket-Protocol` header value, if any."""
    if not header or BEARER_PREFIX not in header:
        return None
    for item in header.split(","):
        item = item.strip()
        if item.startswith(BEARER_PREFIX):
            encoded = item[len(BEARER_PREFIX):]
            try:
                return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
            except (binascii.Error, ValueError):
                return None
    return None


def chosen_subprotocol(offered: list[str] | None) -> str | None:
    """The subprotocol to answer with: ours when the client offered it (never the token's)."""
    return PROTOCOL if offered and PROTOCOL in offered else None
