"""Dependencies shared by the routers: services and role tokens (contract section 5).

Roles: operator (everything), ingest (events and claims), viewer (read-only pages and sockets).
A token comes as `Authorization: Bearer TOKEN` or `?token=` for browser sources.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping

from fastapi import Depends, Request, WebSocket, status

from livecompanion.core import ROLES, Role
from livecompanion.errors import Forbidden, Unauthorized
from livecompanion.wiring import Services

__all__ = ["Role", "allowed", "authorize", "authorize_ws", "get_services", "require", "role_of", "services_of",
           "token_of"]


def services_of(app_state: object) -> Services:
    services: Services = app_state.services  # type: ignore[attr-defined]  # set by the lifespan
    return services


async def get_services(request: Request) -> Services:
    # async: a plain def would run in a worker thread on every request
    return services_of(request.app.state)


def token_of(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The token of a request: `Authorization: Bearer TOKEN`, else `?token=`."""
    auth = headers.get("authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return query.get("token")


def role_of(token: str | None, tokens: Mapping[Role, str]) -> Role | None:
    if not token:
        return None
    for role in ROLES:
        if secrets.compare_digest(token.encode(), tokens[role].encode()):
            return role
    return None


def allowed(have: Role | None, need: Role) -> bool:
    return have == "operator" or have == need


def authorize(request: Request, tokens: Mapping[Role, str], need: Role) -> Role:
    """The caller's role if it may act as `need`; `Unauthorized` or `Forbidden` otherwise."""
    have = role_of(token_of(request.headers, request.query_params), tokens)
    if have is None:
        raise Unauthorized("a token is required: Authorization: Bearer TOKEN or ?token=")
    if not allowed(have, need):
        raise Forbidden(f"this needs the {need} token")
    return have


def require(role: Role) -> Callable[..., Awaitable[Role]]:
    async def dependency(request: Request, services: Services = Depends(get_services)) -> Role:
        return authorize(request, services.tokens, role)

    return dependency


async def authorize_ws(websocket: WebSocket, role: Role) -> bool:
    """Check a socket's token before accepting it; close with 1008 (policy violation) if it fails."""
    services = services_of(websocket.app.state)
    have = role_of(token_of(websocket.headers, websocket.query_params), services.tokens)
    if not allowed(have, role):
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=f"this needs the {role} token")
        return False
    return True
