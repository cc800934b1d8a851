"""Dependencies shared by the routers: services and role tokens (contract section 5).

Roles: operator (everything), ingest (events and claims), viewer (read-only pages and sockets).
A token comes as `Authorization: Bearer TOKEN` or `?token=` for browser sources.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Callable, Literal

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


def remote_token(tokens: dict[str, str], stream_id: str) -> str:
    """The phone remote's token for one stream: it drives that stream's teleprompters (and ▶ next)
    and reads its screens, nothing else. Derived from the operator token, so nothing is stored and
    a new operator token retires every remote link."""
    digest = hmac.new(tokens["operator"].encode(), b"remote:" + stream_id.encode(), hashlib.sha256)
    return "r" + digest.hexdigest()[:31]


def is_remote(token: str | None, tokens: dict[str, str], stream_id: str | None) -> bool:
    if not token or not stream_id or not token.startswith("r"):
        return False
    return secrets.compare_digest(token.encode(), remote_token(tokens, stream_id).encode())


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


def require_remote() -> Callable[..., str]:
    """The operator, or the phone remote of the stream named in the path."""
    async def dependency(request: Request, services: Services = Depends(get_services)) -> str:
        token = _token(request.headers, request.query_params)
        if role_of(token, services.tokens) == "operator":
            return "operator"
        if is_remote(token, services.tokens, request.path_params.get("stream_id")):
            return "remote"
        if not token:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                                "a token is required: Authorization: Bearer TOKEN or ?token=",
                                headers={"WWW-Authenticate": "Bearer"})
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this needs the operator token or this stream's remote token")

    return dependency


async def authorize_ws(websocket: WebSocket, role: Role) -> bool:
    """Check a socket's token before accepting it; close with 1008 (policy violation) if it fails."""
    services: Services = websocket.app.state.services
    token = _token(websocket.headers, websocket.query_params)
    have = role_of(token, services.tokens)
    if role == "viewer" and have is None and is_remote(token, services.tokens,
                                                        websocket.path_params.get("stream_id")):
        return True  # the phone remote reads its stream's screens
    if not allowed(have, role):
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=f"this needs the {role} token")
        return False
    return True
