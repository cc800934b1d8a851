"""Words of live-room chat: buying-intent phrases and question cues.

Patterns run on `match_key` output (folded, simplified, lower case, no punctuation, repeats
collapsed) unless said otherwise. Each intent signal has a canonical phrase, the one the operator
sees counted (想要 ×132).
"""

from __future__ import annotations

import re

# Canonical intent phrase -> pattern. Order matters only for display.
INTENT_PATTERNS: dict[str, str] = {
    # wanting it
    "想要": (
        r"想要|想买|好想|^要$|我也?要(?!退|问|投诉|睡|走|去)|^[要拍](?:[一两二三四五六七八九十0-9]|.{1,2}色)"
        r"|必须要|(?<![a-z])(?:i )?(?:want|need)(?: it| this| one| that|$)|^want"
    ),
    # ready to buy when the link opens
    "扣1": r"^扣?1+$|扣个?1",
    # going for it: 上车, 冲, 拿下, add to cart
    "上车": (
        r"上车|冲(?!动|浪|突|洗|水|泡|调|澡)|拿下|安排|^买$|秒了|锁单|加购|购物车|来一(?:单|套|盒|个|份|件)|来[两二三]"
        r"|给我(?:来|留|安排)|要了|take my money|i ll take|take (?:one|two|it)"
    ),
    # already bought
    "已拍": (
        r"(?:已|刚)?拍(?:了|到|好)(?!吗|没|么|拍)|已拍|(?:已|刚|已经)下单|下单了|下好单|(?:已|已经)?付款了|已付款|付好了"
        r"|(?:已|刚)?买(?:了|到)(?!吗|没|么)|已买|抢到|(?<![a-z])sold(?! out)"
        r"|(?<![a-z])(?:ordered|bought|purchased|checked out)(?![a-z])"
    ),
    # asking for the link / how to buy / whether one can still buy (also counted when it is a question);
    # 连接 is the usual typo of 链接 (same pinyin)
    "求链接": (
        r"求[链连]接|上[链连]接|[链连]接快上|^[链连]接$|[链连]接呢|[链连]接在哪|(?:几|哪)个?号?[链连]接|有[链连]接|蹲|求上架|上架|求返场"
        r"|还能(?:拍|买)"
        r"|怎么(?:买|购买|下单|拍(?!照))|(?:在|去)?哪(?:里|儿)?(?:买|拍)|小黄车(?:几号|哪个|里哪个)"
        r"|how (?:do i|to|can i) (?:buy|order)|where (?:can i|to|do i) buy|(?<![a-z])link(?![a-z])"
    ),
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

# Interrogative words and particles that make a comment a question on their own (on the key).
QUESTION_STRONG = re.compile(
    r"怎么(?!这么|那么)|怎样|咋(?!这么|那么)|为什么|为啥|多少|多大|多高|多重|多久|多长|多宽|多钱|多厚"
    r"|几(?:号|天|点|个|片|次|分钟|岁|码|斤|盒|套|件|色|种|折|块|毛|米|时|瓶|支|克|ml|毫升|年)"
    r"|什么(?!鬼|都|也)|(?<!没)啥(?!都|也)|哪(?!里都|儿都|怕)|是否|能否|能不能|可不可以|有没有|是不是|会不会|要不要|用不用"
    r"|行不行|对不对|准不准|([\u4e00-\u9fff])不\1(?!不)|请问|吗|(?<!还)还是(?!.*了)"
    r"|^(?:how|what|where|when|which|why|who|is|are|do|does|did|can|could|will|would|should|any)(?: |$)"
)
# Sentence-final particles that ask (on the cleaned text, so punctuation still marks the end).
QUESTION_FINAL = re.compile(
    r"(?:么|呢|(?<!还)没|(?:有|能|可以|行|是|会|用)嘛|(?:用|以|能|行|好|对|是|适合)马"
    r"|(?<![不我才])不)(?=$|[\s?!,.~;。、])"
)
# Phatic or rhetorical "questions": greetings and surprise, not something the host answers.
PHATIC = re.compile(
    r"^(?:主播|宝宝|姐姐|宝子|小姐姐)?(?:在吗|在么|在不在|有人吗|有人在吗|你好吗|好吗|是吗|真的吗|对吗|对吧|不会吧|真的假的啊?"
    r"|啥|什么|啊|嗯|哈|咋了|怎么了|干嘛|干啥|谁懂啊?)$"
    r"|(?:吃|吃饭|睡|睡觉|下班|起床|休息)了?(?:吗|没)$"
    r"|^你们(?:都|也)?(?:买|抢|拍)"
    r"|怎么(?:这么|那么)|咋(?:这么|那么)|为什么(?:这么|那么)|也太|太.{1,3}了吧|什么鬼|没什么"
)
# With only a question mark to go on, exclamations stay chit-chat: 这么便宜？ 好看？！
EXCLAMATION = re.compile(r"^(?:这么|那么|太|也太|这也太|好|真|超)|吧$")

COMPILED_INTENTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (phrase, re.compile(pattern)) for phrase, pattern in INTENT_PATTERNS.items()
)
