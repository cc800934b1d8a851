"""The lint on real text (issue 18): phrases regulators fined must flag, ordinary product copy must
stay quiet, and the two levels (ad-law, ad-law-risk). Figures on the whole sets: scripts/eval_adlaw.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from livecompanion.scripts.adlaw import AdLawTermsError, find_ad_law_terms
from tests.load_script import load_script

EVAL = load_script("eval_adlaw")


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("史无前例,全球首款", "全球首款"),
        ("全球首个能主动修复黏膜的药品", "全球首个"),
        ("行业世界领先", "世界领先"),
        ("这款风衣，没有之一", "没有之一"),
        ("带来无与伦比的时尚魅力", "无与伦比"),
        ("连续三年销量榜首", "销量榜首"),
        ("提高免疫力抗病毒", "抗病毒"),
        ("能预防流感和细菌、病毒", "预防流感"),
        ("保肝护肝，熬夜必备", "保肝护肝"),
        ("补血益气的红枣", "补血益气"),
        ("血栓快速溶解", "血栓快速溶解"),
        ("祖传神效药膏", "神效"),
        ("一搽就瘦", "一搽就瘦"),
        ("白发自然黑的效果", "白发自然黑"),
        ("承诺考上，不过退款", "承诺考上"),
        ("晋商贷15%高收益理财", "15%高收益"),
        ("在家躺着赚钱", "躺着赚钱"),
        # the dev misses of issue 18's second session, and the families written from them
        ("罗汉果甘草清莹茶洗黑肺", "洗黑肺"),
        ("每天一杯,烟毒排了", "烟毒"),
        ("金戈来了,男人福音", "男人福音"),
        ("起效更快更安全、效果更强更持久", "起效更快"),
        ("减肥神品", "神品"),
        ("药王秘制膏", "药王"),
        ("久勃难软,效果惊人", "久勃"),
        ("本元草方抗新冠病*", "抗新冠病*"),
        ("男人一夜7次", "一夜7次"),
        ("国内唯一获批的产品", "国内唯一"),
        ("保证一次通过", "保证一次通过"),
        ("年化收益率高达12%", "年化收益率高达12%"),
        ("这款面霜颜值天花板", "天花板"),
        # round two, from penalty holdout3 after its one scoring
        ("保健作用:降血粘 溶血栓", "降血粘"),
        ("抑制黑色素生成是第二大核心功效", "抑制黑色素"),
        ("护肤功效……色斑淡化", "色斑淡化"),
        ("滋养液可增长毛发", "增长毛发"),
        ("准时返还本息", "返还本息"),
        ("5年保底返租40%", "保底返租40%"),
        ("债权收益率分别为9%、10%", "收益率分别为9%"),
        ("保证提高分数", "保证提高分数"),
        ("公务员考试命题研究组", "命题研究组"),
        # round three, from penalty holdout4 after its one scoring
        ("对心血管、脑血管疾病有预防保健作用", "预防保健作用"),
        ("净化血液", "净化血液"),
        ("小投资,大收益", "小投资,大收益"),
        ("学区房", "学区房"),
        ("U形取肋,降低损伤,极速恢复", "降低损伤"),
        ("怎么会有这么丑的鼻子啊", "这么丑的鼻子"),
        ("服用后的变化看得见", "变化看得见"),
        ("一个月就能减掉20斤", "一个月就能减掉20斤"),  # read in penalty holdout5 after its one scoring
        # round four (third session): claims in everyday words, from holdout5's misses and the claim shapes
        ("外敷一盒就能瘦15斤", "一盒就能瘦"),
        ("只需外敷即可达到瘦身效果", "即可达到瘦身效果"),
        ("不用节食,不用运动", "不用节食,不用运动"),
        ("坐着也能减肥", "坐着也能减肥"),
        ("下午做,晚上就可以化妆", "下午做,晚上就可以化妆"),
        ("排油量是传统产品的近30倍", "是传统产品的近30倍"),
        ("一次热玛吉解决5大衰老问题", "一次热玛吉解决5大衰老问题"),
        ("医美面膜", "医美面膜"),
        ("抚平鱼尾", "抚平鱼尾"),
        ("喝了再也不失眠", "再也不失眠"),
        ("告别赘肉", "告别赘肉"),
        ("保证瘦", "保证瘦"),
        ("第二天就消肿", "天就消肿"),  # quoted from 二: the dose pattern starts on the number
        ("一贴就不疼", "一贴就不疼"),
        # round five, from penalty holdout6 after its one scoring
        ("坐享增值红利", "坐享"),
        ("宜商宜居宜投资", "宜投资"),
        ("堪称风水宝地", "风水宝地"),
        ("源头灭杀新冠更彻底", "灭杀新冠"),
        ("且抑制率高达99.5%", "抑制率高达99.5%"),
        ("一次水光针>1000张面膜", ">1000张"),
        ("中考成绩较入学成绩突飞猛进", "成绩较入学成绩突飞猛进"),
        ("主食控糖抗饿", "控糖"),
        # round six, from penalty holdout7 after its one scoring, by trade
        ("21天摘掉眼镜", "摘掉眼镜"),
        ("一次逆转,彻底康复", "彻底康复"),
        ("全飞秒的激光,今天矫正,明天上班", "今天矫正,明天上班"),
        ("增产1000斤", "增产1000斤"),
        ("高产稳产、抗病抗倒", "高产"),
        ("科技解密母乳珍稀营养", "母乳珍稀营养"),
        ("能够激发身高的潜能", "激发身高"),
        ("适应症状:近视、视力弱", "适应症状"),
        ("减少便秘的情况", "减少便秘"),
        ("三个月就能回本", "三个月就能回本"),
    ],
)
def test_fined_phrases_flag(text: str, term: str) -> None:
    # The fined words are flagged; since the fifth session the quote may be the longer claim around
    # them (坐享增值 for 坐享, 21天摘掉眼镜 for 摘掉眼镜).
    assert any(term in h.term for h in find_ad_law_terms(text)), find_ad_law_terms(text)


@pytest.mark.parametrize(
    "text",
    [
        "这款T恤100%棉，吸汗透气",
        "此款连衣裙采用百分百的纯棉面料制作",
        "面料选用100%高支棉",
        "最重要的是，它不仅减龄还非常显瘦",
        "卫衣最大的亮点在于胸前的刺绣",
        "整件衬衫最吸睛的就是领口",
        "也能最大限度的透气散热",
        "此款牛仔裙两大亮点，第一就是它包臀设计",
        "这不会是你衣橱里的首选，但值得一试",
        "今晚一起看《最好的我们》",
        "这件外套保证你出门不冷",  # 保证 without an exam or a return
        "袖口的刺绣是国内设计师的作品",
        # round four's everyday claims stay off ordinary clothing copy
        "肩部线条，在视觉上就能显瘦十斤",
        "再也不用担心走光",
        "告别臃肿感",
        "一穿就显瘦",
        "马上就能穿",
        "一周就到货",
        "可开增值税发票",
        "恰到好处的裙长衬显双腿纤长高挑",
        "宝宝母乳喂养期间也能穿的哺乳衣",
    ],
)
def test_ordinary_copy_stays_quiet(text: str) -> None:
    assert find_ad_law_terms(text) == []


def test_a_listed_ranking_still_flags_after_the_enumeration_allowance() -> None:
    assert [h.term for h in find_ad_law_terms("销量第一是我们的骄傲")] == ["销量第一"]


def test_a_longer_risk_never_hides_the_violation_it_overlaps() -> None:
    # 预防肿瘤 (violation) inside the longer verb-on-noun risk 预防肿瘤、心血管
    hits = find_ad_law_terms("预防肿瘤、心血管疾病")
    assert [(h.term, h.level) for h in hits] == [("预防肿瘤", "violation")]


def test_two_levels() -> None:
    violation, risk = find_ad_law_terms("全网最低价，绝对划算")
    assert (violation.level, violation.rule) == ("violation", "ad-law")
    assert (risk.term, risk.level, risk.rule) == ("绝对", "risk", "ad-law-risk")


def test_extra_file_can_move_a_term_between_levels(tmp_path: Path) -> None:
    extra = tmp_path / "team.yaml"
    extra.write_text(
        "version: 1\nterms:\n  - term: 绝对\n    category: absolute\n    reason: 团队规定\n    level: violation\n"
        "  - term: 首家\n    enabled: false\n",
        "utf-8",
    )
    assert [h.level for h in find_ad_law_terms("绝对好用", extra)] == ["violation"]
    assert find_ad_law_terms("我们是首家", extra) == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("  - term: 好\n    category: absolute\n    reason: r\n    level: severe\n", "`level` must be one of"),
        ("  - term: 好\n    category: absolute\n    reason: r\n    unless_followed_by: '(['\n", "not a valid regular"),
    ],
)
def test_bad_level_or_exception_says_what(tmp_path: Path, entry: str, message: str) -> None:
    extra = tmp_path / "bad.yaml"
    extra.write_text("version: 1\nterms:\n" + entry, "utf-8")
    with pytest.raises(AdLawTermsError, match=message):
        find_ad_law_terms("好", extra)


def test_real_sets_keep_their_figures() -> None:
    # The dev part only (the held-out figures are in README; the floor below guards them afterwards).
    result = EVAL.score(EVAL.importlib.import_module("livecompanion.scripts.adlaw"), "dev", show=False)
    assert result["all"]["recall"] >= 0.9, result
    assert result["violation"]["precision"] >= 0.8, result
    assert result["all"]["precision"] >= 0.8, result
    assert not result["all"]["unjudged"], result["all"]["unjudged"]
    # Held out (holdout9 since the fifth session): scored once (README, 0.690 / 0.905); floors against
    # regressions only.
    held = EVAL.score(EVAL.importlib.import_module("livecompanion.scripts.adlaw"), "heldout", show=False)
    assert held["all"]["recall"] >= 0.85 and held["violation"]["recall"] >= 0.65, held
    assert held["all"]["precision"] >= 0.85, held
    assert not held["all"]["unjudged"], held["all"]["unjudged"]


def test_every_title_of_a_long_text_is_exempt() -> None:
    """《…》 spans are found once per call (looking back from every hit was quadratic: 33 s for 1 MB
    of dense host lines, see BENCHMARKS.md); each title still hides its words, and only those."""
    text = "这是全网最低价，国家级品质！《最好的我们》最好\n" * 500 + "《最好"
    hits = find_ad_law_terms(text)
    assert [h.term for h in hits[:3]] == ["全网最低价", "国家级", "最好"]
    assert len(hits) == 1_501  # the last 《 never closes: its 最好 is no title
    assert hits[2].start == text.index("》") + 1


# Fifth session: detectors made of data (lexicons in adlaw_terms.yaml), written from the law's
# articles and the dev part. Each line below is our own sentence in a shape no earlier family
# covered; each was missed by the lint at the session's start (main 413bec2).
@pytest.mark.parametrize(
    ("text", "quote", "level"),
    [
        # a cure verb on a condition named by its disease ending
        ("坚持喝能预防子宫肌瘤", "预防子宫肌瘤", "violation"),
        ("可以缓解肩周炎带来的不适", "缓解肩周炎", "violation"),
        # a condition, then its cure
        ("喝了一个月胃痛消失了", "胃痛消失", "violation"),
        ("用了以后鼻炎不再复发", "鼻炎不再复发", "violation"),
        # 对 + a condition + an effect
        ("对慢性咽炎有很好的效果", "对慢性咽炎有很好的效果", "violation"),
        # a care verb on an organ or a body function
        ("每天一杯调理五脏六腑", "调理五脏六腑", "risk"),
        # two traditional-medicine functions together
        ("祛湿散寒的足贴", "祛湿散寒", "violation"),
        # time or dose to effect in words
        ("三个疗程后结节不见了", "三个疗程后结节不见了", "violation"),
        # a rate about people
        ("八成顾客反馈睡眠好转", "八成顾客反馈睡眠好转", "violation"),
        # safety and returns promised
        ("纯植物配方绝对安全", "绝对安全", "violation"),
        ("投资这个项目保证赚钱", "保证赚钱", "violation"),
        ("本金有保障", "本金有保障", "violation"),
        ("这套房五年涨了三倍", "涨了三倍", "risk"),
        # an exam result promised
        ("报名保你一次考过", "保你一次考过", "violation"),
        # a disease named at all
        ("适合腱鞘炎人群", "腱鞘炎", "risk"),
    ],
)
def test_detectors_made_of_data(text: str, quote: str, level: str) -> None:
    # A pattern anchored on a disease ending quotes up to two characters before it (quote_before), so
    # the quote may start a character early (月胃痛消失): the claim is inside it.
    hits = find_ad_law_terms(text)
    assert any(quote in h.term and h.level == level for h in hits), hits


@pytest.mark.parametrize(
    "text",
    [
        "炎炎夏日穿上它清凉舒适",  # 炎 of the summer heat is no disease
        "宽松的版型告别臃肿感",
        "面料抗皱免烫，保护关节的护膝另售",
        "抗病性强的品种",  # a plant's resistance, the seed trade's own risk family
        "轻松提升整体质感",
        "洗涤三次后依然不变形",
        "一周就到货",
    ],
)
def test_detectors_stay_off_ordinary_copy(text: str) -> None:
    assert [h for h in find_ad_law_terms(text) if h.level == "violation"] == [], find_ad_law_terms(text)


def test_lexicons_in_an_extra_file(tmp_path: Path) -> None:
    extra = tmp_path / "team.yaml"
    extra.write_text(
        "version: 1\nlexicons:\n  pet: [猫, 狗]\nterms:\n"
        "  - pattern: '{pet+organ}粮'\n    category: efficacy\n    reason: 团队规定\n    allow: [猫狗粮]\n"
        "  - pattern: '(?:{cure_verb})毛球'\n    category: efficacy\n    reason: 团队规定\n    quote_before: 2\n",
        "utf-8",
    )
    assert [h.term for h in find_ad_law_terms("买猫粮送肝粮", extra)] == ["猫粮", "肝粮"]  # own and built-in
    assert find_ad_law_terms("猫狗粮", extra) == []  # an allow word of a pattern
    assert [h.term for h in find_ad_law_terms("小猫咪消除毛球", extra)] == ["猫咪消除毛球"]  # quoted from 2 before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("lexicons:\n  pet: [猫]\nterms:\n  - pattern: '{pets}粮'\n    category: efficacy\n    reason: r\n",
         "names lexicon 'pets', which is not defined"),
        ("lexicons:\n  Pet: [猫]\nterms: []\n", "lexicon name 'Pet'"),
        ("terms:\n  - pattern: '猫'\n    category: efficacy\n    reason: r\n    quote_before: 20\n", "`quote_before`"),
    ],
)
def test_bad_lexicon_says_what(tmp_path: Path, body: str, message: str) -> None:
    extra = tmp_path / "bad.yaml"
    extra.write_text("version: 1\n" + body, "utf-8")
    with pytest.raises(AdLawTermsError, match=message):
        find_ad_law_terms("猫", extra)
