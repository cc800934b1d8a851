"""Comment normalisation and classification: the decisions documented in the package."""

from __future__ import annotations

import pytest

from livecompanion.ingest.comments import (
    classify_comment,
    clean_text,
    in_selling_context,
    intent_signals,
    match_key,
)
from livecompanion.ingest.comments.classify import question_trigger
from livecompanion.ingest.comments.normalize import key_of_clean


@pytest.mark.parametrize(
    ("text", "cleaned", "key"),
    [
        ("想要想要想要", "想要想要想要", "想要"),
        ("想要！！！🥰", "想要!!!", "想要"),
        ("這款面膜適合油性皮膚嗎？？", "这款面膜适合油性皮肤吗??", "这款面膜适合油性皮肤吗"),
        ("[比心][比心] 主播好美", "主播好美", "主播好美"),
        ("ＳＯＯＯＯＬＤ", "soooold", "sold"),
        ("good  night", "good night", "good night"),
        ("扣1扣1", "扣1扣1", "扣1"),
        ("1111", "1111", "1111"),  # digits never collapse: 100 and 10 are different prices
        ("199元", "199元", "199元"),
        ("➕V：xyz777", "+v:xyz777", "v xyz777"),
    ],
)
def test_normalisation(text: str, cleaned: str, key: str) -> None:
    assert clean_text(text) == cleaned
    assert match_key(text) == key


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("这款面膜适合油性皮肤吗", "question"),
        ("多少钱", "question"),  # no question mark needed
        ("包邮不", "question"),
        ("偏大还是偏小", "question"),
        ("how much?", "question"),
        # Room slang is intent only in a selling context (see test_slang_needs_a_selling_context).
        ("想要！！", "chitchat"),
        ("扣1", "chitchat"),
        ("1111", "chitchat"),
        ("已下單", "intent"),
        ("sold", "chitchat"),
        ("求鏈接", "intent"),
        ("主播好美", "chitchat"),
        ("在吗", "chitchat"),  # phatic, not something to answer
        ("真的吗", "chitchat"),
        ("怎么这么好看", "chitchat"),  # rhetorical
        ("这么便宜？", "chitchat"),  # exclamation with a question mark
        ("？？？", "chitchat"),
        ("😂😂😂", "chitchat"),
        ("不想要", "chitchat"),
        ("sold out", "chitchat"),
        ("加V：abc12345 领福利", "spam"),
        ("好货低价 138 1234 5678", "spam"),
        ("看我主页 www.haohuo88.cn", "spam"),
        ("q群 123456789 进群领红包", "spam"),
    ],
)
def test_classes(text: str, kind: str) -> None:
    assert classify_comment(text).kind == kind


def test_how_to_buy_is_a_question_carrying_an_intent_signal() -> None:
    analysis = classify_comment("怎麼買？")
    assert analysis.kind == "question"
    assert analysis.intents == ("求链接",)


def _signals(text: str) -> tuple[str, ...]:
    """Intent phrases and slang cues together: what the comment says while something is on sale."""
    return in_selling_context(classify_comment(text)).intents


def test_intent_signals_are_canonical_and_negation_aware() -> None:
    assert _signals("想要想要 已拍") == ("已拍", "想要")
    assert intent_signals(match_key("已下单")) == ("已拍",)
    assert _signals("上車上車") == ("上车",)
    assert _signals("没抢到") == ()
    assert _signals("不想要") == ()
    assert _signals("谁不想要") == ("想要",)
    assert _signals("你买了吗") == ()  # asking whether someone bought is no purchase
    assert _signals("just ordered!") == ("已拍",)
    assert _signals("haven't bought yet") == ()
    assert _signals("拍一件黑色L") == ("想要",)
    assert _signals("冲洗干净") == ()  # 冲 as in rinse, not 冲 as in go for it


@pytest.mark.parametrize("text", ["想要", "扣1", "1111", "冲冲冲", "拿下", "蹲", "抢到了", "sold"])
def test_slang_needs_a_selling_context(text: str) -> None:
    alone = classify_comment(text)
    assert alone.kind == "chitchat" and alone.intents == () and alone.cues
    assert in_selling_context(alone).kind == "intent"


@pytest.mark.parametrize("text", ["已下单", "拍下了", "怎么买", "几号链接", "求链接", "刚付款了"])
def test_buying_words_are_intent_anywhere(text: str) -> None:
    assert classify_comment(text).intents


