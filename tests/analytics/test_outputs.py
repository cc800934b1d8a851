"""Pseudonyms, CSV exports, flash-sale and lottery summaries."""

from __future__ import annotations

import csv
import io
import os
import stat
from pathlib import Path

import pytest

from livecompanion.analytics.exports import minutes_csv, segments_csv
from livecompanion.analytics.extras import CURVE_POINTS
from livecompanion.analytics.pseudonym import Pseudonymizer, default_pseudonymizer, install_key, mask_nickname
from tests.analytics.helpers import T0, ev, report, seg


def test_pseudonyms_are_keyed_and_stable() -> None:
    one, again, other = Pseudonymizer("k1"), Pseudonymizer(b"k1"), Pseudonymizer("k2")
    assert one("user42") == again("user42") != other("user42")
    assert one("user42") != one("user43")
    assert one("user42").startswith("v-") and len(one("user42")) == 14
    assert one(None) is None
    with pytest.raises(ValueError):
        Pseudonymizer("")
    assert mask_nickname("小林同學") == "小***" and mask_nickname(None) is None


def test_default_key_from_environment_else_a_private_install_key(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVECOMPANION_PSEUDONYM_KEY", "from-env")
    assert default_pseudonymizer()("u") == Pseudonymizer("from-env")("u")
    assert default_pseudonymizer("explicit")("u") == Pseudonymizer("explicit")("u")
    monkeypatch.delenv("LIVECOMPANION_PSEUDONYM_KEY")
    first = default_pseudonymizer(data_dir=tmp_path)("u")
    key_file = tmp_path / "pseudonym.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert default_pseudonymizer(data_dir=tmp_path)("u") == first  # the same key next time
    assert install_key(tmp_path) == key_file.read_bytes().strip()
    assert default_pseudonymizer(data_dir=tmp_path / "elsewhere")("u") != first  # another install


def test_csv_exports() -> None:
    r = report([ev("comment", 0, "a", text="x"), seg(30, "=cmd|' /C calc'!A0"), ev("enter", 40, "a"),
                ev("comment", 90, "a", text="y"), ev("leave", 0, "~nobody")])
    minutes = list(csv.reader(io.StringIO(minutes_csv(r))))
    assert minutes[0][0] == "minute (分鐘)"
    assert [row[3] for row in minutes[1:]] == ["0", "1"]  # users in the room at each minute's start
    assert minutes[1][-1] == ""  # no platform count: an empty cell
    segments = list(csv.reader(io.StringIO(segments_csv(r))))
    assert segments[1][0] == "(before first segment)"
    assert segments[2][0] == "'=cmd|' /C calc'!A0"  # never a spreadsheet formula
    gpm = segments[0].index("gpm (千次觀看成交金額)")
    assert segments[1][gpm] == "" and segments[2][gpm] == "0.0"


def _sale(**kw: object) -> dict[str, object]:
    claims = [{"ts": T0 + 3000, "user_id": "u2", "qty": 2, "rank": 2, "bonus": True},
              {"ts": T0 + 1000, "user_id": "u1", "qty": 1, "rank": 1, "bonus": True},
              {"ts": T0 + 9000, "user_id": "u3", "qty": 1, "rank": 3, "bonus": False}]
    return {"id": "fs1", "sku": "MASK-01", "price": "79.00", "stock": 4, "first_n": 2, "first_n_bonus": "立減",
            "started_at": T0, "claims": claims, **kw}


def test_flash_sale_summary() -> None:
    released = [{"ts": T0 + 2000, "user_id": "u9", "qty": 2, "status": "released"}]
    r = report([seg(0, "open"), seg(5, "close"), ev("comment", 60, "a", text="x")],
               flash_sales=[_sale(released_claims=released)])
    s = r["flash_sales"][0]
    assert s["released_units"] == 2  # given back: not in `sold`
    assert (s["sold"], s["sell_through"], s["buyers"], s["price"]) == (4, 1.0, 3, 79.0)
    assert s["sold_out_at"] == "2023-11-14T22:13:29+00:00" and s["seconds_to_sell_out"] == 9.0
    assert s["first_n_claimed"] == 3  # units claimed with the bonus
    assert s["curve"] == [[0.0, 0], [1.0, 1], [3.0, 3], [9.0, 4]]
    assert s["segment"] == "open"
    assert [b["rank"] for b in s["first_buyers"]] == [1, 2, 3]
    assert all(b["viewer"].startswith("v-") for b in s["first_buyers"])
    unsold = report([ev("comment", 0, "a", text="x")], flash_sales=[_sale(stock=1000, claims=[
        {"ts": T0 + i, "user_id": f"u{i}"} for i in range(500)])])["flash_sales"][0]
    assert unsold["sold_out_at"] is None and unsold["seconds_to_sell_out"] is None
    assert unsold["first_n_claimed"] == 2  # no bonus flags: the first N units
    assert len(unsold["curve"]) == CURVE_POINTS and unsold["curve"][-1] == [0.499, 500]


def test_a_sale_that_sold_out_stays_sold_out_when_cancels_give_units_back() -> None:
    # Stock 4: u1 takes 2 at 1 s, u2 2 at 2 s: stock reaches 0. u2 cancels at 6 s: 2 units go back.
    claims = [{"ts": T0 + 1000, "user_id": "u1", "qty": 2, "rank": 1, "bonus": True}]
    released = [{"ts": T0 + 2000, "user_id": "u2", "qty": 2, "rank": 3, "status": "released",
                 "released_at": T0 + 6000}]
    s = report([ev("comment", 60, "a", text="x")],
               flash_sales=[_sale(claims=claims, released_claims=released)])["flash_sales"][0]
    assert (s["sold"], s["sell_through"], s["peak_sold"]) == (2, 0.5, 4)
    assert s["sold_out"] and s["seconds_to_sell_out"] == 2.0  # from the start to the moment stock hit 0
    assert (s["released_units"], s["released_after_sell_out"]) == (2, 2)
    assert s["curve"] == [[0.0, 0], [1.0, 2], [2.0, 4], [6.0, 2]]  # units taken, given back included

    # A release before the stock ran out puts units back on sale: sold out only when taken again.
    claims = [{"ts": T0 + 2000, "user_id": "u2", "qty": 1}, {"ts": T0 + 4000, "user_id": "u3", "qty": 2},
              {"ts": T0 + 5000, "user_id": "u4", "qty": 1}]
    released = [{"ts": T0 + 1000, "user_id": "u1", "qty": 2, "released_at": T0 + 3000}]
    s = report([ev("comment", 60, "a", text="x")],
               flash_sales=[_sale(claims=claims, released_claims=released)])["flash_sales"][0]
    assert s["seconds_to_sell_out"] == 5.0 and s["released_after_sell_out"] == 0 and s["peak_sold"] == 4
    # A release at the same millisecond as a claim counts first: no sell-out read into the tie.
    claims = [{"ts": T0 + 2000, "user_id": "u2", "qty": 1}, {"ts": T0 + 5000, "user_id": "u3", "qty": 1}]
    released = [{"ts": T0 + 1000, "user_id": "u1", "qty": 2, "released_at": T0 + 5000}]
    s = report([ev("comment", 60, "a", text="x")],
               flash_sales=[_sale(claims=claims, released_claims=released)])["flash_sales"][0]
    assert s["seconds_to_sell_out"] is None and not s["sold_out"] and s["peak_sold"] == 3

    # Releases of unknown time cannot be placed: the service's own record of the moment decides.
    released = [{"ts": T0 + 2000, "user_id": "u2", "qty": 2, "status": "released"}]
    s = report([ev("comment", 60, "a", text="x")], flash_sales=[_sale(
        claims=[{"ts": T0 + 1000, "user_id": "u1", "qty": 2}], released_claims=released,
        sold_out_at=T0 + 2000)])["flash_sales"][0]
    assert s["sold_out"] and s["seconds_to_sell_out"] == 2.0 and s["released_units"] == 2
    assert s["released_after_sell_out"] == 0  # when they went back is unknown


def test_lottery_summary() -> None:
    r = report([seg(0, "open"), ev("comment", 60, "a", text="x")], lotteries=[{
        "id": "lt1", "keyword": "想要", "prize": "免單", "entrants": ["a", "b", "c"], "seed": "abc123",
        "entrants_digest": "d1g3st",
        "started_at": "2023-11-14T22:13:30+00:00", "drawn_at": T0 + 40_000,
        "winners": [{"user_id": "a", "nickname": "阿芳"}, "b"]}])
    lt = r["lotteries"][0]
    assert (lt["entrants"], lt["seed"], lt["winner_count"], lt["segment"]) == (3, "abc123", 2, "open")
    assert lt["entrants_digest"] == "d1g3st"
    assert lt["winners"][0]["nickname"] == "阿***" and lt["winners"][1]["nickname"] is None
    assert {w["viewer"] for w in lt["winners"]} == {Pseudonymizer("test-key")("a"), Pseudonymizer("test-key")("b")}
    assert lt["drawn_at"] == "2023-11-14T22:14:00+00:00"
