"""The advertising-law lint on real-looking host lines, the term data, and extra terms files."""

from __future__ import annotations

import dataclasses
import itertools
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from livecompanion.scripts.adlaw import (
    BUILTIN_TERMS_FILE,
    CATEGORIES,
    AdLawHit,
    AdLawTermsError,
    find_ad_law_terms,
)
from livecompanion.textnorm import fold, to_simplified

A, S, E, X, P = "absolute", "state-endorsement", "efficacy", "anxiety", "price"

# (host line, [(quoted term, category), ...] in order). Traditional and simplified on purpose.
HOST_LINES: list[tuple[str, list[tuple[str, str]]]] = [
    # ---- ordinary talk that must stay quiet
    ("家人們晚上好，這是我第一次直播，大家多多關照", []),
    ("最近天氣乾燥，皮膚特別容易缺水", []),
    ("最後三分鐘，還沒下單的家人們抓緊了", []),
    ("家人們第一批下單的，我們第一時間安排發貨", []),
    ("每人最多買兩件，最少也要買一盒才包郵", []),
    ("第一名拍下的家人送一個化妝包", []),
    ("这款衣服100%纯棉，穿着特别舒服", []),
    ("最高立減50元，最低只要59元", []),
    ("最新款的羽絨服，最小碼也有貨", []),
    ("家人們，最終解釋權歸商家所有", []),
    ("我们是电商专供款，和线下不一样", []),
    ("把链接放在最上面了，大家点最上面的链接", []),
    ("早晚各一次，美白精华要坚持用", [("美白", E)]),  # a risk (ad-law-risk): special cosmetics need registration
    ("這是今年最後一波福利了", []),
    ("今天第一天開播，我們第一個鏈接是面膜", []),
    ("最快明天發貨，最遲後天", []),
    ("最好不要用太烫的水洗脸，最好用温水", []),
    ("独特供应链，所以价格才这么低", []),
    ("确保本次活动公平公正，统一流程按顺序下单", []),
    ("最佳賞味期是三個月，收到先放冰箱", []),
    ("我最後悔的就是沒早點用", []),
    # ---- absolute terms
    ("今天是唯一一次這個價格，錯過就沒有了", [("唯一", A)]),
    ("这是我用过最好用的一款洗面奶", [("最好用", A)]),
    ("銷量第一，行業領先的品牌", [("銷量第一", A), ("行業領先", A)]),
    ("這款是我們家的王牌產品，銷量冠軍", [("王牌", A), ("銷量冠軍", A)]),
    ("我个人最喜欢这个颜色", [("最喜欢", A)]),
    ("100%正品保證，假一賠十", [("100%", A)]),
    ("直播间独家福利，只有今天有", [("独家", A)]),
    ("這個顏色最顯白，黃皮也能穿", [("最顯白", A)]),
    ("今天的福利力度是史無前例的", [("史無前例", A)]),
    ("我們家是中國馳名商標", [("中國馳名商標", A)]),
    ("銷量第1的爆款，NO.1的口碑", [("銷量第1", A), ("NO.1", A)]),
    ("这是最多人选的颜色，顶级面料", [("最多人", A), ("顶级", A)]),
    ("用了它，别的牌子都被吊打", [("吊打", A)]),
    # ---- state organs and the army as endorsement
    ("我們這個是國家級實驗室研發，國宴指定用品", [("國家級", A), ("國宴", S)]),
    ("以前是部队专用的，现在特供给直播间", [("部队专用", S), ("特供", S)]),
    ("這個茶葉是領導人同款，央視推薦過", [("領導人同款", S), ("央視推薦", S)]),
    # ---- efficacy guarantees
    ("這款精華7天見效，絕對沒有任何副作用", [("7天見效", E), ("絕對", A), ("沒有任何副作用", E)]),
    ("喝了能根治胃病，藥到病除", [("根治胃病", E), ("藥到病除", E)]),  # the whole claim (fifth session)
    ("一周瘦十斤，躺著就能瘦", [("一周瘦十斤", E), ("躺著就能瘦", E)]),
    ("这个能增强免疫力，还可以降血压", [("增强免疫力", E), ("降血压", E)]),
    ("用了三天就白了一度，保證美白，無效退款", [("三天就白了", E), ("保證美白", E), ("無效退款", E)]),
    ("坚持用一个疗程，保证有效，永不反弹", [("疗程", E), ("保证有效", E), ("永不反弹", E)]),
    # ---- anxiety
    ("再不保養就晚了，三十歲就成黃臉婆了", [("再不保養就晚了", X), ("黃臉婆", X)]),
    ("很多姐妹说用了别的牌子烂脸", [("烂脸", X)]),
    ("不買後悔一輩子，這個價格錯過就沒了", [("不買後悔", X)]),
    # ---- price
    ("這款面膜是全網最低價，真的是最便宜的", [("全網最低價", P), ("最便宜", A)]),
    ("跳樓價清倉，虧本賣了", [("跳樓價", P), ("虧本", P)]),
    ("出厂价直接给到大家，一分钱不赚", [("出厂价", P), ("一分钱不赚", P)]),
    # ---- mixed
    ("我們是No.10號色，TOP1的爆款，number one", [("TOP1", A), ("number one", A)]),
    ("一周淡斑，7天美白，韓國禮盒裝", [("一周淡斑", E), ("7天美白", E)]),
    ("這款是第一品牌，銷量第一名", [("第一", A), ("銷量第一", A)]),
    ("錯過今天再等一年，再不買就沒了", []),
]


