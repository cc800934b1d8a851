"""The domains' one error vocabulary; `api/errors.py` maps it to HTTP in one handler.

Domain code raises these and nothing HTTP-shaped; a router never catches them to build a response.
Anything else that escapes (a `KeyError` bug, a `ValueError` from a bad stored row) is a 500 with a
log line, never a 404 or a 422 that blames the caller.

    Unauthorized("...") / Forbidden("...")                 401 (+ WWW-Authenticate) / 403 {"detail": ...}
    NotFound("no stream 'x'")                              404 {"detail": ...}
    Conflict("sold_out", "...", remaining=0)               409 {"detail": code, "message": ..., **extra}
    Gone("ended", "...")                                   410 {"detail": code, "message": ...}
    Invalid("...", loc=("body", "qty"))                    422 {"detail": [{"loc", "msg", "type"}]}
    TooLarge("...")                                        413 {"detail": ...}
    Unsupported("...")                                     501 {"detail": ...}
    Unavailable("...", retry_after=1)                      503 {"detail": ...} + Retry-After

`Conflict` and `Gone` put their machine-readable code in `detail` (contract section 5: "409
`sold_out`", "409 `ended`"), the sentence for people in `message` (left out when there is none).
`Invalid` answers in FastAPI's own 422 shape so that /docs describes every 422 alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    """Base of every error a domain raises on purpose; `status` is its HTTP form."""

    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"detail": self.message}

    def headers(self) -> dict[str, str] | None:
        return None


class Unauthorized(DomainError):
    """No token, or a token of no role."""

    status = 401

    def headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(DomainError):
    """A token of a role that may not do this."""

    status = 403


class NotFound(DomainError, LookupError):
    """The thing named does not exist (a stream, a sale, a lottery). A `LookupError` too, so that
    callers written against the built-in keep working; only `NotFound` itself answers 404."""

    status = 404


class Conflict(DomainError):
    """The request is well formed but the state refuses it; `code` says why, for machines."""

    status = 409

    def __init__(self, code: str, message: str | None = None, **extra: Any) -> None:
        super().__init__(message or code)
        self.code = code
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"detail": self.code, **self.extra}
        if self.message != self.code:
            body["message"] = self.message
        return body


class Gone(Conflict):
    """The thing existed and is over (an ended flash sale)."""

    status = 410


class Invalid(DomainError, ValueError):
    """The caller sent something the domain refuses; `loc` points at it (FastAPI's 422 shape).
    A `ValueError` too, for pure code that validates; only `Invalid` itself answers 422."""

    status = 422

    def __init__(self, message: str, loc: Sequence[str | int] = ("body",), kind: str = "value_error") -> None:
        super().__init__(message)
        self.loc = tuple(loc)
        self.kind = kind

    def body(self) -> dict[str, Any]:
        return {"detail": [{"loc": list(self.loc), "msg": self.message, "type": self.kind}]}


class TooLarge(DomainError):
    """A request or message over the limits."""

    status = 413


class Unsupported(DomainError):
    """This service cannot do that at all (a feature not installed or not configured)."""

    status = 501


class Unavailable(DomainError):
    """A backend the call needs is unreachable or saturated; nothing was changed: retry later."""

    status = 503

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}
