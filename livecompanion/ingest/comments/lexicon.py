"""Words of live-room chat: buying-intent phrases and question cues.

Patterns run on `match_key` output (folded, simplified, lower case, no punctuation, repeats
collapsed) unless said otherwise. Each intent signal has a canonical phrase, the one the operator
sees counted (想要 ×132).
"""

from __future__ import annotations

import re

# Canonical intent phrase -> pattern, for words that say "buying" in any room: 已下单, 求链接, 怎么买.
# Order matters only for display.
INTENT_PATTERNS: dict[str, str] = {
    # 想买 alone is slang too ("我想买你的死心塌地"): only 想买 this/that/a number counts anywhere.
    "想要": (
        r"想买(?:这|那|[一两二三四五六七八九十0-9]|同款)"
        r"|(?<![a-z])(?:i )?want to (?:buy|order) (?:this|that|one|two|it)"
    ),
    "上车": r"锁单|加购|加入购物车|take my money|i ll take (?:one|two|it)",
    "已拍": (
        r"(?:已|刚)拍(?:了|到|好)?(?!吗|没|么)|拍(?:下|好)了|(?:已|刚|已经)下单|下单了|下好单|(?:已|已经)?付款了|已付款|付好了"
        r"|(?:已|刚)买(?:了|到)?(?!吗|没|么)|(?<![a-z])(?:ordered|purchased|checked out)(?![a-z])"
    ),
    # 连接 is the usual typo of 链接 (same pinyin)
    "求链接": (
        r"求[链连]接|上[链连]接|[链连]接快上|^[链连]接$|[链连]接呢|[链连]接在哪|(?:几|哪)个?号?[链连]接|有[链连]接|求上架|求返场"
        r"|还能(?:拍|买)|怎么(?:买|购买|下单|拍(?!照))|(?:在|去)哪(?:里|儿)?(?:买|拍)|小黄车(?:几号|哪个|里哪个)"
        r"|how (?:do i|to|can i) (?:buy|order)|where (?:can i|to|do i) buy"
    ),
}
# Room slang that is buying intent only while something is being sold (a product on screen, a sale
# running, the script's products named): elsewhere 冲冲冲 cheers a PK, 拿下 a won round, 抢到 a red
# packet, 扣1 answers any poll, 想要 wants to see the rabbit costume.
INTENT_CUES: dict[str, str] = {
    "想要": (
        r"想要|想买|(?<![a-z])(?:i )?want (?:to buy|to order)|好想|^要$"
        r"|我也?要(?!退|问|投诉|睡|走|去|哭|吐|看|听|笑|死)|^[要拍](?:[一两二三四五六七八九十0-9]|.{1,2}色)"
        r"|必须要|(?:多少钱|再贵|多贵)?都(?:买|要)|(?<![a-z])(?:i )?(?:want|need)(?: it| this| one| that|$)|^want"
    ),
    "扣1": r"^扣?1+$|^扣个?1+",
    "上车": (
        r"上车|冲(?!动|浪|突|洗|水|泡|调|澡)|拿下|安排|^买$|秒了|购物车|来一(?:单|套|盒|个|份|件)|来[两二三](?:单|套|盒|个|份|件)"
        r"|给我(?:来|留|安排)|要了|take (?:one|two|it)"
    ),
    "已拍": r"^拍(?:了|到|好)(?!吗|没|么|拍)|^买(?:了|到)(?!吗|没|么)|抢到|(?<![a-z])(?:sold|bought)(?! out)(?![a-z])",
    "求链接": r"蹲|上架|(?<![a-z])link(?![a-z])",
}

# A negation just before a match cancels it (不想要, 没抢到), unless it is 谁不想要 (who would not).
NEGATORS = frozenset("不没别未无甭")
NEGATION_REACH = 2  # characters before the match that are checked


_ENGLISH_NEGATION = re.compile(r"(?:(?:^|[^a-z])(?:not|no|never|nt)|n t) $")


def negated_at(key: str, start: int) -> bool:
    """Whether a negation (不, 没, not ...) stands just before position `start` of a match key."""
    if start and key[start - 1] == " " and _ENGLISH_NEGATION.search(key, max(0, start - 8), start):
        return True
    before = key[max(0, start - NEGATION_REACH) : start]
    for offset, ch in enumerate(before):
        if ch in NEGATORS:
            at = start - len(before) + offset
            return not (at > 0 and key[at - 1] == "谁")  # 谁不想要: who would not want it
    return False


# --- questions -------------------------------------------------------------------------------