def _expected_hits(text: str, expected: list[tuple[str, str]]) -> list[tuple[str, int, int, str]]:
    out, pos = [], 0
    for term, category in expected:
        start = text.index(term, pos)
        out.append((term, start, start + len(term), category))
        pos = start + len(term)
    return out


@pytest.mark.parametrize(("text", "expected"), HOST_LINES, ids=[t for t, _ in HOST_LINES])
def test_host_lines(text: str, expected: list[tuple[str, str]]) -> None:
    hits = find_ad_law_terms(text)
    assert [(h.term, h.start, h.end, h.category) for h in hits] == _expected_hits(text, expected)
    assert all(h.reason for h in hits)


def test_there_are_enough_host_lines() -> None:
    assert len(HOST_LINES) >= 30
    assert sum(1 for _, e in HOST_LINES if e) >= 15 and sum(1 for _, e in HOST_LINES if not e) >= 15


@pytest.mark.parametrize(("traditional", "simplified"), [
    ("國家級品質，銷量冠軍", "国家级品质，销量冠军"),
    ("這款最優惠，藥到病除", "这款最优惠，药到病除"),
    ("絕對無副作用，全網最低", "绝对无副作用，全网最低"),
])
def test_traditional_and_simplified_give_the_same_hits(traditional: str, simplified: str) -> None:
    trad = find_ad_law_terms(traditional)
    simp = find_ad_law_terms(simplified)
    spans = [(h.start, h.end, h.category) for h in trad]
    assert spans and spans == [(h.start, h.end, h.category) for h in simp]
    assert [h.term for h in trad] == [traditional[h.start:h.end] for h in trad]  # quotes what was written


def test_full_width_input_is_matched_and_quoted_as_written() -> None:
    text = "ＮＯ．１的品質，１００％有效，７天見效"
    hits = find_ad_law_terms(text)
    assert [(h.term, h.category) for h in hits] == [("ＮＯ．１", A), ("１００％有效", E), ("７天見效", E)]
    assert [(h.start, h.end) for h in hits] == [(0, 4), (8, 14), (15, 19)]


def test_offsets_point_at_the_original_characters() -> None:
    text = "🔥🔥家人們！最便宜的在這裡，國家級！"
    hits = find_ad_law_terms(text)
    assert [(h.term, h.start, h.end) for h in hits] == [("最便宜", 6, 9), ("國家級", 14, 17)]
    assert all(text[h.start:h.end] == h.term for h in hits)


def test_longest_match_wins_and_hits_never_overlap() -> None:
    assert [h.term for h in find_ad_law_terms("全網最低")] == ["全網最低"]  # not also 最低 / 最
    assert [h.term for h in find_ad_law_terms("史上最低價")] == ["史上最低價"]
    assert [h.term for h in find_ad_law_terms("钓鱼台国宾馆")] == ["钓鱼台国宾馆"]  # not also 国宾
    # A pattern hit and a term hit overlap: the longer one (the pattern here) is kept.
    assert [h.term for h in find_ad_law_terms("一次見效")] == ["一次見效"]
    assert [h.term for h in find_ad_law_terms("零副作用")] == ["零副作用"]


