"""`livecompanion comments FILE` as contract section 3 says: one NDJSON line per comment, in order."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "livecompanion", "comments", *args], check=False, capture_output=True,
                          text=True, timeout=60)


def test_plain_text_one_comment_a_line(tmp_path: Path) -> None:
    chat = tmp_path / "chat.txt"
    chat.write_text("這款適合油皮嗎\n\n油皮能用吗？\n几号链接\n加薇 看主页\n主播好美\n扣1\n", "utf-8")
    done = run(str(chat))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["這款適合油皮嗎", "油皮能用吗？", "几号链接", "加薇 看主页", "主播好美", "扣1"]
    assert [r["kind"] for r in rows] == ["question", "question", "question", "spam", "chat", "chat"]
    assert rows[0]["group"] == rows[1]["group"] is not None and rows[2]["group"] != rows[0]["group"]
    assert all(set(r) == {"text", "kind", "group"} for r in rows)
    assert [r["group"] for r in rows[3:]] == [None, None, None]


def test_selling_room_and_products(tmp_path: Path) -> None:
    chat = tmp_path / "chat.txt"
    chat.write_text("扣1\n面膜冲冲冲\n冲冲冲\n", "utf-8")
    assert [json.loads(line)["kind"] for line in run("--selling", str(chat)).stdout.splitlines()] == [
        "intent", "intent", "intent"]
    named = run("--product", "玻尿酸補水面膜 10片", str(chat)).stdout.splitlines()
    assert [json.loads(line)["kind"] for line in named] == ["chat", "intent", "chat"]


def test_the_scripts_products_and_link_numbers(tmp_path: Path) -> None:
    script = tmp_path / "show.yaml"
    script.write_text(
        "title: t\nsegments:\n  - kind: opening\n    target: 5m\nproducts:\n"
        "  - sku: MASK-01\n    name: 玻尿酸補水面膜 10片\n  - sku: CUP-02\n    name: 保溫杯\n", "utf-8")
    chat = tmp_path / "chat.txt"
    chat.write_text("保温杯来一单\n2号来一单\n3号来一单\ncup-02 拿下\n冲冲冲\n", "utf-8")
    done = run("--script", str(script), str(chat))
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["kind"] for line in done.stdout.splitlines()] == [
        "intent", "intent", "chat", "intent", "chat"]
    broken = tmp_path / "broken.yaml"
    broken.write_text("title: [\n", "utf-8")
    failed = run("--script", str(broken), str(chat))
    assert failed.returncode == 2 and "broken.yaml" in failed.stderr and not failed.stdout


def test_ndjson_with_times_finds_chants_and_reports_bad_lines(tmp_path: Path) -> None:
    lines = [json.dumps({"text": "前方高能", "user_id": f"v{n}", "ts": 1_000 + n * 700}, ensure_ascii=False)
             for n in range(4)]
    lines.insert(2, "{not json")
    lines.append(json.dumps({"comment": "no text"}))
    feed = tmp_path / "feed.ndjson"
    feed.write_text("\n".join(lines) + "\n", "utf-8")
    done = run(str(feed))
    assert done.returncode == 0
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r.get("chant") for r in rows] == [None, None, "前方高能", "前方高能"]
    assert f"{feed}:3: error: not JSON" in done.stderr and f"{feed}:6: error: a JSON line needs" in done.stderr


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    done = run(str(tmp_path / "missing.txt"))
    assert done.returncode == 2 and "cannot read" in done.stderr
