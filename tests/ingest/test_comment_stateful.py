"""SpamWindow, lottery keyword matching, the intent counter and the per-stream triage."""

from __future__ import annotations

import pytest

from livecompanion.ingest.comments import (
    CommentTriage,
    IntentCounter,
    KeywordMatcher,
    SpamWindow,
    matches_keyword,
)

AD = "家人们去看我主页好东西多多"


def test_spam_window_flags_the_same_text_from_many_users_within_seconds() -> None:
    window = SpamWindow(window_ms=10_000, min_users=4)
    verdicts = [window.observe("同一段很长的广告文字", f"bot{n}", 1_000 + n * 500) for n in range(6)]
    assert verdicts == [False, False, False, True, True, True]
    # Still flagged while copies keep coming; forgotten once the window has passed.
    assert window.observe("同一段很长的广告文字", "bot9", 12_000)
    assert not window.observe("同一段很长的广告文字", "bot10", 40_000)


def test_spam_window_ignores_one_user_repeating_slow_copies_and_short_texts() -> None:
    window = SpamWindow(window_ms=5_000, min_users=3)
    assert not any(window.observe("一位观众一直在说这句话", "same", t) for t in range(0, 10_000, 100))
    assert not any(window.observe("相隔很久的同一句话啊", f"u{n}", n * 6_000) for n in range(10))
    assert not any(window.observe("想要", f"u{n}", n) for n in range(100))  # shorter than min_length


def test_spam_window_memory_is_bounded() -> None:
    window = SpamWindow(window_ms=60_000, max_texts=100, max_users_per_text=8, min_users=4)
    for n in range(5_000):
        window.observe(f"不一样的评论内容编号{n}", f"u{n}", n)
    assert len(window) <= 100
    for n in range(1_000):
        window.observe("同一句话被很多人刷屏了", f"u{n}", 10_000 + n)
    assert max(len(s.users) for s in window._texts.values()) <= 8


def test_spam_window_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError):
        SpamWindow(window_ms=0)
    with pytest.raises(ValueError):
        SpamWindow(min_users=1)


@pytest.mark.parametrize(
    ("text", "entered"),
    [
        ("想要！！", True),
        ("想要想要", True),
        ("我想要", True),
        ("想要😍", True),
        ("想 要", True),
        ("想要吗", True),
        ("不想要", False),
        ("我不想要了", False),
        ("没想要", False),
        ("谁不想要", True),
        ("想", False),
        ("我要", False),
    ],
)
def test_lottery_keyword(text: str, entered: bool) -> None:
    assert matches_keyword(text, "想要") is entered
    assert matches_keyword(text, "想要！") is entered  # the keyword is normalised too


def test_lottery_keyword_in_traditional_and_digits() -> None:
    assert matches_keyword("評論抽獎", "评论")
    assert matches_keyword("扣1111", "扣1")
    assert KeywordMatcher("1").matches("11111")
    with pytest.raises(ValueError):
        KeywordMatcher("！！")


def test_intent_counter() -> None:
    counter = IntentCounter()
    counter.add(["想要"], 1)
    counter.add(["想要", "已拍"], 2)
    counter.add(["扣1"], 3)
    assert counter.counts() == {"想要": 2, "已拍": 1, "扣1": 1}
    assert [c.phrase for c in counter.top(2)] == ["想要", "扣1"]  # ties: the more recent first
    counter.reset(10)
    assert counter.counts() == {} and counter.since_ms == 10


def test_triage_files_questions_counts_intent_and_hides_spam() -> None:
    triage = CommentTriage(spam_window=SpamWindow(window_ms=10_000, min_users=3))
    triage.selling(True)  # a flash sale runs: 想要 is buying intent
    for n in range(40):
        triage.handle("想要想要想要", f"fan{n}", n)  # many identical intents: the room, not a flood
    first = triage.handle("這款面膜適合油性皮膚嗎", "u1", 100)
    second = triage.handle("适合油性皮肤吗？？", "u2", 200)
    assert first.question_group == second.question_group is not None
    assert triage.questions.get(first.question_group).text == "這款面膜適合油性皮膚嗎"  # as asked, not folded
    how = triage.handle("怎么买", "u3", 300)
    assert how.analysis.kind == "question"
    assert triage.intents.counts() == {"想要": 40, "求链接": 1}

    assert triage.handle("加V：abc12345 领福利", "spammer", 400).analysis.spam_reason == "private account"
    # Self-promotion without a link or handle is spam from the first copy on.
    verdicts = [triage.handle(AD, f"bot{n}", 500 + n).analysis for n in range(4)]
    assert [v.spam_reason for v in verdicts] == ["advertising"] * 4
    # One question copied by many viewers (跟評) is not a flood: it is counted, once per viewer.
    copied = [triage.handle("请问这个面膜到底什么时候发货呢", f"fan{n}", 900 + n) for n in range(6)]
    assert {c.analysis.kind for c in copied} == {"question"}
    top = triage.questions.top(5)
    assert all("加v" not in g.text and "主页" not in g.text for g in top)
    assert [g.count for g in top if "发货" in g.text] == [6]


def test_a_short_text_from_many_viewers_is_a_chant_not_spam() -> None:
    triage = CommentTriage()
    results = [triage.handle("评论抽免单啦", f"fan{n}", n) for n in range(20)]
    assert [bool(r.chant) for r in results] == [False, False] + [True] * 18
    assert {r.analysis.kind for r in results} == {"chitchat"}  # a chant is the room, not spam


