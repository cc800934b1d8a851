"""Domain errors and their HTTP form, so routers can stay one line per call."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect

from livecompanion.errors import DomainError


def install(app: FastAPI) -> None:
    @app.exception_handler(LookupError)
    async def not_found(_: Request, exc: LookupError) -> JSONResponse:
        message = exc.args[0] if exc.args else "not found"
        return JSONResponse({"detail": message}, status_code=404)

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers())

    @app.exception_handler(ClientDisconnect)
    async def client_gone(_: Request, __: ClientDisconnect) -> Response:
        # The sender hung up mid-body (a bridge restarting, Ctrl-C): nothing was accepted, nothing to log.
        return Response(status_code=400)
