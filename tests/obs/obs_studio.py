"""A real OBS Studio for the tests: Debian's obs-studio under Xvfb, configured only by files written here.

Nothing of the user's OBS is touched: HOME and XDG_CONFIG_HOME point into the test's directory.
Files (formats as OBS 29.0 / obs-websocket 5.1 read them):
    obs-studio/global.ini                      [Basic] profile and scene collection; [OBSWebSocket]
                                               server on, port, password (5.1 keeps them here; 5.3+
                                               migrates them to plugin_config/obs-websocket/config.json,
                                               which is written too)
    obs-studio/basic/profiles/<P>/basic.ini    a small canvas (320x180, 10 fps) to spare the CPU
    obs-studio/basic/scenes/<C>.json           the scenes, and an input named as the overlay
Sources for the formats: obsproject/obs-websocket src/Config.cpp (keys of config.json and of the
[OBSWebSocket] section), and the scene collection layout of an exported collection
(bpwhelan/GameSentenceMiner GameSentenceMiner/util/downloader/Untitled_json.py). Checked against
the real program: it starts in ~2.5 s here and answers obs-websocket on the port written.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

OBS = shutil.which("obs")
XVFB = shutil.which("Xvfb")
COLLECTION = "LiveCompanionTest"
PROFILE = "LiveCompanionTest"


class Xvfb:
    """A virtual X display of our own (the display number Xvfb picks itself)."""

    def __init__(self) -> None:
        read, write = os.pipe()
        self.process = subprocess.Popen(
            [XVFB or "Xvfb", "-displayfd", str(write), "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            self.process.kill()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"

    def stop(self) -> None:
        from tests.conftest import stop_process

        stop_process(self.process)  # type: ignore[arg-type]


def _scene(name: str, uuid_tail: int) -> dict[str, object]:
    return {"name": name, "uuid": f"00000000-0000-4000-8000-{uuid_tail:012d}", "id": "scene",
            "versioned_id": "scene", "settings": {"id_counter": 0, "custom_size": False, "items": []}}


class ObsStudio:
    def __init__(self, root: Path, display: str, port: int, password: str, scenes: list[str],
                 overlay: str | None = None) -> None:
        self.root = root
        self.display = display
        self.port = port
        self.password = password
        self.scenes = scenes
        self.overlay = overlay
        self.process: subprocess.Popen[bytes] | None = None
        self.log = root / "obs.log"
        self._write_config()

    @property
    def address(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def _write_config(self) -> None:
        config = self.root / ".config" / "obs-studio"
        (config / "basic" / "scenes").mkdir(parents=True, exist_ok=True)
        (config / "basic" / "profiles" / PROFILE).mkdir(parents=True, exist_ok=True)
        (config / "plugin_config" / "obs-websocket").mkdir(parents=True, exist_ok=True)
        (config / "global.ini").write_text(
            "[General]\nFirstRun=true\nEnableAutoUpdates=false\n\n"
            f"[Basic]\nProfile={PROFILE}\nProfileDir={PROFILE}\n"
            f"SceneCollection={COLLECTION}\nSceneCollectionFile={COLLECTION}\nConfigOnNewProfile=false\n\n"
            "[OBSWebSocket]\nFirstLoad=false\nServerEnabled=true\n"
            f"ServerPort={self.port}\nAlertsEnabled=false\nAuthRequired=true\nServerPassword={self.password}\n",
            "utf-8",
        )
        (config / "plugin_config" / "obs-websocket" / "config.json").write_text(json.dumps({
            "first_load": False, "server_enabled": True, "server_port": self.port, "alerts_enabled": False,
            "auth_required": True, "server_password": self.password,
        }), "utf-8")
        (config / "basic" / "profiles" / PROFILE / "basic.ini").write_text(
            f"[General]\nName={PROFILE}\n\n[Video]\nBaseCX=320\nBaseCY=180\nOutputCX=320\nOutputCY=180\n"
            "FPSType=1\nFPSInt=10\n", "utf-8",
        )
        sources: list[dict[str, object]] = [_scene(name, i + 1) for i, name in enumerate(self.scenes)]
        if self.overlay:
            # Debian's OBS has no browser source (no obs-browser plugin; OBS drops inputs of unknown
            # kinds at load), so the overlay is a colour source: the refresh request then reaches a
            # real input and OBS itself answers for the button it lacks.
            uuid = "00000000-0000-4000-8000-000000000099"
            sources.append({"name": self.overlay, "uuid": uuid, "id": "color_source_v3",
                            "versioned_id": "color_source_v3", "settings": {"width": 320, "height": 180}})
            first = sources[0]["settings"]
            assert isinstance(first, dict)
            first["items"] = [{"name": self.overlay, "source_uuid": uuid, "id": 1, "visible": True,
                               "locked": False, "pos": {"x": 0.0, "y": 0.0}, "scale": {"x": 1.0, "y": 1.0}}]
            first["id_counter"] = 1
        (config / "basic" / "scenes" / f"{COLLECTION}.json").write_text(json.dumps({
            "name": COLLECTION, "current_scene": self.scenes[0], "current_program_scene": self.scenes[0],
            "scene_order": [{"name": name} for name in self.scenes], "sources": sources, "groups": [],
            "transitions": [], "quick_transitions": [], "current_transition": "Cut", "transition_duration": 0,
        }, ensure_ascii=False), "utf-8")

    def start(self, timeout: float = 45) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")}
        env.update(HOME=str(self.root), XDG_CONFIG_HOME=str(self.root / ".config"), DISPLAY=self.display,
                   LIBGL_ALWAYS_SOFTWARE="1", QT_QPA_PLATFORM="xcb")
        self.process = subprocess.Popen(
            [OBS or "obs", "--minimize-to-tray", "--disable-shutdown-check", "--multi",
             "--collection", COLLECTION, "--profile", PROFILE],
            cwd=self.root, env=env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"OBS exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"OBS did not open its websocket in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """As a crash would: SIGKILL, no goodbye to the websocket clients."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        from tests.conftest import stop_process

        if self.process is not None:
            stop_process(self.process)
