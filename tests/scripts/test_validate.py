"""`validate` on scripts written the way hosts really write them, with mistakes, at exact locations."""

import subprocess
import sys
from pathlib import Path

import pytest

from livecompanion.scripts import check_text
from tests.conftest import EXAMPLE_SCRIPT, ROOT


def lines(text: str) -> list[str]:
    return [f.format() for f in check_text(text, "s.yaml").findings]


def errors(text: str) -> list[str]:
    return [f.format() for f in check_text(text, "s.yaml").findings if f.severity == "error"]


def test_the_example_script_is_valid() -> None:
    result = check_text(EXAMPLE_SCRIPT.read_bytes(), "example")
    assert result.ok, [f.format() for f in result.findings]
    script = result.script
    assert script is not None
    assert [s.id for s in script.segments][-1] == "wrapup-1"
    sale = script.segments[3].cues[0]
    assert (sale.action, sale.stock, sale.duration_seconds, sale.first_n, sale.per_user_limit) == (
        "flash_sale", 200, 300, 50, 2)
    assert script.segments[0].target is not None and script.segments[0].target.max_seconds == 600


SCRIPT_WITH_MISTAKES = """\
title: 雙十一爆款專場
host: 阿美
products:
  - sku: CREAM-1
    name: 保濕面霜 50g
    live_price: 九十九
  - sku: CREAM-1
    name: 重複的貨號
segments:
  - kind: opening
    target: 五到十分鐘
  - kind: openning
    product: LIP-9
  - id: close
    kind: closing
    target: 10m
    colour: red
    cues:
      - at: 1m
        action: flash_sale
        sku: CREAM-9
        price: 59
        stock: 0
        duration: 5m
      - at: 2m
        action: fireworks
      - at: 11m
        action: note
        text: 提醒關注
  - id: close
    kind: wrapup
"""


def test_every_mistake_at_once_with_exact_locations() -> None:
    assert errors(SCRIPT_WITH_MISTAKES) == [
        "s.yaml:6:17: error: products[0].live_price: '九十九' is not a number",
        "s.yaml:7:10: error: duplicate sku 'CREAM-1'",
        "s.yaml:11:13: error: segments[0].target: '五到十分鐘' is not a duration (write 90s, 8m, 1h5m or seconds)",
        "s.yaml:12:11: error: segments[1].kind: segment kind 'openning' is not one of opening, product, value, "
        "closing, wrapup",
        "s.yaml:13:14: error: segments[1].product names unknown sku 'LIP-9' (products: CREAM-1)",
        "s.yaml:17:5: error: segments[2]: unknown key 'colour'",
        "s.yaml:21:14: error: segments[2].cues[0] (flash_sale) names unknown sku 'CREAM-9' (products: CREAM-1)",
        "s.yaml:23:16: error: segments[2].cues[0].stock: a flash sale needs a positive stock",
        "s.yaml:26:17: error: segments[2].cues[1].action: must be one of countdown, flash_sale, lottery, pin, note, "
        "product_explain",
        "s.yaml:27:13: error: segments[2].cues[2].at: 11m is beyond the segment's target of 10m",
        "s.yaml:30:9: error: duplicate segment id 'close' (also segments[2])",
    ]


def test_missing_keys_point_at_the_parent() -> None:
    assert errors("host: 小林\nsegments:\n  - kind: opening\n    cues:\n      - action: countdown\n") == [
        "s.yaml:1:1: error: missing key 'title'",
        "s.yaml:5:9: error: segments[0].cues[0]: missing key 'at'",
        "s.yaml:5:9: error: segments[0].cues[0]: missing key 'seconds'",
    ]


def test_no_segments_and_wrong_types() -> None:
    assert errors("title: 空腳本\nsegments: []\n") == [
        "s.yaml:2:11: error: segments: List should have at least 1 item after validation, not 0"]
    assert errors("title: x\nsegments:\n  - kind: value\n    text: 100\n") == [
        "s.yaml:4:11: error: segments[0].text: expected text, got 100 (quote it if it is meant as text)"]
    assert errors("- a\n- b\n") == ["s.yaml:1:1: error: a live script is a mapping with title and segments"]


