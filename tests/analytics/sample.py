"""A small realistic stream for the dashboard and CLI tests: a script, a seeded event log of about
35 minutes, a flash sale and a lottery as the service records them."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

START = 1_730_548_800_000  # 2024-11-02 20:00 in Asia/Shanghai

SCRIPT_YAML = """\
title: 秋冬補水專場 <b>不是粗體</b>
host: 小林
timezone: Asia/Shanghai
targets:
  gmv: 5000
  viewer_uv: 150
  click_conversion_rate: 0.08
products:
  - sku: MASK-01
    name: 玻尿酸補水面膜 10片
    list_price: 199
    live_price: 99
  - sku: SERUM-02
    name: 精華液 30ml
    list_price: 299
    live_price: 159
segments:
  - id: open
    kind: opening
    title: 開場
    target: 5-10m
  - id: mask
    kind: product
    title: 面膜講解
    target: 8m
    product: MASK-01
  - id: mask-value
    kind: value
    title: 使用對比
    target: 5-8m
  - id: mask-close
    kind: closing
    title: 面膜促單
    target: 5m
    product: MASK-01
  - id: serum
    kind: product
    title: 精華講解 <script>alert(1)</script>
    target: 6m
    product: SERUM-02
  - id: bye
    kind: wrapup
    title: 收尾
    target: 3-5m
"""

# (segment id, minutes it ran, buying mood 0..1)
PLAN = [("open", 6, 0.1), ("mask", 9, 0.5), ("mask-value", 6, 0.4), ("mask-close", 5, 1.0),
        ("serum", 6, 0.05), ("bye", 3, 0.2)]
QUESTIONS = ["這款適合油皮嗎？", "适合油性皮肤吗", "多少錢", "什麼時候發貨？", "敏感肌可以用嗎", "孕婦能用嗎",
             "包郵嗎？<b>急</b>"]  # markup from chat: shown as text (test_dashboard)
CHATTER = ["主播好", "來了來了", "好看", "想要", "扣1", "666", "<img src=x onerror=alert(1)>"]


def sample_events(seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    n = 0

    def add(**ev: Any) -> None:
        nonlocal n
        n += 1
        events.append({"id": f"ev{n}", **ev})

    in_room: set[str] = set()
    t = START
    order_n = 0
    for seg_id, minutes, mood in PLAN:
        add(type="segment", segment=seg_id, ts=t)
        end = t + minutes * 60_000
        while t < end:
            t += rng.randint(200, 1400)
            user = f"user{rng.randint(1, 400)}"
            r = rng.random()
            if r >= 0.28 and in_room and rng.random() < 0.9:  # mostly people in the room act
                user = rng.choice(sorted(in_room))
            if r < 0.12:
                add(type="impression", user_id=user, ts=t)
            elif r < 0.22 and user not in in_room:
                in_room.add(user)
                add(type="enter", user_id=user, nickname=f"小{user[4:]}", ts=t)
            elif r < 0.28 and in_room:
                gone = rng.choice(sorted(in_room))
                in_room.discard(gone)
                add(type="leave", user_id=gone, ts=t)
            elif r < 0.50:
                text = rng.choice(QUESTIONS) if rng.random() < 0.35 else rng.choice(CHATTER)
                add(type="comment", user_id=user, nickname=f"小{user[4:]}", text=text, ts=t)
            elif r < 0.62:
                add(type="like", user_id=user, count=rng.randint(1, 9), ts=t)
            elif r < 0.72:
                add(type="product_impression", user_id=user, sku="MASK-01" if seg_id != "serum" else "SERUM-02",
                    ts=t)
            elif r < 0.72 + 0.08 * (0.3 + mood):
                add(type="product_click", user_id=user, sku="MASK-01" if seg_id != "serum" else "SERUM-02", ts=t)
            elif r < 0.86 + 0.05 * mood:
                add(type="follow" if rng.random() < 0.5 else "share", user_id=user, ts=t)
            elif rng.random() < mood * 0.3:
                order_n += 1
                sku = "SERUM-02" if seg_id == "serum" else "MASK-01"
                price = 159 if sku == "SERUM-02" else 99
                qty = rng.randint(1, 2)
                oid = f"o{order_n}"
                add(type="order", user_id=user, order_id=oid, sku=sku, qty=qty, amount=price * qty,
                    status="created", ts=t)
                add(type="order", user_id=user, order_id=oid, sku=sku, qty=qty, amount=price * qty,
                    status="paid", ts=t + 3000)
                if rng.random() < 0.1:
                    add(type="order", user_id=user, order_id=oid, sku=sku, qty=qty, amount=price * qty,
                        status="refunded", ts=t + 90_000)
            if rng.random() < 0.05:
                add(type="viewer_count", count=len(in_room) * 3 + rng.randint(0, 20), ts=t)
        t = end
    add(type="comment", user_id="user1", text="謝謝主播，下次見", ts=t)
    return events


def sample_flash_sales() -> list[dict[str, Any]]:
    start = START + 27 * 60_000  # in mask-close
    claims = [{"ts": start + 1500 + i * 700, "user_id": f"user{10 + i}", "qty": 1, "rank": i + 1, "bonus": i < 20}
              for i in range(50)]
    return [{"id": "fs1", "sku": "MASK-01", "price": 79, "stock": 50, "first_n": 20, "first_n_bonus": "立減20元",
             "started_at": start, "ends_at": start + 300_000, "claims": claims}]


def sample_lotteries() -> list[dict[str, Any]]:
    return [{"id": "lt1", "keyword": "想要", "prize": "免單 <i>free</i>", "winner_count": 2, "entrants": 87,
             "seed": "9f2c4e1ab07d", "started_at": START + 22 * 60_000, "drawn_at": START + 24 * 60_000,
             "winners": [{"user_id": "user42", "nickname": "阿芳"}, {"user_id": "user7", "nickname": "小林同學"}]}]


def write_script(dir: Path) -> Path:
    path = dir / "script.yaml"
    path.write_text(SCRIPT_YAML, encoding="utf-8")
    return path
