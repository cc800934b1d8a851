"""The Twitch bridge's IRC transport against real servers.

- Plain-TCP IRC against Debian's ngircd (`make irc` installs it; CI must have it): the bridge logs
  in, joins, answers the server's PINGs, records every raw line, reconnects after the server is
  killed and restarted, and exits 0 on Ctrl-C. ngircd relays no IRCv3 tags, so its PRIVMSGs are
  refused with the reason the mapper gives (the tagged path is the next test).
- IRC over WebSocket (the path the bridge uses for Twitch) against a local WebSocket server that
  plays the recorded Twitch lines (tests/ingest/fixtures/real/twitch.ndjson) after checking the
  login: the events land in a real service.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from websockets.sync.server import ServerConnection, serve

from tests.bridge.test_runner import bridge, push_args, wait_for
from tests.conftest import ROOT, ServerProcess, free_port
from tests.ingest.ingest_client import create_stream, sqlite_url_of, stored_ids

REAL = ROOT / "tests" / "ingest" / "fixtures" / "real"
NGIRCD = shutil.which("ngircd") or ("/usr/sbin/ngircd" if os.path.exists("/usr/sbin/ngircd") else None)


def start_ngircd(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    conf = tmp_path / "ngircd.conf"
    conf.write_text(
        "[Global]\nName = irc.test.local\nInfo = test\n"
        f"Listen = 127.0.0.1\nPorts = {port}\nPidFile = {tmp_path / 'ngircd.pid'}\n"
        f"MotdFile = {tmp_path / 'motd'}\n"
        "[Limits]\nPingTimeout = 3\nPongTimeout = 5\nMaxConnectionsIP = 0\nMaxNickLength = 30\n"
        "[Options]\nPAM = no\nIdent = no\nDNS = no\n"
    )
    (tmp_path / "motd").write_text("test\n")
    proc = subprocess.Popen([NGIRCD, "-n", "-f", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"ngircd did not start: {proc.stdout.read() if proc.stdout else b''!r}")


class Viewer:
    """A plain IRC client that talks in the channel."""

    def __init__(self, port: int, nick: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.send(f"NICK {nick}", f"USER {nick} 0 * :{nick}")
        self._wait_for(" 001 ")
        self.send("JOIN #shop")
        self._wait_for("JOIN")

    def send(self, *lines: str) -> None:
        self.sock.sendall("".join(f"{line}\r\n" for line in lines).encode())

    def _wait_for(self, text: str) -> None:
        buffer = b""
        deadline = time.monotonic() + 10
        while text.encode() not in buffer and time.monotonic() < deadline:
            buffer += self.sock.recv(4096)
        assert text.encode() in buffer, buffer

    def say(self, text: str) -> None:
        self.send(f"PRIVMSG #shop :{text}")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def ngircd_path() -> str:
    if NGIRCD is None:
        if os.environ.get("CI"):
            pytest.fail("ngircd is missing: CI installs it with `make irc` (apt-get install ngircd)")
        pytest.skip("ngircd is not installed (make irc); never skipped in CI")
    return NGIRCD


def recorded_privmsgs(record: Path) -> list[str]:
    if not record.exists():
        return []
    lines = [json.loads(line) for line in record.read_text("utf-8").splitlines() if line.strip()]
    return [line for line in lines if isinstance(line, str) and " PRIVMSG #shop :" in line]


def test_plain_irc_transport_against_ngircd(ngircd_path: str, server: ServerProcess, tmp_path: Path) -> None:
    port = free_port()
    irc = start_ngircd(tmp_path, port)
    sid = create_stream(server)
    record = tmp_path / "raw.ndjson"
    args = push_args(server.base_url, server.tokens["ingest"], sid, tmp_path / "spool")
    live = subprocess.Popen(
        bridge("twitch", "--channel", "shop", "--irc-url", f"irc://127.0.0.1:{port}", "--record", str(record), *args),
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    viewer = None
    try:
        viewer = Viewer(port, "ann")
        deadline = time.monotonic() + 60
        while not recorded_privmsgs(record) and time.monotonic() < deadline:
            viewer.say("how much is the red one?")  # said until the bridge has joined and hears it
            time.sleep(1)
        heard = len(recorded_privmsgs(record))
        assert heard >= 1
        time.sleep(7)  # past ngircd's PingTimeout: a bridge that did not answer PING is dropped by now
        viewer.say("still here?")
        wait_for(lambda: len(recorded_privmsgs(record)) == heard + 1)
        viewer.close()
        irc.kill()  # the server goes away and comes back
        irc.wait(5)
        irc = start_ngircd(tmp_path, port)
        viewer = Viewer(port, "bo")
        deadline = time.monotonic() + 60
        while len(recorded_privmsgs(record)) < heard + 2 and time.monotonic() < deadline:
            viewer.say("back again")  # said until the reconnected bridge has joined and hears it
            time.sleep(1)
        assert recorded_privmsgs(record)[-1].endswith("PRIVMSG #shop :back again")
    finally:
        live.send_signal(signal.SIGINT)
        _, err = live.communicate(timeout=60)
        irc.kill()
        if viewer is not None:
            viewer.close()
    assert live.returncode == 0, err
    assert "reconnecting" in err
    assert "PRIVMSG without tags: request the twitch.tv/tags capability" in err
    raw = [json.loads(line) for line in record.read_text("utf-8").splitlines()]
    assert any(line.startswith(":irc.test.local 001 justinfan") for line in raw)  # the login worked
    assert recorded_privmsgs(record)[0].endswith("PRIVMSG #shop :how much is the red one?")


def test_irc_over_websocket_plays_recorded_twitch_lines_into_the_service(server: ServerProcess, tmp_path: Path) -> None:
    lines = [json.loads(line) for line in (REAL / "twitch.ndjson").read_text("utf-8").splitlines()]
    irc_lines = [line.replace("#lovingt3s", "#shop") for line in lines if isinstance(line, str)]
    heard: list[str] = []
    finished = threading.Event()  # ends the handler: the server's shutdown waits for it

    def handler(ws: ServerConnection) -> None:
        for _ in range(3):  # CAP, NICK, USER (no PASS: not a twitch.tv host)
            heard.append(str(ws.recv(timeout=10)))
        ws.send(":tmi.twitch.tv CAP * ACK :twitch.tv/tags twitch.tv/commands")
        heard.append(str(ws.recv(timeout=10)))  # CAP END
        ws.send(":tmi.twitch.tv 001 justinfan :Welcome, GLHF!\r\nPING :tmi.twitch.tv")
        heard.append(str(ws.recv(timeout=10)))  # JOIN
        heard.append(str(ws.recv(timeout=10)))  # PONG
        ws.send("\r\n".join(irc_lines[:5]) + "\r\n")  # several lines in one frame, as Twitch does
        for line in irc_lines[5:]:
            ws.send(line)
        finished.wait(30)

    port = free_port()
    with serve(handler, "127.0.0.1", port) as ws_server:
        threading.Thread(target=ws_server.serve_forever, daemon=True).start()
        sid = create_stream(server)
        args = push_args(server.base_url, server.tokens["ingest"], sid, tmp_path / "spool")
        live = subprocess.Popen(
            bridge("twitch", "--channel", "shop", "--irc-url", f"ws://127.0.0.1:{port}", *args),
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        expected = {"twitch:885196de-cb67-427a-baa8-82f9b0fcd05f"}
        try:
            wait_for(lambda: asyncio.run(stored_ids(sqlite_url_of(server_dir(server)), sid)) == expected)
        finally:
            live.send_signal(signal.SIGINT)
            _, err = live.communicate(timeout=60)
            finished.set()
            ws_server.shutdown()
    assert live.returncode == 0, err
    assert heard[0] == "CAP REQ :twitch.tv/tags twitch.tv/commands"
    assert heard[3:] == ["CAP END", "JOIN #shop", "PONG :tmi.twitch.tv"]
    # The other recorded lines are of other channels (#alca, #channel ...): the room guard says so.
    assert "dropping messages of room #alca: this bridge follows room #shop" in err
    assert sys.executable  # the bridge ran under this interpreter


def server_dir(server: ServerProcess) -> Path:
    return server.log.parent