def test_single_character_zui_only_flags_a_claim() -> None:
    quiet = ["最近", "最後", "最終", "最初", "最多買兩件", "最少", "最起碼", "最遲明天", "最好不要熬夜",
             "最好先做皮試", "最大碼", "最新款", "最上面", "最", "最。", "最 好"]
    for text in quiet:
        assert find_ad_law_terms(text) == [], text
    assert [h.term for h in find_ad_law_terms("最強")] == ["最強"]
    assert [h.term for h in find_ad_law_terms("最受歡迎的款")] == ["最受歡迎"]
    assert [h.term for h in find_ad_law_terms("最划算了")] == ["最划算"]
    # Not in the continuation list: still flagged, quoting 最 and the next character.
    assert [h.term for h in find_ad_law_terms("最潤了")] == ["最潤"]
    assert [h.term for h in find_ad_law_terms("這個最in")] == ["最i"]
    # Longer beats the allow word: 最快 is allowed only before a delivery day.
    assert [h.term for h in find_ad_law_terms("最快見效")] == ["最快"]
    assert find_ad_law_terms("最快明天到") == []


def test_each_category_is_represented() -> None:
    text = "最佳，国家机关推荐，根治，黄脸婆，全网最低"
    assert [h.category for h in find_ad_law_terms(text)] == [A, S, E, X, P]


def test_empty_text_and_hit_is_frozen() -> None:
    assert find_ad_law_terms("") == []
    hit = find_ad_law_terms("最佳")[0]
    assert hit == AdLawHit("最佳", 0, 2, A, hit.reason) and "第九条" in hit.reason
    with pytest.raises(dataclasses.FrozenInstanceError):
        hit.term = "x"  # type: ignore[misc]


# ------------------------------------------------------------------------------ the built-in data


def _builtin_entries() -> list[dict]:
    return yaml.safe_load(BUILTIN_TERMS_FILE.read_text(encoding="utf-8"))["terms"]


def _terms(entry: dict) -> list[str]:
    return entry["term"] if isinstance(entry["term"], list) else [entry["term"]]


def test_every_builtin_term_flags_itself_and_every_allow_word_is_quiet() -> None:
    entries = [e for e in _builtin_entries() if "term" in e]
    assert sum(len(_terms(e)) for e in entries) >= 250
    for entry in entries:
        for term in _terms(entry):
            words = [term + c for c in entry.get("continuations", [])] if entry.get("prefix") else [term]
            for word in words:
                hits = find_ad_law_terms(word)
                assert [(h.term, h.category) for h in hits] == [(word, entry["category"])], word
        for word in entry.get("allow", []):
            assert [h for h in find_ad_law_terms(word) if set(_terms(entry)) & {fold(h.term)}] == [], word


def test_builtin_categories_and_reasons() -> None:
    for entry in _builtin_entries():
        assert entry["category"] in CATEGORIES
        assert "第" in entry["reason"] and "条" in entry["reason"], entry["reason"]  # cites an article


# ------------------------------------------------------------------------------ extra terms files


