"""Settings from the environment (contract section 3), prefix LIVECOMPANION_."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'livecompanion.sqlite3').resolve()}"

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
        if generated != saved:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(json.dumps(generated), "utf-8")
        return self.model_copy(update={name: getattr(self, name) or generated[name] for name in names})