def test_spam_reasons() -> None:
    assert classify_comment("https://t.cn/A6abcdE 点击领取").spam_reason == "link"
    assert classify_comment("电话 138-1234-5678").spam_reason == "phone number"
    assert classify_comment("威信 hh5201314").spam_reason == "private account"
    assert classify_comment("兼职刷单 日结").spam_reason == "advertising"
    # Paying by WeChat, or asking how to add the host's WeChat, is not spam.
    assert classify_comment("微信支付可以吗").kind == "question"
    assert classify_comment("加微信怎么加").kind == "question"
    # A price is not a phone number.
    assert classify_comment("138元两盒吗").kind == "question"


# From real rooms (issue 18): statements that hold 还是, 什么/啥 or end in 呢, rhetoric, and questions
# with 谁 or 几 before any measure word.
@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("你还是扭腰吧", "chitchat"),
        ("感觉还是昨天那个衣服好看一点", "chitchat"),
        ("我也在想吃啥", "chitchat"),
        ("我也在想呢", "chitchat"),
        ("你行不行啊", "chitchat"),
        ("完结？", "chitchat"),
        ("强烈的预感？！", "chitchat"),
        ("吗的 菊花从来没有对我这么好过", "chitchat"),
        ("穿上裤子就行了，菊花还补什么妆", "chitchat"),
        ("对面是谁啊", "question"),
        ("还有几台飞机", "question"),
        ("主播玩了几遍了这么熟练", "question"),
        ("要红色还是黑色", "question"),
        ("马牛逼呢？", "question"),
        ("你们也是石头门？", "question"),
        ("价格？", "question"),
        ("付款失败怎么办", "question"),
        # issue 18, second session: rhetoric, requests and indefinite words from the dev parts
        ("谁能借我1000块钱吃饭", "chitchat"),
        ("你还说那个谁没在直播", "chitchat"),
        ("右边拉满  想啥呢", "chitchat"),
        ("不就叫小乌龟吗", "chitchat"),
        ("樱桃不是吗", "chitchat"),
        ("他哪敢说你啊", "chitchat"),
        ("所以抽中六星的几率可以忽略不计", "chitchat"),
        ("看看你什么表情", "chitchat"),
        ("不好玩，不玩了", "chitchat"),
        ("一直没", "chitchat"),
        ("你是温柚小姐姐吧", "question"),
        ("娃儿，有男朋友莫得", "question"),
        ("咦？我牌牌呢", "question"),
        ("阿铖呢老婆", "question"),
        ("发个福袋吗龙宝", "question"),
        ("明明赢了竞猜 鱼丸为什么变少了", "question"),
        ("吞吞看过项链没有", "question"),
        # read in holdout5 after its one scoring
        ("不要不要", "chitchat"),
        ("新手问一下，这个游戏是干嘛的呀", "question"),
        ("菊花房间号", "question"),
        # read in holdout10 after its one scoring (Douyu, DouyuCrawler danmu.txt lines 48921, 48949)
        ("可乐我都不怎么喜欢", "chitchat"),
        ("你就是没有", "chitchat"),
        ("有货没有", "question"),
        ("吃饭了没有", "question"),
    ],
)
def test_questions_read_the_sentence(text: str, kind: str) -> None:
    assert classify_comment(text).kind == kind


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        # eighth session, the rules (not the model) on dev's false questions, each with its part:
        # requests by the written rules (a named song, "show us", "can't you X properly")
        ("可以唱五月天的倔强吗", False),  # holdout10
        ("小舞可以唱错位时空吗？", False),  # tune7
        ("告白气球能呱吗", False),  # tune7
        ("可以看一下美甲吗好闪[害羞]", False),  # tune7
        ("能不能好好整一个", False),  # holdout10
        ("能不能好好看训练赛", False),  # holdout9
        ("怎么可以这么美", False),  # holdout10, an exclamation like 怎么这么
        # indefinite 几 / 什么 / 多少 ("a few days ago", "not much money left")
        ("前几天说签了个千万粉丝的", False),  # holdout5
        ("这几天少说话好", False),  # holdout8
        ("没剩什么钱", False),  # holdout10
        ("我也花不了多少", False),  # tune7
        # 还是 as "still / rather"
        ("大京还是蛮强的", False),  # holdout6
        ("我还是喜欢鱼玄姬", False),  # holdout9
        ("你还是会聊天", False),  # holdout10
        # concessive, correlative, embedded, an offer, "who are you kidding"
        ("我喷一句，不管有没有人，每次停车都应该把车阵摆好", False),  # holdout8
        ("阿姨买什么你喝什么", False),  # holdout10
        ("17-0002是俱乐部的好，谁试训谁用OK？", False),  # holdout5
        ("牛逼啊，我都不知道几张卡了，才绿色", False),  # holdout5
        ("我可以选择今晚和谁吃", False),  # holdout10
        ("要不要我找人打他", False),  # holdout9
        ("黑的哥骗谁？", False),  # holdout9
        # still questions: whether the host sings, may a song be asked for, an alternative, 几 asked
        ("今天唱歌吗", True),  # holdout10
        ("你好 可以点一首歌吗", True),  # holdout2
        ("你会电台情歌吗", True),  # tune2
        ("怎么不唱歌了", True),  # tune4
        # after holdout11 was scored: "that's more like it" and "there must be some" ask nothing
        ("这就对了嘛", False),  # holdout11
        ("他说不可能没有", False),  # holdout11
        ("你们对了吗", True),  # a yes/no question still
        ("还有没有", True),
        ("你这个牙套是进口的还是国产的", True),  # tune3
        ("几点下播", True),  # holdout10
        ("那首英文歌叫什么？", True),  # tune6
        ("0002谁谁谁", True),  # holdout5: one word repeated is no correlative
        # real comments outside the set, read while checking what the new rules drop on unlabelled chat:
        ("我想问你哪年哪月开播的？", True),  # LiveChat dev_data.pk item 9888
        ("前几了", True),  # DouyuCrawler danmu.txt @53bc9b5af2d5 line 46214 (a rank asked)
        # ninth session, plain faults on dev: 好玩吗 asks about a place or a game, reproaches a deed;
        # "what is X doing"; a closing 吗 before an ellipsis
        ("青城山好玩吗", True),  # holdout10
        ("好玩吗", True),  # holdout11
        ("体验服好玩吗", True),  # DouyuCrawler danmu.txt (unlabelled), read while checking the change
        ("这样好玩吗", False),
        ("耍我们好玩吗", False),
        ("凉宫干嘛了", True),  # holdout10
        ("干吗呢老阿姨", True),  # holdout9
        ("干嘛", False),  # alone: phatic, as before
        ("消音器大菠萝厉害吗………………", True),  # holdout9
        ("领导说我吗……", True),  # holdout8
    ],
)
def test_question_rules_leave_requests_and_indefinites(text: str, asks: bool) -> None:
    cleaned = clean_text(text)
    assert (question_trigger(cleaned, key_of_clean(cleaned)) is not None) == asks


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # Recorded in Douyu rooms (miraclestar/DouyuCrawler danmu.txt): digits dressed up, link parts.
        ("qq☺（104 3o3ṓ➑➑➑）翘臀", "private account"),
        ("qq爽 ２493308891", "private account"),
        ("Ａｂ bＡ３．CỡＭ", "link"),
        (".cc", "link"),
        ("4891024直播", "advertising"),
        ("喷子们，代发弹幕，一条三毛", "advertising"),
        ("粉丝号出租，30一天", "advertising"),
        ("加薇 看主页", "private account"),
        ("家人们去看我主页好东西多多", "advertising"),
        ("２4933０8891：qq　爽妹", "private account"),
        ("554078314", "private account"),
        ("谁能借我10吃饭 愿意借的加我好友", "advertising"),
        ("叫爸爸支付宝发100红包，留下支付账号", "advertising"),
        ("巨乳 ЗЗ①2ḷ20➍7ḻ ＱＱ", "private account"),  # Cyrillic З for 3, ḷ for 1
    ],
)
def test_spam_in_its_chinese_forms(text: str, reason: str) -> None:
    assert classify_comment(text).spam_reason == reason


