"""Which OBS scene a move of the show asks for (pure: no I/O, no OBS client).

A move is what the operator just did: next/previous/goto put a segment live, end ends the stream,
a fired cue runs its action. The script's `obs:` section maps segment ids (first) and kinds to
scenes, cue actions to scenes, and the end to a scene; a move that maps to nothing leaves OBS alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from livecompanion.scripts.models import Script, Segment
from livecompanion.scripts.obs_section import ObsSection
from livecompanion.stream.moves import ShowMove


@dataclass(frozen=True, slots=True)
class SceneChoice:
    scene: str
    reason: str  # for the operator: "segment mask-close", "cue mask-close/0 (flash_sale)", "end"


def scene_for_segment(obs: ObsSection, segment: Segment) -> str | None:
    """The segment's own id wins over its kind."""
    return obs.scenes.get(segment.id or "") or obs.scenes.get(segment.kind)


def scene_for_move(obs: ObsSection, move: ShowMove) -> SceneChoice | None:
    if move.cue_action is not None:
        scene = obs.cues.get(move.cue_action)
        return SceneChoice(scene, f"cue {move.cue_key} ({move.cue_action})") if scene else None
    if move.status == "ended":
        return SceneChoice(obs.end, "end") if obs.end else None
    if move.status == "live" and move.segment is not None:
        scene = scene_for_segment(obs, move.segment)
        return SceneChoice(scene, f"segment {move.segment.id}") if scene else None
    return None


def config_section(script: Script) -> dict[str, Any] | None:
    """What screens show of the mapping: each segment's scene, the cue and end scenes."""
    obs = script.obs
    if obs is None:
        return None
    return {
        "address": obs.address,
        "password_env": obs.password_env,
        "overlay_source": obs.overlay_source,
        "segments": {s.id: scene_for_segment(obs, s) for s in script.segments},
        "cues": dict(obs.cues),
        "end": obs.end,
    }
