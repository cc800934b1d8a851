"""Dependencies shared by the routers: services and role tokens (contract section 5).

Roles: operator (everything), ingest (events and claims), viewer (read-only pages and sockets).
A token comes as `Authorization: Bearer TOKEN` or `?token=` for browser sources.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Mapping

from fastapi import Depends, Request, WebSocket, status

from livecompanion.api.tokens import chosen_subprotocol, token_of_subprotocols
from livecompanion.core import ROLES, Role
from livecompanion.errors import Forbidden, Unauthorized
from livecompanion.wiring import Services

__all__ = ["Role", "accept_ws", "allowed", "authorize", "authorize_ws", "get_services", "is_remote", "remote_token",
           "require", "require_remote", "role_of", "services_of", "token_of"]


def services_of(app_state: object) -> Services:
    services: Services = app_state.services  # type: ignore[attr-defined]  # set by the lifespan
    return services


async def get_services(request: Request) -> Services:
    # async: a plain def would run in a worker thread on every request
    return services_of(request.app.state)


def token_of(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The token of a request: `Authorization: Bearer TOKEN`, else (a socket's handshake) the
    `bearer.` subprotocol (api/tokens.py), else `?token=`."""
    auth = headers.get("authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return token_of_subprotocols(headers.get("sec-websocket-protocol")) or query.get("token")


def role_of(token: str | None, tokens: Mapping[Role, str]) -> Role | None:
    if not token:
        return None
    for role in ROLES:
        if secrets.compare_digest(token.encode(), tokens[role].encode()):
            return role
    return None


def remote_token(tokens: Mapping[Role, str], stream_id: str) -> str:
    """The phone remote's token for one stream: it drives that stream's teleprompters (and ▶ next)
    and reads its screens, nothing else. Derived from the operator token, so nothing is stored and
    a new operator token retires every remote link."""
    digest = hmac.new(tokens["operator"].encode(), b"remote:" + stream_id.encode(), hashlib.sha256)
    return "r" + digest.hexdigest()[:31]


def is_remote(token: str | None, tokens: Mapping[Role, str], stream_id: str | None) -> bool:
    if not token or not stream_id or not token.startswith("r"):
        return False
    return secrets.compare_digest(token.encode(), remote_token(tokens, stream_id).encode())


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


def require_remote() -> Callable[..., Awaitable[str]]:
    """The operator, or the phone remote of the stream named in the path."""
    async def dependency(request: Request, services: Services = Depends(get_services)) -> str:
        token = token_of(request.headers, request.query_params)
        if role_of(token, services.tokens) == "operator":
            return "operator"
        if is_remote(token, services.tokens, request.path_params.get("stream_id")):
            return "remote"
        if not token:
            raise Unauthorized("a token is required: Authorization: Bearer TOKEN or ?token=")
        raise Forbidden("this needs the operator token or this stream's remote token")

    return dependency


async def accept_ws(websocket: WebSocket) -> None:
    """Accept a socket, answering with our subprotocol when the page offered it (api/tokens.py)."""
    await websocket.accept(subprotocol=chosen_subprotocol(websocket.scope.get("subprotocols")))


async def authorize_ws(websocket: WebSocket, role: Role) -> bool:
    """Check a socket's token before accepting it; close with 1008 (policy violation) if it fails."""
    services = services_of(websocket.app.state)
    token = token_of(websocket.headers, websocket.query_params)
    have = role_of(token, services.tokens)
    if role == "viewer" and have is None and is_remote(token, services.tokens, websocket.path_params.get("stream_id")):
        return True  # the phone remote reads its stream's screens
    if not allowed(have, role):
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=f"this needs the {role} token")
        return False
    return True