# "1679347" alone used to be here (a room number in its own room is no ad); by the labelling rule
# (docs/comments-eval.md, second session) a room number posted alone in another room is that room
# advertised, and every recorded case in the set is of that kind: it is spam since the fifth session.
@pytest.mark.parametrize("text", ["坐出租车来的", "这个网站打不开", "我qq号忘了", "123456789", "2333333333",
                                  "主播加我好友", "支付宝付款可以吗"])
def test_ordinary_talk_is_not_spam(text: str) -> None:
    assert classify_comment(text).kind != "spam"


# A lone q is a word in Spanish and in Twitch chat, not QQ (en-holdout: Zirke/twitch_chat
# twitchlogs.txt line 237; en-holdout2: xenova/chat-downloader examples/example.txt line 180); it is
# still a channel before an id with a digit or after a colon.
@pytest.mark.parametrize(("text", "spam"), [
    ("NA Q Kappa", False), ("a q hora sale", False), ("Ecuador xd q valla", False), ("v xiaomei", False),
    ("q 1043038888", True), ("v abc123", True), ("q：1043038888", True), ("v: xiaomei", True),
])
def test_a_lone_q_or_v_is_a_channel_only_before_an_account(text: str, spam: bool) -> None:
    assert (classify_comment(text).kind == "spam") is spam
