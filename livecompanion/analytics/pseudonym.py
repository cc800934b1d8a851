"""Viewer identities pseudonymised (脫敏) for reports, dashboards and exports.

A pseudonym is a keyed hash (HMAC-SHA256) of the user id: the same viewer gets the same pseudonym in
every report made with the same key, so repeat buyers stay visible, but nobody without the key can
go back from a pseudonym to the platform account. The key comes from `LIVECOMPANION_PSEUDONYM_KEY`,
else from a random key kept per install in `<data dir>/pseudonym.key` (created on first use).
Nicknames are masked rather than hashed, so a reviewer can still tell 小林 from 阿芳 at a glance.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

ENV_KEY = "LIVECOMPANION_PSEUDONYM_KEY"
KEY_FILE = "pseudonym.key"
PREFIX = "v-"
DIGEST_CHARS = 12  # 48 bits: collisions are negligible for the viewers of a team's streams


class Pseudonymizer:
    def __init__(self, key: bytes | str) -> None:
        if isinstance(key, str):
            key = key.encode("utf-8")
        if not key:
            raise ValueError("the pseudonym key must not be empty")
        self._key = key
        self._cache: dict[str, str] = {}

    def __call__(self, user_id: str | None) -> str | None:
        if user_id is None:
            return None
        alias = self._cache.get(user_id)
        if alias is None:
            digest = hmac.new(self._key, user_id.encode("utf-8"), hashlib.sha256).hexdigest()
            alias = self._cache[user_id] = PREFIX + digest[:DIGEST_CHARS]
        return alias


def mask_nickname(nickname: str | None) -> str | None:
    """小林同學 -> 小***; keeps the first character only."""
    if not nickname:
        return None
    return nickname.strip()[:1] + "***"


def _data_dir() -> Path:
    raw = os.environ.get("LIVECOMPANION_DATA_DIR")
    return Path(raw) if raw else Path.cwd() / "data"


def install_key(data_dir: Path | None = None) -> bytes:
    """The per-install random key, created (mode 0600) the first time it is needed."""
    path = (data_dir or _data_dir()) / KEY_FILE
    try:
        key = path.read_bytes().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode("ascii")
    # O_EXCL: if two processes race, the loser reads the winner's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


def default_pseudonymizer(key: str | bytes | None = None, data_dir: Path | None = None) -> Pseudonymizer:
    """From an explicit key, else `LIVECOMPANION_PSEUDONYM_KEY`, else the per-install key."""
    if key:
        return Pseudonymizer(key)
    env = os.environ.get(ENV_KEY)
    if env:
        return Pseudonymizer(env)
    return Pseudonymizer(install_key(data_dir))