def _write(tmp_path: Path, text: str, name: str = "extra.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_extra_file_adds_replaces_and_disables(tmp_path: Path) -> None:
    extra = _write(tmp_path, """
version: 1
terms:
  - term: 神器                      # a team's own term, written in traditional below
    category: absolute
    reason: 团队规则：避免夸大
    allow: [神器库]
  - term: 独家                      # replace the built-in reason
    category: price
    reason: 团队规则：改说“直播间专属”
  - term: 唯一                      # switch a built-in term off
    enabled: false
  - pattern: '[0-9]+倍补水'
    category: efficacy
    reason: 团队规则：倍数须有检测报告
""")
    text = "補水神器！獨家價，唯一一次，3倍補水，神器庫"
    hits = find_ad_law_terms(text, extra_terms_file=extra)
    assert [(h.term, h.category, h.reason) for h in hits] == [
        ("神器", A, "团队规则：避免夸大"),
        ("獨家", P, "团队规则：改说“直播间专属”"),
        ("3倍補水", E, "团队规则：倍数须有检测报告"),
    ]
    # The built-in list is untouched for callers without the extra file.
    assert [h.term for h in find_ad_law_terms(text)] == ["獨家", "唯一"]


def test_extra_file_is_reloaded_when_it_changes(tmp_path: Path) -> None:
    extra = _write(tmp_path, "terms:\n  - {term: 神器, category: absolute, reason: 团队规则}\n")
    assert [h.term for h in find_ad_law_terms("神器爆款", extra)] == ["神器"]
    extra.write_text("terms:\n  - {term: 爆款, category: absolute, reason: 团队规则}\n", encoding="utf-8")
    stat = extra.stat()
    os.utime(extra, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert [h.term for h in find_ad_law_terms("神器爆款", extra)] == ["爆款"]


@pytest.mark.parametrize(("body", "message"), [
    ("terms: 3\n", "`terms:` list"),
    ("terms: []\nrules: []\n", "unknown top-level key"),
    ("version: 2\nterms: []\n", "unsupported version"),
    (("terms:\n  - term: 好\n    category: absolute\n    reason: r\n"
      "  - term: 坏\n    category: wow\n    reason: r\n"), ":5: terms[1]: `category` must be one of"),
    ("terms:\n  - {term: 好, category: absolute}\n", ":2: terms[0]: `reason` must be"),
    ("terms:\n  - {term: 好, category: absolute, reason: r, allow: [坏的]}\n", "allow word '坏的'"),
    ("terms:\n  - {term: 好, category: absolute, reason: r, colour: red}\n", "unknown key(s) colour"),
    ("terms:\n  - {term: 好, pattern: 好, category: absolute, reason: r}\n", "exactly one of"),
    ("terms:\n  - {pattern: '(', category: absolute, reason: r}\n", "not a valid regular expression"),
    ("terms:\n  - {pattern: '見效', category: absolute, reason: r}\n", "write '见效'"),
    ("terms:\n  - {pattern: 'a*', category: absolute, reason: r}\n", "matches the empty text"),
    ("terms:\n  - {term: 好, category: absolute, reason: r}\n  - {term: 好, category: price, reason: r}\n",
     "listed twice"),
    ("terms:\n  - {term: 好, category: absolute, reason: r, continuations: [的]}\n", "prefix: true"),
    ("terms: [\n", "not valid YAML"),
])
def test_bad_extra_file_says_what_and_where(tmp_path: Path, body: str, message: str) -> None:
    extra = _write(tmp_path, body)
    with pytest.raises(AdLawTermsError) as info:
        find_ad_law_terms("好", extra_terms_file=extra)
    assert str(extra.resolve()) in str(info.value) and message in str(info.value)


def test_missing_extra_file(tmp_path: Path) -> None:
    with pytest.raises(AdLawTermsError, match="cannot read"):
        find_ad_law_terms("好", extra_terms_file=tmp_path / "nope.yaml")


# ------------------------------------------------------------------------------ properties

_alphabet = st.sampled_from(list("最佳好近後后第一次唯國家级級全網最低价價天見效无副作用７7%１0０独家，。 a"))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=_alphabet, max_size=40))
def test_hits_are_sorted_disjoint_and_quote_the_text(text: str) -> None:
    hits = find_ad_law_terms(text)
    assert all(h.term == text[h.start:h.end] and h.start < h.end for h in hits)
    assert all(a.end <= b.start for a, b in itertools.pairwise(hits))
    assert all(h.category in CATEGORIES for h in hits)
    # Folding is the only normalisation: the simplified text gives the same spans.
    simplified = find_ad_law_terms(to_simplified(text))
    assert [(h.start, h.end) for h in simplified] == [(h.start, h.end) for h in hits]


def test_a_long_script_is_fast_enough() -> None:
    line = "家人們晚上好，這是我第一次直播。最近天氣乾燥，這款面膜全網最低價，7天見效！\n"
    text = line * (200_000 // len(line))
    hits = find_ad_law_terms(text)
    assert len(hits) == 2 * text.count("\n")
