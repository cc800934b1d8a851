"""Dependencies shared by the routers: services and role tokens (contract section 5).

Roles: operator (everything), ingest (events and claims), viewer (read-only pages and sockets).
A token comes as `Authorization: Bearer TOKEN` or `?token=` for browser sources.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Literal

from fastapi import Depends, HTTPException, Request, WebSocket, status

from livecompanion.api.services import Services

Role = Literal["operator", "ingest", "viewer"]


async def get_services(request: Request) -> Services:
    # async: a plain def would run in a worker thread on every request
    return request.app.state.services


def _token(headers: object, query: object) -> str | None:
    auth = headers.get("authorization")  # type: ignore[attr-defined]
    if auth and auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return query.get("token")  # type: ignore[attr-defined]


def role_of(token: str | None, tokens: dict[str, str]) -> Role | None:
    if not token:
        return None
    for role in ("operator", "ingest", "viewer"):
        if secrets.compare_digest(token.encode(), tokens[role].encode()):
            return role  # type: ignore[return-value]
    return None


def allowed(have: Role | None, need: Role) -> bool:
    return have == "operator" or have == need


def require(role: Role) -> Callable[..., Role]:
    async def dependency(request: Request, services: Services = Depends(get_services)) -> Role:
        have = role_of(_token(request.headers, request.query_params), services.tokens)
        if have is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "a token is required: Authorization: Bearer TOKEN or ?token=",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not allowed(have, role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the {role} token")
        return have

    return dependency


async def authorize_ws(websocket: WebSocket, role: Role) -> bool:
    """Check a socket's token before accepting it; close with 1008 (policy violation) if it fails."""
    services: Services = websocket.app.state.services
    have = role_of(_token(websocket.headers, websocket.query_params), services.tokens)
    if not allowed(have, role):
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=f"this needs the {role} token")
        return False
    return True
