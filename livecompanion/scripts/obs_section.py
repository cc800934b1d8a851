"""The optional `obs:` section of a live script: which OBS Studio scene goes with which part of the show.

    obs:
      address: ws://192.168.1.20:4455       # obs-websocket 5 (OBS 28+: Tools > WebSocket Server Settings)
      password_env: OBS_WEBSOCKET_PASSWORD  # the NAME of an environment variable, never the password
      overlay_source: LiveCompanion overlay # the browser source "refresh overlay" reloads
      scenes:                               # segment id or segment kind -> scene
        opening: 開場全景
        product: 產品特寫
        mask-close: 促單雙機位
      cues:                                 # cue action -> scene, switched when such a cue fires
        flash_sale: 秒殺倒數
        lottery: 抽獎畫面
      end: 下播畫面                          # when the stream ends

A segment's own id wins over its kind. Keys that name no segment id and no kind are errors
(checked in `obs_findings`, at the key's line and column); a section that maps nothing is a warning.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from livecompanion.scripts.findings import Finding
from livecompanion.scripts.yamlsource import Located

DEFAULT_ADDRESS = "ws://127.0.0.1:4455"  # obs-websocket 5's default port
SceneName = Annotated[str, Field(min_length=1, max_length=200)]
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ADDRESS = re.compile(r"^wss?://[^\s/]+(:\d{1,5})?/?$")
OBS_CUE_ACTIONS = ("countdown", "flash_sale", "lottery", "pin", "note")


class ObsSection(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    address: str = DEFAULT_ADDRESS
    password_env: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    overlay_source: SceneName | None = None
    scenes: dict[str, SceneName] = Field(default_factory=dict)
    cues: dict[str, SceneName] = Field(default_factory=dict)
    end: SceneName | None = None
    # Declared only to refuse it at its own line: scripts are shared, passwords are not.
    password: Any = Field(default=None, exclude=True)

    @field_validator("password")
    @classmethod
    def _no_password(cls, value: Any) -> None:
        if value is not None:
            raise ValueError("the password itself does not go in a script: put it in an environment "
                             "variable and give that variable's name as password_env")

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        if not _ADDRESS.match(value):
            raise ValueError(f"'{value}' is not a websocket address such as {DEFAULT_ADDRESS}")
        return value.rstrip("/")

    @field_validator("password_env")
    @classmethod
    def _env(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(f"'{value}' is not an environment variable name (letters, digits, _)")
        return value

    @field_validator("cues")
    @classmethod
    def _cues(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [action for action in value if action not in OBS_CUE_ACTIONS]
        if unknown:
            raise ValueError(f"unknown cue action '{unknown[0]}' (one of: {', '.join(OBS_CUE_ACTIONS)})")
        return value

    def maps_nothing(self) -> bool:
        return not self.scenes and not self.cues and self.end is None


def _segment_ids_and_kinds(data: dict[str, Any]) -> tuple[list[str], set[str]]:
    """Ids (given or defaulted, as models.Script does) and kinds of the script's segments."""
    ids: list[str] = []
    kinds: set[str] = set()
    counts: dict[str, int] = {}
    segments = data.get("segments")
    for segment in segments if isinstance(segments, list) else []:
        if not isinstance(segment, dict):
            continue
        kind = segment.get("kind")
        if isinstance(kind, str):
            kinds.add(kind)
            counts[kind] = counts.get(kind, 0) + 1
        seg_id = segment.get("id")
        if seg_id is None and isinstance(kind, str):
            seg_id = f"{kind}-{counts[kind]}"
        if isinstance(seg_id, str):
            ids.append(seg_id)
    return ids, kinds


def _obs(located: Located) -> tuple[dict[str, Any], dict[str, Any] | None]:
    data = located.data if isinstance(located.data, dict) else {}
    obs = data.get("obs")
    return data, obs if isinstance(obs, dict) else None


def obs_errors(located: Located, file: str) -> list[Finding]:
    """An error at each scene-map key that names no segment id and no segment kind."""
    from livecompanion.scripts.models import SEGMENT_KINDS

    data, obs = _obs(located)
    if obs is None:
        return []
    findings: list[Finding] = []
    ids, _kinds = _segment_ids_and_kinds(data)
    scenes = obs.get("scenes")
    if isinstance(scenes, dict):
        for key in scenes:
            if key in ids or key in SEGMENT_KINDS:
                continue
            line, col = located.position(("obs", "scenes", key), key=True)
            findings.append(Finding(
                file, line, col, "error",
                f"obs.scenes: '{key}' is neither a segment id ({', '.join(ids) or 'none'}) "
                f"nor a segment kind ({', '.join(SEGMENT_KINDS)})",
            ))
    return findings


def obs_warnings(located: Located, file: str) -> list[Finding]:
    """A warning for an `obs:` section that maps nothing (OBS would be connected but never switched)."""
    _data, obs = _obs(located)
    if obs is None:
        return []
    findings: list[Finding] = []
    mapped = any(isinstance(obs.get(name), dict) and obs.get(name) for name in ("scenes", "cues")) \
        or obs.get("end") is not None
    if not mapped:
        line, col = located.position(("obs",), key=True)
        findings.append(Finding(
            file, line, col, "warning",
            "obs: no scene is mapped (scenes, cues or end), so OBS will never switch", rule="obs",
        ))
    return findings
