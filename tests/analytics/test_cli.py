"""`livecompanion report` end to end: files in, report out, bad lines named on stderr."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from plotly.offline import get_plotlyjs

from livecompanion.analytics.cli import run_report
from tests.analytics.helpers import T0
from tests.analytics.sample import sample_events, write_script

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "LIVECOMPANION_PSEUDONYM_KEY": "cli-test-key"}


def _run(*args: str, cwd: Path, module: str = "livecompanion.analytics.cli") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env={**ENV, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)


def _line(**event: object) -> bytes:
    return orjson.dumps(event)


@pytest.fixture
def log_with_bad_lines(tmp_path: Path) -> Path:
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\n".join([
        _line(type="segment", segment="open", ts=T0),
        b'{"type": "comment", "user_id": "a", "text": "cut off',
        _line(type="comment", user_id="a", text="hello", ts=T0 + 1000),
        _line(type="dance", user_id="a", ts=T0 + 2000),
        b"   ",
        _line(type="comment", user_id="b", text="no ts"),
        _line(type="enter", user_id="b", ts="2023-11-14T22:13:23+00:00"),
        _line(type="order", user_id="b", order_id="o1", sku="S", qty=1, amount=-5, status="paid", ts=T0 + 4000),
        _line(type="comment", user_id="b", text="bye", ts=T0 + 60_000),
    ]) + b"\n")
    return path


def test_report_skips_bad_lines_and_names_them(log_with_bad_lines: Path, tmp_path: Path) -> None:
    done = _run("--events", str(log_with_bad_lines), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    errors = done.stderr.strip().splitlines()
    f = str(log_with_bad_lines)
    assert errors[0].startswith(f"{f}:2: error: not JSON: ")
    assert errors[1].startswith(f"{f}:4: error: type: type must be one of impression, enter")
    assert errors[2] == f"{f}:6: error: ts: required in an event log (there is no receive time to fall back on)"
    assert errors[3].startswith(f"{f}:8: error: amount: ")
    assert len(errors) == 4  # the blank line is no error
    r = orjson.loads(done.stdout)
    assert (r["events"], r["comments"], r["views"]) == (4, 2, 1)
    assert r["segments"][0]["id"] == "open"


def test_through_the_livecompanion_command(log_with_bad_lines: Path, tmp_path: Path) -> None:
    done = _run("report", "--events", str(log_with_bad_lines), cwd=tmp_path, module="livecompanion")
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["comments"] == 2
    assert f"{log_with_bad_lines}:2: error: not JSON" in done.stderr


def test_exit_1_when_no_line_is_valid_or_the_file_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                              ) -> None:
    bad = tmp_path / "bad.ndjson"
    bad.write_text("nope\n{}\n", encoding="utf-8")
    assert run_report(bad, None, "json", None, pseudonym_key="k") == 1
    err = capsys.readouterr().err
    assert f"{bad}:1: error: not JSON" in err and f"{bad}:2: error: type: field required" in err
    assert f"{bad}: error: no valid event in the file (2 bad)" in err
    empty = tmp_path / "empty.ndjson"
    empty.write_text("\n\n", encoding="utf-8")
    assert run_report(empty, None, "json", None, pseudonym_key="k") == 1
    assert "it is empty" in capsys.readouterr().err
    assert run_report(tmp_path / "missing.ndjson", None, "json", None, pseudonym_key="k") == 1
    assert "missing.ndjson: error: no such file" in capsys.readouterr().err


def test_json_array_file_names_the_line_of_a_bad_element(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "events.json"
    path.write_text(
        '[\n  {"type": "comment", "user_id": "a", "text": "hi", "ts": 1700000000000},\n'
        '  {"type": "comment", "user_id": "a",\n   "text": "", "ts": 1700000001000},\n'
        '  {"type": "like", "user_id": "b", "ts": 1700000002000}\n]\n', encoding="utf-8")
    out = tmp_path / "r.json"
    assert run_report(path, None, "json", out, pseudonym_key="k") == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{path}:3: error: item 1: text: String should have at least 1 character"]
    r = orjson.loads(out.read_bytes())
    assert (r["comments"], r["likes"]) == (1, 1)


def test_html_and_csv_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "events.ndjson"
    log.write_bytes(b"\n".join(orjson.dumps(e) for e in sample_events()) + b"\n")
    script = write_script(tmp_path)

    html = tmp_path / "dashboard.html"
    assert run_report(log, script, "html", html, pseudonym_key="k") == 0
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "data-chart" in page
    assert page.count(get_plotlyjs()) == 1  # embedded once: works offline
    own = page.replace(get_plotlyjs(), "")
    assert "http://" not in own and "https://" not in own and " src=" not in own

    assert run_report(log, script, "csv", tmp_path / "out.csv", pseudonym_key="k") == 0
    minutes = list(csv.reader(io.StringIO((tmp_path / "out-minutes.csv").read_text(encoding="utf-8-sig"))))
    segments = list(csv.reader(io.StringIO((tmp_path / "out-segments.csv").read_text(encoding="utf-8-sig"))))
    assert minutes[0][:4] == ["minute (分鐘)", "start (開始)", "segment (環節)", "viewers (在線人數(分鐘初))"]
    assert len(minutes) == 1 + 36  # a header and the stream's minutes
    assert [row[0] for row in segments[1:]] == ["open", "mask", "mask-value", "mask-close", "serum", "bye"]

    capsys.readouterr()
    assert run_report(log, script, "csv", None, pseudonym_key="k") == 0
    out = capsys.readouterr().out
    assert out.startswith("# minutes\nminute (分鐘),") and "\n# segments\nid (環節)," in out


def test_an_invalid_script_stops_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "events.ndjson"
    log.write_bytes(_line(type="comment", user_id="a", text="x", ts=T0) + b"\n")
    script = tmp_path / "script.yaml"
    script.write_text("title: x\nsegments:\n  - kind: dancing\n", encoding="utf-8")
    assert run_report(log, script, "json", None, pseudonym_key="k") == 1
    assert f"{script}:3:" in capsys.readouterr().err
