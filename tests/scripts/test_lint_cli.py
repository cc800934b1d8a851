"""`livecompanion lint FILE...` as contract section 3 says: line format, exit 0/1/2, both levels."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

LINE = re.compile(
    r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): warning\[(?P<rule>ad-law(?:-risk)?)\]: '(?P<term>[^']+)': .+$"
)


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "livecompanion", "lint", *args], check=False, capture_output=True,
                          text=True, input=stdin, timeout=60)


def test_findings_exit_1_with_file_line_column_and_term(tmp_path: Path) -> None:
    copy = tmp_path / "話術.txt"
    copy.write_text("家人們晚上好\n這款是全網最低價，絕對划算\n百分百的純棉面料\n", "utf-8")
    done = run(str(copy))
    assert done.returncode == 1, done.stderr
    found = [LINE.match(line) for line in done.stdout.splitlines()]
    assert all(found), done.stdout
    assert [(m["file"], m["line"], m["col"], m["rule"], m["term"]) for m in found if m] == [
        (str(copy), "2", "4", "ad-law", "全網最低價"),
        (str(copy), "2", "10", "ad-law-risk", "絕對"),
    ]


def test_no_risk_leaves_risks_out_and_clean_text_exits_0(tmp_path: Path) -> None:
    risky, clean = tmp_path / "a.txt", tmp_path / "b.txt"
    risky.write_text("这件绝对是秋季首选\n", "utf-8")
    clean.write_text("最重要的是面料，100%棉\n第一就是包臀设计\n", "utf-8")
    assert run("--no-risk", str(risky)).returncode == 0
    assert run(str(risky)).returncode == 1
    done = run(str(clean))
    assert (done.returncode, done.stdout) == (0, "")


def test_unreadable_file_exits_2_and_still_lints_the_others(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("全球首款\n", "utf-8")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    done = run(str(good), str(tmp_path / "missing.txt"), str(binary))
    assert done.returncode == 2
    assert "全球首款" in done.stdout
    assert "missing.txt: error: cannot read" in done.stderr and "bin.txt: error: cannot read" in done.stderr


def test_stdin_and_extra_terms(tmp_path: Path) -> None:
    extra = tmp_path / "team.yaml"
    extra.write_text("version: 1\nterms:\n  - term: 爆款\n    category: absolute\n    reason: 团队用语规范\n", "utf-8")
    done = run("--terms", str(extra), "-", stdin="今晚的爆款来了\n")
    assert done.returncode == 1 and "-:1:4: warning[ad-law]: '爆款': 团队用语规范" in done.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text("terms: [", "utf-8")
    assert run("--terms", str(broken), "-", stdin="好\n").returncode == 2
