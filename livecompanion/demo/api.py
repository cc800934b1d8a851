"""The demo's way into a stream of the service: its public HTTP API, with the operator or ingest token.

An endpoint the service does not have (404 on the route, 405, 501) is reported once and from then on
skipped, so the demo still runs on a service that lacks a feature.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import httpx
import orjson

Say = Callable[[str], None]
Role = Literal["operator", "ingest"]


class StreamApi:
    def __init__(self, client: httpx.AsyncClient, stream_id: str, tokens: dict[str, str], say: Say) -> None:
        self.client = client
        self.base = f"/api/streams/{stream_id}"
        self.headers = {role: {"Authorization": f"Bearer {tokens[role]}"} for role in ("operator", "ingest")}
        self.say = say
        self.missing: set[str] = set()  # routes the service does not have (reported once)

    async def call(self, method: str, path: str, body: Any, what: str, role: Role = "operator",
                   route: str | None = None) -> httpx.Response | None:
        """One request under the stream; None when the service lacks the route. `route` names what is
        skipped from then on, by default the first part of the path."""
        route = route or ("claims" if path.endswith("/claims") else path.split("/")[1])
        if route in self.missing:
            return None
        content = orjson.dumps(body) if body is not None else None
        headers = self.headers[role]
        response = await self.client.request(
            method, self.base + path, content=content,
            headers={**headers, "Content-Type": "application/json"} if content else headers,
        )
        if _missing(response):
            self.missing.add(route)
            self.say(f"    ! the service has no {method} {self.base}{path} ({response.status_code}):"
                     f" the demo skips {what} from now on")
            return None
        if response.status_code >= 400 and response.status_code not in (409, 410):  # refusals are answers
            self.say(f"    ! {what}: {response.status_code} {response.text[:200]}")
        return response


def _missing(response: httpx.Response) -> bool:
    """The route is not there (as opposed to a stream or sale that is not found, which says so)."""
    if response.status_code in (405, 501):
        return True
    if response.status_code != 404:
        return False
    try:
        detail = response.json().get("detail")
    except ValueError:
        return True
    return detail in (None, "Not Found")
