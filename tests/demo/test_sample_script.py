"""The demo's sample script is clean and complete, and a simulated log of it makes a full report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from livecompanion.demo import SAMPLE_SCRIPT, load_script
from livecompanion.scripts.models import CUE_ACTIONS, SEGMENT_KINDS

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVECOMPANION_")}
    if data_dir is not None:  # the report keeps its pseudonym key there
        env["LIVECOMPANION_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_sample_script_validates_without_any_finding():
    result = run("-m", "livecompanion", "validate", str(SAMPLE_SCRIPT))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""  # no errors, and no ad-law or length warnings either


def test_sample_script_shows_every_feature_in_a_price_ladder():
    script = load_script()
    assert {s.kind for s in script.segments} == set(SEGMENT_KINDS)
    assert {c.action for s in script.segments for c in s.cues} == set(CUE_ACTIONS)
    prices = [p.live_price for p in script.products]
    assert len(prices) >= 4
    ladder = [p.live_price for p in script.products[:-1]]
    assert ladder == sorted(ladder)  # 引流款 -> 利潤款 -> 高端款, then the 爆款 finale
    finale = script.segments[-2]
    assert finale.kind == "closing" and finale.product == script.products[-1].sku
    assert script.targets


def test_a_simulated_log_of_the_sample_makes_a_report_of_every_segment(tmp_path):
    log = tmp_path / "stream.ndjson"
    made = run("scripts/simulate.py", "log", "-o", str(log), "--room", "150", "--seed", "11")
    assert made.returncode == 0, made.stderr
    assert "events/s" in made.stderr
    report = run("-m", "livecompanion", "report", "--events", str(log), "--script", str(SAMPLE_SCRIPT),
                 data_dir=tmp_path / "data")
    assert report.returncode == 0, report.stderr
    assert report.stderr.strip() == ""  # not one malformed line
    data = json.loads(report.stdout)
    script = load_script()
    assert [s["id"] for s in data["segments"]] == [s.id for s in script.segments]
    assert data["exposure_uv"] > data["viewer_uv"] > data["product_exposure_uv"] > data["product_click_uv"]
    assert data["product_click_uv"] > data["buyer_uv"] > 0
    assert data["orders"] > 0 and data["gmv"] > 0 and data["refund_amount"] > 0
    assert 0.6 * 150 <= data["peak_viewers"] <= 1.3 * 150
    assert set(data["targets"]) == set(script.targets)
    assert data["questions"] and data["questions"][0]["count"] > 1
