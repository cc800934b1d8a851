"""The domains' errors (`livecompanion.errors`) in their HTTP form: one handler for all of them.

Anything else a handler lets escape is a bug, answered 500 by Starlette and logged with its
traceback: a `KeyError` is never a 404, a `ValueError` from a bad stored row never a 422.
"""

from __future__ import annotations

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.requests import ClientDisconnect

from livecompanion.errors import DomainError


def response_of(exc: DomainError) -> Response:
    return Response(orjson.dumps(exc.body()), status_code=exc.status, media_type="application/json",
                    headers=exc.headers())


def client_gone() -> Response:
    """The sender hung up mid-body (a bridge restarting, Ctrl-C): nothing was accepted, nothing to log."""
    return Response(status_code=400)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> Response:
        return response_of(exc)

    @app.exception_handler(ClientDisconnect)
    async def disconnected(_: Request, __: ClientDisconnect) -> Response:
        return client_gone()
