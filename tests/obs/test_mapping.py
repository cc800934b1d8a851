"""The `obs:` section: validation at the right line and column, and the pure scene mapping."""

from __future__ import annotations

import sys

import pytest

from livecompanion.obs.client import INSTALL_HINT, ObsSession, ObsUnreachable, client_missing
from livecompanion.obs.mapping import ShowMove, config_section, scene_for_move
from livecompanion.scripts import check_text

BASE = """title: t
segments:
  - id: open
    kind: opening
  - kind: product
  - id: product
    kind: closing
"""


def findings(text: str) -> list[str]:
    return [f.format() for f in check_text(text, "s.yaml").findings]


def test_a_good_section_is_read() -> None:
    result = check_text(BASE + "obs:\n  password_env: OBS_PW\n  scenes:\n    open: A\n    product: B\n"
                        "  cues:\n    lottery: L\n  end: E\n", "s.yaml")
    assert result.ok and result.script is not None and result.findings == []
    obs = result.script.obs
    assert obs is not None and obs.address == "ws://127.0.0.1:4455" and obs.password_env == "OBS_PW"
    stored = result.script.model_dump(mode="json")
    assert "password" not in stored["obs"]
    assert config_section(result.script) == {  # type: ignore[arg-type]
        "address": "ws://127.0.0.1:4455", "password_env": "OBS_PW", "overlay_source": None,
        # the segment whose id is "product" takes the id's scene; product-1 the kind's
        "segments": {"open": "A", "product-1": "B", "product": "B"}, "cues": {"lottery": "L"}, "end": "E",
    }


def test_unknown_segment_ids_are_errors_at_their_key() -> None:
    text = BASE + "obs:\n  scenes:\n    open: A\n    product-2: B\n    closing: C\n    opnening: D\n"
    assert findings(text) == [
        ("s.yaml:11:5: error: obs.scenes: 'product-2' is neither a segment id (open, product-1, product) "
         "nor a segment kind (opening, product, value, closing, wrapup)"),
        ("s.yaml:13:5: error: obs.scenes: 'opnening' is neither a segment id (open, product-1, product) "
         "nor a segment kind (opening, product, value, closing, wrapup)"),
    ]
    assert not check_text(text).ok


def test_an_empty_map_is_a_warning_that_does_not_block() -> None:
    result = check_text(BASE + "obs:\n  address: ws://10.0.0.5:4455\n  scenes: {}\n", "s.yaml")
    assert result.ok
    assert [f.format() for f in result.findings] == [
        "s.yaml:8:1: warning[obs]: obs: no scene is mapped (scenes, cues or end), so OBS will never switch"]


def test_bad_values_say_what_and_where() -> None:
    text = BASE + ("obs:\n  address: http://obs.local\n  password: hunter2\n  password_env: 'OBS PW'\n"
                   "  cues:\n    giveaway: G\n  scenes:\n    open: ''\n")
    assert findings(text) == [
        ("s.yaml:9:12: error: obs.address: 'http://obs.local' is not a websocket address such as "
         "ws://127.0.0.1:4455"),
        ("s.yaml:10:13: error: obs.password: the password itself does not go in a script: put it in an "
         "environment variable and give that variable's name as password_env"),
        "s.yaml:11:17: error: obs.password_env: 'OBS PW' is not an environment variable name (letters, digits, _)",
        ("s.yaml:13:5: error: obs.cues: unknown cue action 'giveaway' (one of: countdown, flash_sale, lottery, "
         "pin, note)"),
        "s.yaml:15:11: error: obs.scenes.open: String should have at least 1 character",
    ]


def test_scene_for_each_move() -> None:
    script = check_text(BASE + "obs:\n  scenes:\n    opening: A\n    product: B\n  cues:\n    flash_sale: F\n"
                        "  end: E\n").script
    assert script is not None and script.obs is not None
    obs, (open_, product_1, product) = script.obs, script.segments

    def scene(move: ShowMove) -> str | None:
        choice = scene_for_move(obs, move)
        return None if choice is None else f"{choice.scene} ({choice.reason})"

    assert scene(ShowMove("live", open_)) == "A (segment open)"
    assert scene(ShowMove("live", product_1)) == "B (segment product-1)"
    assert scene(ShowMove("live", product)) == "B (segment product)"  # by its id, not its kind (closing)
    assert scene(ShowMove("live", product, "product/0", "flash_sale")) == "F (cue product/0 (flash_sale))"
    assert scene(ShowMove("live", product, "product/1", "note")) is None  # unmapped cue: OBS stays
    assert scene(ShowMove("ended")) == "E (end)"
    assert scene(ShowMove("ready")) is None


async def test_without_the_extra_obs_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "simpleobsws", None)  # as if `livecompanion[obs]` were not installed
    assert client_missing() == INSTALL_HINT
    with pytest.raises(ObsUnreachable, match=r"pip install 'livecompanion\[obs\]'"):
        await ObsSession.open("ws://127.0.0.1:1", None)
