"""Settings from the environment (contract section 3), prefix LIVECOMPANION_."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def private_dir(path: Path) -> None:
    """`path` exists and only its owner may enter it (0700): it holds tokens, keys and the record."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(path, 0o700)
    except PermissionError:  # a directory of someone else's, chosen on purpose: leave its mode
        pass


def private_file(path: Path) -> None:
    """`path` exists and only its owner may read it (0600), whatever mode it had."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def default_data_dir() -> Path:
    return Path.cwd() / "data"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIVECOMPANION_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None  # unset: SQLite file in data_dir
    redis_url: str | None = None  # unset: one process, in-memory fan-out
    redis_prefix: str = "livecompanion:"  # keys of this deployment (several can share one Redis)
    operator_token: str | None = None  # unset: generated at start, printed in the URLs
    ingest_token: str | None = None
    viewer_token: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None  # how screens reach us (for printed URLs), e.g. http://192.168.1.5:8000
    shopify_secret: str | None = None  # verifies X-Shopify-Hmac-Sha256 on the order webhooks
    # Shop pushes (livecompanion/shops, docs/bridges.md "Shops"): each shop's app credentials.
    doudian_app_key: str | None = None
    doudian_app_secret: str | None = None
    youzan_client_id: str | None = None
    youzan_client_secret: str | None = None
    wechat_shop_token: str | None = None
    wechat_shop_aes_key: str | None = None
    wechat_shop_appid: str | None = None
    shop_webhook_secret: str | None = None  # the generic signed order webhook
    pseudonym_key: str | None = None  # key of the hash that pseudonymises viewers in exports
    # Ingest refuses an event whose ts is further than this from the server's clock; 0 turns the
    # check off (to back-fill an old recorded stream with its own times).
    max_ts_skew_hours: float = 24.0
    # Slow and abusive clients (api/guards.py, docs/operations.md): chosen for a show's screens and
    # bridges, far above what they use; lower them on a small machine.
    ws_per_address: int = Field(500, ge=1)  # open WebSockets from one client address
    ws_per_token: int = Field(10_000, ge=1)  # open WebSockets presenting one token
    ws_send_timeout: float = Field(10.0, gt=0)  # a socket that takes no message this long is dropped
    header_timeout: float = Field(10.0, gt=0)  # a request head must arrive within this of its first byte
    body_timeout: float = Field(15.0, gt=0)  # each read of a request body waits at most this
    max_connections: int | None = Field(None, ge=16)  # uvicorn limit_concurrency; unset: from the fd limit
    # What a process holds of an ended stream (live numbers' triage, tallies, pacing) goes this long
    # after its End: late payments still count meanwhile (ingest/live.py). Lower it for a benchmark
    # of many short streams (scripts/bench_streams.py); 0 releases at the next pass (within a second).
    end_release_seconds: float = Field(120.0, ge=0)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        private_dir(self.data_dir)
        path = (self.data_dir / "livecompanion.sqlite3").resolve()
        private_file(path)  # created here, before SQLite creates it with the umask's mode
        for companion in ("-wal", "-shm", "-journal"):  # SQLite gives these the main file's mode
            if path.with_name(path.name + companion).exists():
                private_file(path.with_name(path.name + companion))
        return f"sqlite+aiosqlite:///{path}"

    def with_generated_tokens(self) -> Settings:
        """Fill unset tokens with random ones, printed at start so people can use them.

        They are kept in `data_dir/tokens.json` (mode 0600), so a restart keeps the URLs that OBS
        and the host's tablet already have.
        """
        names = ("operator_token", "ingest_token", "viewer_token")
        if all(getattr(self, name) for name in names):
            return self
        path = self.data_dir / "tokens.json"
        try:
            saved = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            saved = {}
        generated = {name: saved.get(name) or secrets.token_urlsafe(16) for name in names}
        private_dir(self.data_dir)
        private_file(path)  # also an existing file made readable to others by hand or an old version
        if generated != saved:
            path.write_text(json.dumps(generated), "utf-8")
        return self.model_copy(update={name: getattr(self, name) or generated[name] for name in names})
