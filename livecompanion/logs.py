"""Logs without secrets: tokens in URLs are redacted before any handler writes a line.

Screens authenticate with `?token=...` in their URLs (a browser cannot set a header on a WebSocket
or an OBS browser source), so every access log line of a page or a socket used to carry a token
(issue 13 item 8). `RedactTokens` rewrites `token=<value>` (and `Bearer <value>`) in a record's
message and arguments; `redacting_log_config()` is uvicorn's log configuration with the filter on
both of its handlers, so the access log and the error log (which logs WebSocket paths) are covered.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

import uvicorn.config

__all__ = ["RedactTokens", "redact", "redacting_log_config"]

_TOKEN = re.compile(r"((?:^|[?&;\s\"'])(?:token|access_token)=)[^&\s\"';#]+", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    if "oken" not in text and "earer" not in text:
        return text
    return _BEARER.sub(rf"\g<1>{REDACTED}", _TOKEN.sub(rf"\g<1>{REDACTED}", text))


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def redacting_log_config() -> dict[str, Any]:
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": "livecompanion.logs.RedactTokens"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_tokens")
    return config