def test_a_kind_that_is_not_text_is_an_error_not_a_crash() -> None:
    # The length check read the typical length by kind before validation; a list kind raised.
    assert errors("title: x\nsegments:\n  - kind: [a]\n    text: hi\n    target: 5-10m\n") == [
        "s.yaml:3:11: error: segments[0].kind: segment kind '['a']' is not one of opening, product, value,"
        " closing, wrapup"]


def test_flash_sale_cue_that_names_a_sku_without_products() -> None:
    text = ("title: x\nsegments:\n  - kind: closing\n    cues:\n      - at: 1m\n        action: flash_sale\n"
            "        sku: A\n        price: 1\n        stock: 5\n        duration: 1m\n")
    assert errors(text) == [
        "s.yaml:7:14: error: segments[0].cues[0] (flash_sale) names unknown sku 'A' (the script lists no products)"]


def test_bad_timezone_and_target_metric() -> None:
    assert errors("title: x\ntimezone: Mars/Base\ntargets:\n  revenue: 5\nsegments:\n  - kind: opening\n") == [
        "s.yaml:2:11: error: timezone: unknown timezone 'Mars/Base' (use an IANA name such as Asia/Shanghai)",
        "s.yaml:4:3: error: targets: unknown target metric 'revenue' (one of: exposure_uv, viewer_uv, views, "
        "product_exposure_uv, product_click_uv, buyer_uv, enter_rate, product_exposure_rate, click_rate, "
        "click_conversion_rate, watch_conversion_rate, orders, gmv, items_sold, refund_amount, gpm, uv_value, "
        "aov, avg_watch_seconds, peak_viewers, comments, likes, interaction_rate, follow_rate, opm, "
        "product_clicks, ctor, watch_click_rate, pcu, viewer_seconds, acu)",
    ]


def test_ad_law_terms_are_warnings_at_the_characters() -> None:
    text = ("title: 全網最低價專場\nsegments:\n  - kind: product\n    text: |\n      大家好\n"
            "      這是國家級配方，效果最好\n")
    found = check_text(text, "s.yaml")
    assert found.ok  # warnings never block
    ad_law = [f for f in found.findings if f.rule == "ad-law"]
    assert [(f.line, f.col) for f in ad_law][:1] == [(1, 8)]
    assert (6, 9) in [(f.line, f.col) for f in ad_law]  # 國家級 on the block's second line
    assert all(f.format().startswith(f"s.yaml:{f.line}:{f.col}: warning[ad-law]: '") for f in ad_law)


def test_pacing_and_length_warnings() -> None:
    text = "title: x\nduration: 3h\nsegments:\n  - kind: opening\n    target: 45m\n  - kind: closing\n    target: 15m\n"
    found = {f.rule: f.format() for f in check_text(text, "s.yaml").findings}
    assert found["pacing"] == ("s.yaml:5:13: warning[pacing]: segments[0].target 45m is far from the usual "
                               "5m-10m for a opening segment")
    assert found["length"] == ("s.yaml:2:11: warning[length]: duration 3h is far from the segments' own targets, "
                               "which add up to 1h")


def test_json_is_accepted_too() -> None:
    result = check_text('{"title": "x", "segments": [{"kind": "opening", "target": "5m"}]}', "s.json")
    assert result.ok


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "livecompanion", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_cli_exit_codes_and_lines(tmp_path: Path) -> None:
    good = run_cli("validate", str(EXAMPLE_SCRIPT))
    assert good.returncode == 0, good.stdout + good.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(SCRIPT_WITH_MISTAKES, encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_bytes(b"title: \xff\n")
    out = run_cli("validate", str(EXAMPLE_SCRIPT), str(bad), str(broken), str(tmp_path / "missing.yaml"))
    assert out.returncode == 1
    assert f"{bad}:7:10: error: duplicate sku 'CREAM-1'" in out.stdout.splitlines()
    assert f"{broken}:1:8: error: not UTF-8: byte 0xff cannot be decoded" in out.stdout.splitlines()
    assert f"{tmp_path / 'missing.yaml'}:1:1: error: cannot read: No such file or directory" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


@pytest.mark.parametrize("payload", [
    "a: " + "[" * 10_000, "\t\tbad: indent", "{{{{", "title: x\nsegments: !!binary aGVsbG8=\n", "\x00\x01",
])
def test_garbage_never_raises(payload: str) -> None:
    result = check_text(payload, "g")
    assert not result.ok and result.findings and result.findings[0].severity == "error"