def test_chants_are_recognised_and_collapsed() -> None:
    triage = CommentTriage()
    # Recorded in a Douyu room (Joxos/dytools danmu.csv): six viewers in twelve seconds.
    for n, ts in enumerate((0, 1_400, 2_200, 6_000, 7_400, 12_000)):
        triage.handle("🤣👉🤡🤣👉🤡🤣👉🤡", f"viewer{n}", ts)
    for n in range(4):
        triage.handle("nb", f"fan{n}", 20_000 + n * 500)
    assert triage.chants() == [("🤣👉🤡🤣👉🤡🤣👉🤡", 4), ("nb", 2)]
    # A question from many viewers is not a chant: the board counts it (once per viewer). ("你会打篮球么"
    # from six viewers, recorded in a Douyu room, is a meme chant: labelled chat, and the shipped
    # question model reads it so.)
    for n in range(5):
        assert triage.handle("主播在哪里直播", f"q{n}", 30_000 + n).chant is None
    assert triage.questions.top()[0].count == 5
    # The same words from two viewers a minute apart are no chant.
    assert triage.handle("nb", "late", 200_000).chant is None


def test_slang_is_intent_only_while_selling_or_naming_a_product() -> None:
    triage = CommentTriage()
    assert triage.handle("冲冲冲", "u1", 0).analysis.kind == "chitchat"
    triage.products(["玻尿酸補水面膜 10片", "MASK-01"])
    assert triage.handle("面膜冲冲冲", "u2", 1).analysis.kind == "intent"
    assert triage.handle("冲冲冲", "u3", 2).analysis.kind == "chitchat"
    triage.selling(True)
    assert triage.handle("冲冲冲", "u4", 3).analysis.kind == "intent"
    assert triage.intents.counts() == {"上车": 2}


def test_replies_and_long_emoji_strings_chant_too() -> None:
    """Recorded Douyu chants (Joxos/dytools danmu.csv): "@想换小鱼干：前方高能" chants 前方高能 with the
    others, and a 19-character emoji string from three viewers is one chant of its three emoji."""
    triage = CommentTriage()
    results = [triage.handle(text, f"v{n}", 1_000 + n * 500)
               for n, text in enumerate(["前方高能", "前方高能", " @想换小鱼干：前方高能"])]
    assert [r.chant for r in results] == [None, None, "前方高能"]
    clown = "🤣👉🤡" * 6 + "🤣"
    assert [triage.handle(clown, f"c{n}", 5_000 + n).chant for n in range(3)] == [None, None, "🤣👉🤡"]
    assert triage.handle("@某人 你好呀朋友们大家晚上好", "solo", 9_000).chant is None


def test_a_link_number_the_show_has_is_a_selling_context() -> None:
    triage = CommentTriage()
    triage.products(["保溫杯", "CUP-02"], links=12)
    texts = ["2号来一单", "链接12要了", "12号链接拿下", "13号来一单", "3号发货来一单", "链接123拿下"]
    kinds = {text: triage.handle(text, f"u{n}", n).analysis.kind for n, text in enumerate(texts)}
    assert kinds == {"2号来一单": "intent", "链接12要了": "intent", "12号链接拿下": "intent",
                     "13号来一单": "chitchat", "3号发货来一单": "chitchat", "链接123拿下": "chitchat"}


def test_long_copy_paste_from_many_accounts_is_a_flood() -> None:
    triage = CommentTriage(spam_window=SpamWindow(window_ms=10_000, min_users=3))
    text = "主播是骗子大家千万别买这个东西"
    kinds = [triage.handle(text, f"bot{n}", n).analysis for n in range(5)]
    assert [k.kind for k in kinds] == ["chitchat", "chitchat", "spam", "spam", "spam"]
    assert kinds[-1].spam_reason == "flood"


def test_a_flash_sale_and_an_explain_each_end_only_what_they_started() -> None:
    """Issue 18: the room sells while a product is explained, orders come in or a flash sale runs;
    each reason ends on its own, so a sale ending leaves a 講解 still running, and the other way."""
    triage = CommentTriage()

    def intent(text: str, ts: int) -> bool:
        return triage.handle(text, f"viewer{ts}", ts * 20_000).analysis.kind == "intent"

    assert not intent("扣1", 0)  # nothing sells: a poll's 扣1, not buying
    triage.sales(["s1"])  # a flash sale starts
    assert intent("扣1", 1)
    triage.selling(True, "explain")  # the host explains a product during the sale
    triage.sales([])  # the sale sells out: the explain still runs
    assert intent("想要", 2)
    triage.sales(["s1"])  # units came back (a claim released): it sells again
    triage.selling(False, "explain")  # the explain stops: the sale still runs
    assert intent("冲冲冲", 3)
    triage.sales(["s2"])  # s1 ended, another sale runs
    assert intent("扣1", 4)
    triage.sales([])
    assert not intent("扣1", 5) and not triage.in_context
    # Orders keep the room selling until an explain stops (the host moved on), never a sale's end.
    triage.selling(True, "orders")
    triage.sales(["s3"])
    triage.sales([])
    assert intent("想要", 6)
    triage.selling(True, "explain")
    triage.selling(False, "explain")
    assert not intent("想要", 7)
    assert triage.intents.counts() == {"扣1": 2, "想要": 2, "上车": 1}


def test_explain_stop_does_not_end_a_given_context() -> None:
    triage = CommentTriage()
    triage.selling(True)  # `livecompanion comments --selling`
    triage.selling(True, "explain")
    triage.selling(False, "explain")
    assert triage.in_context and triage.handle("扣1", "u", 1).analysis.kind == "intent"
