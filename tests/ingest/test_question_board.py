"""QuestionBoard: near-duplicates group, counts are per viewer, ranking, and memory stays bounded."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from livecompanion.ingest.comments import QuestionBoard, question_key


def test_the_brief_example_groups_into_one() -> None:
    board = QuestionBoard()
    a = board.add("這款面膜適合油性皮膚嗎", "u1", 1_000)
    b = board.add("这款面膜适合油性皮肤吗？？", "u2", 2_000)
    c = board.add("適合油性皮膚嗎", "u3", 3_000)
    d = board.add("油皮能用吗", "u4", 4_000)
    assert a.id == b.id == c.id == d.id
    group = board.top(1)[0]
    assert group.text == "這款面膜適合油性皮膚嗎"  # as first asked
    assert (group.count, group.asks, group.first_seen_ms, group.last_seen_ms) == (4, 4, 1_000, 4_000)


def test_different_questions_stay_apart() -> None:
    board = QuestionBoard()
    oily = board.add("油皮能用吗", "u1", 1)
    dry = board.add("干皮能用吗", "u2", 2)
    essence_price = board.add("精华多少钱", "u3", 3)
    mask_price = board.add("面膜多少钱", "u4", 4)
    pregnant = board.add("孕妇可以用吗", "u5", 5)
    assert len({oily.id, dry.id, essence_price.id, mask_price.id, pregnant.id}) == 5
    # ... while paraphrases join: a bare price question goes with the product being asked about.
    assert board.add("面膜多少米？", "u6", 6).id == mask_price.id
    assert board.add("油性皮肤适合吗", "u8", 8).id == oily.id


def test_question_key_drops_fillers_and_unifies_paraphrases() -> None:
    assert question_key("请问主播这个多少钱呀？") == question_key("啥价格")
    assert question_key("幾天發貨") == question_key("什么时候发货")
    assert question_key("包邮不") == question_key("包邮吗")


def test_a_viewer_asking_again_counts_once() -> None:
    board = QuestionBoard()
    for ts in range(5):
        group = board.add("什么时候发货", "same-viewer", ts)
    assert (group.count, group.asks) == (1, 5)
    anonymous = board.add("什么时候发货", None, 10)
    assert anonymous.count == 2


def test_top_orders_by_count_then_recency_and_filters_recent() -> None:
    board = QuestionBoard()
    for n in range(3):
        board.add("包邮吗", f"a{n}", 100 + n)
    board.add("保质期多久", "b0", 200)
    board.add("敷多久", "c0", 300)
    board.add("敷多久", "c1", 301)
    board.add("是正品吗", "d0", 400)
    board.add("是正品吗", "d1", 401)
    texts = [g.text for g in board.top(4)]
    assert texts == ["包邮吗", "是正品吗", "敷多久", "保质期多久"]
    assert [g.text for g in board.top(10, since_ms=300)] == ["是正品吗", "敷多久"]


def test_dismissed_question_starts_afresh() -> None:
    board = QuestionBoard()
    first = board.add("包邮吗", "u1", 1)
    assert board.dismiss(first.id)
    assert board.get(first.id) is None
    again = board.add("包邮吗", "u2", 2)
    assert again.id != first.id and again.count == 1
    assert not board.dismiss(9999)


def test_memory_is_bounded_and_popular_questions_survive() -> None:
    board = QuestionBoard(max_groups=20, half_life_ms=60_000)
    for n in range(30):
        board.add("这款面膜适合油性皮肤吗", f"fan{n}", n)
    rng = random.Random(7)
    for n in range(2_000):  # a 3-hour stream of one-off questions, each unlike the others
        words = "".join(chr(0x4E00 + rng.randrange(20_000)) for _ in range(4))
        board.add(f"{words}吗", f"viewer{n}", 1_000 + n)
    assert 18 <= len(board) <= 20  # a tenth is evicted at once when full
    assert board.top(1)[0].text == "这款面膜适合油性皮肤吗"
    assert len(board._variants) <= 20 * 4  # no phrasing outlives its group
    for holders in board._index.values():
        assert holders <= set(board._variants)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet="油干皮能用吗多少钱包邮发货几天孕妇?？a1 ", min_size=1, max_size=12), max_size=80
    )
)
def test_invariants_hold_for_any_stream(texts: list[str]) -> None:
    board = QuestionBoard(max_groups=7, max_variants=2)
    for n, text in enumerate(texts):
        group = board.add(text, f"u{n % 5}", n)
        assert board.get(group.id) == group
        assert len(board) <= 7
    for vid in board._by_key.values():
        assert board._variants[vid].gid in board._groups
    assert sum(len(g.variants) for g in board._groups.values()) == len(board._variants)
    for holders in board._index.values():
        assert holders and holders <= set(board._variants)