# Interrogative words that make a clause a question on their own (on the key). 吗/么 count only at
# the end of a clause (吗的 is a swear), 几 before any measure word (几台, 几遍) but not 几乎/好几/几十,
# 谁 unless it is "anyone" (谁都, 谁也, 谁不想要), 怎么 not after 不 (可乐我都不怎么喜欢: "not much").
QUESTION_STRONG = re.compile(
    r"(?<!不)怎么(?!这么|那么|说(?!$|吗|啊$))|怎样|咋(?!这么|那么)|为什么|为啥|(?<![没不])(?<!不了)多少(?!钱?[都也])|多大|多高|多重|多久|多长|多宽|多钱|多厚|多快|多远|多贵"
    r"|(?<![好没十个这那])几(?![乎十百千万率何]|分像|天不见)(?!(?<=前几)[天次年日周回])(?=[\u4e00-\u9fffa-z])"
    r"|(?<!没)(?<!没剩)(?<!没有)什么(?!鬼|都|也|的$)|(?<![没有])啥(?!都|也|比|b)|^有啥(?!用|区别|好|不|可)|(?<!天)哪(?!里都|儿都|怕|有|敢|能|会|配)|是否|能否|能不能|可不可以|有没有|是不是|会不会|要不要|用不用"
    # ninth session: "what is / was X doing" (凉宫干嘛了, 干吗呢老阿姨, 小林干嘛去了啊); 干嘛 alone stays phatic
    r"|干(?:嘛|吗)去?[了呢]"
    r"|行不行|对不对|准不准|请问|问一下|^点解|(?<![不没])(?<!那个)谁(?!都|也|不|知道|让|叫|.{1,2}都)"
    r"|^(?:how|what|where|when|which|why|who|is|are|do|does|did|can|could|will|would|should|any)(?: |$)"
)
# 吗 and its spoken forms close a yes/no question only at the end of a clause (on the cleaned text);
# a closing 没有 not after 就/是 (你就是没有: "you just have none") or 不可能 ("there must be some"), 嘛 not
# after 对了 (这就对了嘛: "that's more like it").
QUESTION_FINAL = re.compile(
    r"(?<=.)(?:吗|(?<![什怎那这多])么|(?<![是好对就干])(?<!对了)嘛|(?<![还直都也从并就是])(?<!不可能)没有?|(?:用|以|能|行|好|对|是|适合)马|(?<![不我才好])不)(?=$|[\s?!,.~;。、…])"
    # 吗 before a trailing vocative or subject: 发个福袋吗龙宝, 杀猪吗对面 (not the swear 吗的)
    r"|(?<=..)吗(?!的|这)(?=[\u4e00-\u9fff]{1,3}$)"
    # "you are X, right?" and the south-west 有…莫得 (有没有): 你是温柚小姐姐吧, 有男朋友莫得
    r"|^你(?:就)?是.{1,8}吧$|有.{1,8}(?:莫得|没得)$"
)
# 还是 asks only as "A 还是 B" in a clause that also asks (handled in is_question), and 呢 asks only
# after a noun alone ("马牛逼呢", "你对象呢") or with a question word: "我也在想呢" is a statement.
QUESTION_NE = re.compile(
    r"^[^,.!?]{1,8}呢\?+$|^(?![^,.!?]*[在还没看正想早都也就要会了是去来说吃饿困累])[^,.!?]{1,8}呢"
    r"(?:老婆|老公|宝宝|宝贝|宝|姐姐|姐|哥哥|哥|主播|亲)?!*$"
)
# Phatic or rhetorical "questions": greetings, surprise, reproach, not something the host answers.
PHATIC = re.compile(
    r"^(?:主播|宝宝|姐姐|宝子|小姐姐)?(?:在吗|在么|在不在|有人吗|有人在吗|你好吗|好吗|是吗|真的吗|对吗|对吧|不会吧|真的假的啊?"
    r"|啥|什么|啊|嗯|哈|咋了|怎么了|干嘛|干啥|谁懂啊?|就这|又是就这)$"
    r"|^你们(?:都|也)?(?:买|抢|拍)"
    r"|怎么(?:这么|那么)|咋(?:这么|那么)|为什么(?:这么|那么)|也太|太.{1,3}了吧|什么鬼|没什么"
    r"|还(?:补|说|装|管|怕|图)个?什么|怎么了$|(?:行|好)不好$|可不可以闭嘴|你(?:在)?说(?:什么|啥)|(?:你|您)?行不行啊?$|你们?是(?:狗|猪|傻)"
    r"|(?:难道|莫非).{0,12}(?:吗|么)?$"
    # embedded questions ("see whether"): 看能不能卖给我们, 看看有多少 (the key keeps one 看)
    r"|(?:^|[^你])看(?:能不能|有没有|是不是|会不会|可不可以|有多少)"
    # challenges and reproach: 你确定是可爱?, 你有没有品味啊, 又满三十减十五了?, 有啥区别吗,反正都…
    r"|^你们?确定|不应该.{1,10}(?:吗|么)$|你懂(?:个)?(?:啥|什么|屁)|谁还记得|^因为|^欢迎|^就这么|^我.{0,3}(?:啥|什么)时候.{1,8}了$|^(?:你|人|我|他|她|你们|他们)都.{1,8}了$"
    r"|(?:能不能|可不可以|能否)(?:别|不要|关|闭)|争点?气|想(?:啥|什么)呢$|.{6,}好吗$|[干做说吃买]了什么.{2,}$"
    r"|有没有(?:品味|脑子|良心|素质|眼光|常识|点数|礼貌)|^.{0,8}又.{1,12}了$|反正"
    # reproach and suggestion dressed as questions: 至于吗, 有意思吗, 没人管吗, 拿空姐开玩笑?, 头像不改下吗
    r"|(?:至于|有必要|有意思|好意思|你配|要脸|没人管|没有人管)(?:吗|么)|凭什么|拿.{1,8}开玩笑|不.{1,2}(?:一)?下(?:吗|么)$"
    r"|还有比.{0,8}更|有什么(?:好的|好看|好说|好怕|看头|意思|可.{1,3}的)|[管关]你(?:啥|什么|屁)事|我看你.{0,6}怎么|还能(?:说|干)(?:什么|啥)"
    r"|不.{1,4}怎么了|(?:谁|什么|哪|怎么).{0,6}我?就?不(?:知道|清楚)|我?哪(?:里|儿)?知道"
    # "isn't it ...": 这不是我妹妹吗, 之前不是玩过嘛; surprise: 真的可以这么大吗; "already a few": 都几分钟了
    r"|不是.{1,10}(?:嘛|吗|么)$|不是(?:吗|么|嘛)$|谁会.{1,10}呢$|不就.{0,10}(?:嘛|吗|么)$|才.{0,6}就.{1,6}了$|(?:真的|竟然|居然).{0,8}(?:这么|那么).{0,3}(?:吗|么)$|都几.{1,3}了|多.{1,2}几(?:天|个|次|遍|眼|分钟|年)"
    # rhetoric in question form (third session): taunts 慌不慌/服不服, "can't you just…", "who else but
    # me", "whose fault then", "what did I say", "is it that real", universal 什么…都 ("whatever")
    r"|([慌怕服气急])不\1|就不能.{1,12}(?:吗|么|嘛)|谁(?:能|还|会)?比我|(?:不)?怪谁|^我(?:说|干|做)(?:了)?(?:什么|啥)(?:去)?了"
    r"|(?:这么|那么).{1,6}的(?:吗|嘛|么)$|(?<!为)(?:什么|啥).{1,4}都"
    # second round: "that is why", "what are you barking about", "not going to say something?",
    # "isn't it always …", "what has it to do with you", 哥几个 (we guys)
    r"|(?:就是|这是|那是)[^,.!?]{0,3}为(?:什么|啥)|(?:狗叫|瞎叫|叫唤|逼逼|bb)(?:什么|啥)|不(?:说|唱|跳|来|讲|整)点(?:啥|什么)"
    r"|不(?:一直|都|也)[^,.!?]{0,8}(?:吗|嘛|么)$|还(?:说|补|装|管|怕|图)个?啥|(?:跟|和|与|关)(?:你|我|他|她|你们|我们|他们)[^,.!?]{0,6}有?(?:什么|啥)关系"
    r"|(?:哥|兄弟|姐妹|老铁)几个(?![人月天])"
    # ninth session: 好玩吗 reproaches only a deed ("这样好玩吗", "耍我们好玩吗"); of a place, a game or
    # nothing named it asks (青城山好玩吗, 好玩吗: the third session's bare 好玩吗 dropped both)
    r"|(?:这样|那样|这么|那么)(?:做|说|玩|搞|整)?好玩(?:吗|么)|(?:耍|骗|逗|整|坑|欺负)(?:人|我|我们|大家|他|她|他们)好玩(?:吗|么)"
)
# Eighth session: forms that ask nothing though a rule fires, on the key, checked only once a rule has
# fired (most chat has none, so the live path pays for these on ~15% of comments). Requests (the written
# rules: chat): a named song asked of the host (可以唱五月天的倔强吗, 告白气球能呱吗), "show / let us
# hear" (可以看一下美甲吗), "can't you X properly" (能不能好好开); exclamations 怎么可以这么美 like 怎么这么.
NOT_ASKED = re.compile(
    r"(?:可以|能不能|可不可以|能否)再?(?:唱|来一?首|放一?首)(?!歌|不|吗|么|嘛|$)|^.{2,}能(?:唱|呱)(?:吗|么|嘛)$"
    r"|(?:可以|能不能|可不可以|能)(?:给我们|让我们|给我)?(?:看一下|看下|听一下|听下)"
    r"|能不能好(?:好|整|开|打|玩|唱|说|播|看.)"  # the key keeps one 好
    r"|(?:怎么|咋)(?:可以|会|能)(?:这么|那么)"
    # concessive "whoever / whether or not" (不管有没有人), offers (要不要我找人打他), "who are you kidding" (骗谁)
    r"|(?:不管|无论|不论).{0,4}(?:什么|谁|哪|多少|几|怎么|有没有|是不是|是否)|要不要我|需不需要我|(?:骗|吓唬|糊弄)谁"
)
# What a shopper asks with a bare noun: "价格？", "尺码", "房间号". Only the whole comment counts.
ATTRIBUTE_QUESTION = re.compile(
    r"^(?:主播|宝宝|姐姐)?的?(?:价格|价钱|价位|尺码|码数|尺寸|颜色|链接|库存|运费|邮费|身高|体重|三围|房间号|房号|"
    r"直播间号|歌名|bgm|型号|色号|材质|面料|产地|保质期|发货时间|快递)(?:呢|多少|是多少)?[?!.。~ ]*$"
)
# The same on the match key (punctuation gone, repeats collapsed): "房间！！！号", "房号没说", "房号!!!1"
# (1 is the shifted "!").
ATTRIBUTE_KEY = re.compile(
    r"^(?:主播|宝宝|姐姐|[\u4e00-\u9fff]{2})?的?(?:价格|价钱|尺码|码数|链接|库存|运费|房间号|房号|直播间号|歌名|bgm|型号|色号)"
    r"(?:呢|多少|是多少|没说)?1?$"
)
# A link asked for by what it is ("姐姐衣服链接", "求鞋链接", "发链接那个"): a question in any room (in
# a selling room it is also intent). On the cleaned text; not 上链接 (a demand to start selling) and
# not a negation or a report ("大哥说没有链接").
LINK_REQUEST = re.compile(
    r"^(?:求|发|给个|来个|要)?(?:姐姐|主播|宝宝|小姐姐|老板)?的?(?:[\u4e00-\u9fff]{1,3}的?)?[链连]接"
    r"(?:那个|呢|啊|呀)?[?!.~ ]*$"
    r"|求[\u4e00-\u9fff]{0,3}[链连]接[?!.~ ]*$"
)
LINK_NOT_ASKED = re.compile(r"[没不说上]|有[链连]接|^(?:求|要)[链连]接")  # 求链接 alone: a request, intent
# "Let me see / guess" before an embedded question (on the cleaned text: the key keeps one 看).
# "Don't know / let's see whether ...": an embedded question, unless a question mark asks it
# ("不知道大家觉得怎么样？"). On the match key, checked only when the comment has no "?".
EMBEDDED_IN_KEY = re.compile(
    r"(?:不知道|证明|判断|看看|决定|在想|想想|选择)(?:.{0,6})(?:是不是|有没有|会不会|能不能|可不可以|为什么|什么|怎么|啥|多少|谁|几|哪)"
)
# Requests to anyone ("谁能借我10吃饭", "求求谁能帮帮我"): 谁 is "someone"; unless a question mark
# follows ("谁帮忙说下!我什么颜色字?"). On the cleaned text.
REQUEST_TO_ANYONE = re.compile(r"^(?:求求?)?谁(?:能|愿意|可以|来)?(?:借|给|帮|送|救)[^?]*$")
EMBEDDED = re.compile(r"^(?:让我|给我)?(?:看看|瞧瞧|猜猜|猜)|^看你?(?:怎么|咋)")
# A 不 A on the cleaned text (one clause): 好不好看, 去不去, 吃不吃 (not 不好玩,不玩了).
A_NOT_A = re.compile(r"(?<!不)([\u4e00-\u9fff])不\1(?!不)")  # not 不要不要
# With only a question mark to go on, exclamations stay chit-chat: 这么便宜？ 好看？！ 完结？
EXCLAMATION = re.compile(r"^(?:这么|那么|太|也太|这也太|好|真|超)")

COMPILED_INTENTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (phrase, re.compile(pattern)) for phrase, pattern in INTENT_PATTERNS.items()
)
COMPILED_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (phrase, re.compile(pattern)) for phrase, pattern in INTENT_CUES.items()
)
# One pass that says whether any phrase of a set can match: most chat holds none.
ANY_INTENT = re.compile("|".join(f"(?:{p})" for p in INTENT_PATTERNS.values()))
ANY_CUE = re.compile("|".join(f"(?:{p})" for p in INTENT_CUES.values()))
