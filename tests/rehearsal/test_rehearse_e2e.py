"""`livecompanion rehearse` against a real server process: the rehearsal's report (GET .../report)
equals `livecompanion report --events LOG --script FILE` on the same log, figure for figure, with
every time moved by one shift: at 20x on a two-minute log over HTTP, at 1x on a four-second one
over the ingest socket. The server keeps its window on event times on (24 h): the recorded times
(2024) only get in because the rehearsal moves them to now."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from livecompanion.demo import SAMPLE_SCRIPT, load_script
from livecompanion.demo.simulator import Simulator
from livecompanion.rehearsal.compare import compare_reports
from tests.conftest import ROOT, ServerProcess

KEY = "rehearsal-test-key"  # the same pseudonyms on both sides (questions' askers)
ENV = {"LIVECOMPANION_PSEUDONYM_KEY": KEY, "LIVECOMPANION_MAX_TS_SKEW_HOURS": "24"}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVECOMPANION_")}
    return env | {"LIVECOMPANION_PSEUDONYM_KEY": KEY, "PYTHONUNBUFFERED": "1"}


def _cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "livecompanion", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=_env())


def _write(path: Path, events: list[dict[str, Any]], extra_lines: tuple[bytes, ...] = ()) -> Path:
    path.write_bytes(b"\n".join([*(orjson.dumps(e) for e in events), *extra_lines]) + b"\n")
    return path


def _ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso).timestamp() * 1000)


def _rehearse_and_compare(server: ServerProcess, log: Path, speed: str, *args: str,
                          duplicates: int = 0, refused: int = 0) -> dict[str, Any]:
    started = time.time() * 1000
    run = _cli("rehearse", "--events", str(log), "--script", str(SAMPLE_SCRIPT), "--speed", speed,
               "--url", server.base_url, "--token", server.tokens["operator"],
               "--ingest-token", server.tokens["ingest"], *args)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "equals `livecompanion report` on the log, figure for figure" in run.stdout, run.stdout
    sid = re.search(r"into stream (\w+)", run.stdout).group(1)  # type: ignore[union-attr]

    # The comparison again, here, from the two outputs as anyone gets them.
    offline = _cli("report", "--events", str(log), "--script", str(SAMPLE_SCRIPT))
    assert offline.returncode == 0, offline.stderr
    expected = orjson.loads(offline.stdout)
    r = httpx.get(f"{server.base_url}/api/streams/{sid}/report", headers=server.headers("viewer"), timeout=60)
    assert r.status_code == 200, r.text
    served = r.json()
    shift = _ms(served["start"]) - _ms(expected["start"])
    assert abs(_ms(served["start"]) - started) < 15_000  # the rehearsal happened now...
    assert served["duration_seconds"] == expected["duration_seconds"]  # ...with the recorded durations
    assert compare_reports(expected, served, shift, ingest_duplicates=duplicates, refused=refused) == []
    assert expected["data_quality"]["rejected"] == refused
    assert [s["id"] for s in served["segments"]] == [s["id"] for s in expected["segments"]]
    assert served["duplicates"] == 0 and expected["duplicates"] == duplicates
    return served


def test_rehearsal_at_20x_reports_as_the_log(server_factory: Callable[..., ServerProcess], tmp_path: Path) -> None:
    server = server_factory(extra_env=ENV)
    # The demo's two-hour show with its time 60 times compressed: 2 min of events, 11 segment changes.
    events = list(Simulator(load_script(), seed=3, room_size=100, speed=60).events())
    assert sum(e["type"] == "segment" for e in events) == 11
    events.insert(500, dict(events[400]))  # a re-delivery: one of its id is kept, on both sides
    events.insert(600, {"type": "alert", "key": "sold_out/x", "kind": "sold_out", "text": "已售罄",
                        "ts": events[600]["ts"]})  # a recorded alert: a mark, not sent
    log = _write(tmp_path / "show.ndjson", events, (b"{not json",))
    started = time.monotonic()
    served = _rehearse_and_compare(server, log, "20", duplicates=1, refused=1)
    span_s = (events[-1]["ts"] - events[0]["ts"]) / 1000
    assert time.monotonic() - started >= span_s / 20  # paced, not as fast as possible
    assert served["gmv"] > 0 and served["orders"] > 0 and len(served["segments"]) == 11
    state = httpx.get(f"{server.base_url}/api/streams/{served['stream_id']}", headers=server.headers("viewer")).json()
    assert state["state"]["stream"]["status"] == "ended"


def test_rehearsal_at_1x_over_the_socket(server_factory: Callable[..., ServerProcess], tmp_path: Path) -> None:
    server = server_factory(extra_env=ENV)
    events = list(Simulator(load_script(), seed=5, room_size=100, speed=60).events())
    t0 = events[0]["ts"]
    short = [e for e in events if e["ts"] < t0 + 4_000]
    short.append({"type": "segment", "segment": "mask-intro", "ts": t0 + 2_000, "id": "seg-2"})
    # The same segment announced again (the show cannot move to where it is): sent as the recorded
    # event through ingest instead, so the log still holds it at its time.
    short.append({"type": "segment", "segment": "mask-intro", "ts": t0 + 3_000})
    log = _write(tmp_path / "short.ndjson", sorted(short, key=lambda e: e["ts"]))
    started = time.monotonic()
    served = _rehearse_and_compare(server, log, "1", "--via", "ws")
    assert time.monotonic() - started >= 3.5  # real time
    assert [s["id"] for s in served["segments"]] == ["open", "mask-intro", "mask-intro"]
    assert served["segments"][0]["actual_seconds"] == 2.0  # the recorded change, at its recorded time


def test_rehearsal_with_the_service_in_process(tmp_path: Path) -> None:
    """No --url: the command serves the app itself (SQLite in its data dir), plays the log into it
    over HTTP, compares the reports and, with --exit, stops."""
    from tests.conftest import free_port

    events = list(Simulator(load_script(), seed=9, room_size=100, speed=60).events())
    log = _write(tmp_path / "log.ndjson", [e for e in events if e["ts"] < events[0]["ts"] + 20_000])
    env = _env() | {"LIVECOMPANION_DATA_DIR": str(tmp_path / "data")}
    run = subprocess.run([sys.executable, "-m", "livecompanion", "rehearse", "--events", str(log), "--script",
                          str(SAMPLE_SCRIPT), "--speed", "20", "--port", str(free_port()), "--exit"],
                         capture_output=True, text=True, timeout=180, cwd=ROOT, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert out.index("console:") < out.index("▶ open") < out.index("equals `livecompanion report`"), out
    assert "Dashboard of the rehearsal:" in out


def test_rehearsal_of_a_raw_bridge_recording(server_factory: Callable[..., ServerProcess]) -> None:
    """A `bridge youtube --record` file (real recorded liveChatMessages, tests/ingest/fixtures/real):
    mapped as `--from FILE --print` does, then played at 100x (4m20s of chat in under 3 s)."""
    server = server_factory(extra_env=ENV)
    recording = ROOT / "tests" / "ingest" / "fixtures" / "real" / "youtube.ndjson"
    run = _cli("rehearse", "--platform", "youtube", "--events", str(recording), "--script", str(SAMPLE_SCRIPT),
               "--speed", "100", "--url", server.base_url, "--token", server.tokens["operator"])
    assert run.returncode == 0, run.stdout + run.stderr
    assert "youtube messages mapped into" in run.stdout and "51 events sent, 51 accepted" in run.stdout, run.stdout
    assert "equals `livecompanion report` on the log, figure for figure" in run.stdout, run.stdout
