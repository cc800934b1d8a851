"""Spam in live chat: links, phone numbers, private-account handles, off-platform ads, and floods.

`spam_reason(cleaned)` judges one comment on its own (pass the output of `clean_text`). `SpamWindow`
is the stateful part: the same text from many different users within seconds is a bot flood, even
when each copy looks harmless. `CampaignWatch` is the other one: the same contact or room number
posted again and again (three times in five minutes), however each copy is dressed. Memory is
bounded in both, whatever the stream throws at them.

Why the forms below (issue 18, fifth session; docs/comments-eval.md): on recorded Douyu chat, spam
is mostly campaigns, and what the first rules missed was a room number posted alone or after a
name ("1679347", "菊花 1679347", "4813284段友直播吃鸡"), paid posting priced per message ("6毛一条",
"5毛喷"), mutual following (互关), and handles dressed with lookalike characters (葳 for 薇, ⒋, O for
0). Dev (every part read so far, 55 spam in 5,071 comments): recall 0.836 -> 0.982, precision 0.958
-> 0.964; cost per comment 157 -> 192 µs in the same run (1.22x, scripts/eval_comments.py
--baseline main). A room number in its own room is read as an ad too: the classifier does not know
which room it is in.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

_URL = re.compile(
    r"https?://|www\.|t\.me/|"
    r"(?<![\w.])[a-z0-9][a-z0-9-]{0,30}\.(?:com|cn|net|org|top|xyz|vip|cc|me|io|shop|link|ly|club|site|"
    r"info|co|tk|app|live|store|icu|fun|ink|work|online)(?:/|\b)"
)
# Chinese mobile numbers, also typed with spaces or dashes between the digits (138 1234 5678).
_PHONE = re.compile(r"(?<!\d)1[3-9](?:[ \-]*\d){9}(?!\d)")
# Names of private channels, then (after a colon, 号, 是 ...) something that looks like an account id.
_HANDLE_WORD = (
    r"(?:(?<![a-z])(?:vx|wx|v|q|qq|tg|line)(?![a-z])|v信|微信号?|薇信号?|威信号?|维信|徽信|qq号|q号|q群|扣扣号?|"
    r"企鹅号?|球球号?|电报|telegram|薇|威)"
)
_ACCOUNT_ID = r"(?:[a-z][a-z0-9_\-]{3,}|\d{5,})"
# A lone v or q is a channel only before an id holding a digit ("v abc123", "q 10430388") or after a
# colon or 号: in Spanish and English chat a lone q is a word ("a q hora sale", "NA Q Kappa").
_LONE_LETTER_ID = (r"(?<![a-z])[vq](?![a-z])(?:\s{0,3}(?=[a-z0-9_\-]*\d)(?:[a-z][a-z0-9_\-]{3,}|\d{5,})"
                   r"|\s*[:：号是为]\s*" + _ACCOUNT_ID + ")")
_HANDLE_WITH_ID = re.compile(
    r"(?:(?<![a-z])(?:vx|wx|qq|tg|line)(?![a-z])|v信|微信号?|薇信号?|威信号?|维信|徽信|qq号|q号|q群|扣扣号?|"
    r"企鹅号?|球球号?|电报|telegram|薇|威)[\s:：号是为]{0,3}" + _ACCOUNT_ID + "|" + _LONE_LETTER_ID
)
# Short obfuscated asks to add a private account, spam even without an id ("加v看主页").
# 加微 counts but 加微信 alone does not: hosts themselves say 加微信領直播專屬福利, and viewers ask how.
_ADD_PRIVATE = re.compile(
    r"(?:加|\+)\s*(?:v(?![a-z])|vx|wx|微(?!信)|薇|葳|威|q(?![a-z])|扣扣|企鹅|球球)|" + _HANDLE_WORD + r"\s*同号"
)
# Recruiting, scam and account-trade phrases that genuine viewers do not write.
_AD_STRONG = re.compile(
    r"招兼职|兼职(?:招|日结|加|联系|私|日赚)|刷单|日结|日赚|日入|网赚|招代理|一手货源|重金求子|贷款|博彩|赌场|代发|代刷|代喷|代练|租号|卖号|收号|出租(?!车)|接单"
    r"|私信我|私聊我|看.{0,2}私信|私我|加群|进群|福利群|网址|看我主页|主页有|点我头像|我这(?:里|边)?(?:便宜|有号|收号|卖号)"
    # account and follower trade, and offers closed by "write to me privately" (有意私聊, 需要的私信)
    r"|出号(?!码)|回收.{0,2}号|代上分|刷粉|买粉|互粉|互关|回关|关注必回|(?:有意|有需要|需要的?)(?:请|就|可以)?私(?:聊|信)"
    r"|留下.{0,4}(?:账号|帐号|联系方式)"
)
# A private channel named near a long number, however the digits are dressed up (qq☺ 104 3o3➑➑➑).
_CHANNEL_NEAR_NUMBER = re.compile(
    r"(?:(?<![a-z])(?:q|qq|vx|wx|v|tg)(?![a-z])|扣扣|企鹅|球球|微信|薇|威信|v信|群)\D{0,6}(?:\d\D?){6,}"
)
# Digits written as Chinese numerals, read only after a channel name: "扣扣 一零四三零三八八八".
_CN_DIGITS = str.maketrans("零〇一二三四五六七八九壹贰叁肆伍陆柒捌玖", "00123456789123456789")
_CN_NUMERAL = re.compile(r"[零〇一二三四五六七八九壹贰叁肆伍陆柒捌玖]{6}")
# The number first, then the channel: "２4933０8891：qq　爽妹".
_NUMBER_NEAR_CHANNEL = re.compile(r"(?:\d\D?){6,}\D{0,4}(?:(?<![a-z])(?:q|qq|vx|wx|v|tg)(?![a-z])|扣扣|企鹅|微信|薇)")
# A comment that is nothing but an account number (QQ, phone: 9-11 digits, not a count, a run or a
# repeated digit): "554078314". A 7-digit room number alone is left: in its own room it is no ad.
_BARE_ID = re.compile(r"^\s*\d{9,11}\s*$")
# Another room or channel advertised by its number: "4891024直播", "4813284段友直播吃鸡", "直播间1234567",
# "房间:222 6691"
# (a count or a price after the number is no room: "直播间1000人").
_ROOM_AD = re.compile(
    r"\d{6,}\s*[^\d\s]{0,4}?(?:直播|房间|频道)|"
    r"(?:直播间|房间号?|房号|频道)\W{0,3}(?:\d ?){3}\d(?![\d ]*(?:人|个|块|元|w|万|k|分|级|%))"
)
# A room number (7 or 8 digits, 4 or 5 of them different) posted alone, or after the name it goes by
# ("1679347", "菊花 1679347", "丿*6859413+"):
# in someone else's room that is an ad for another room (labelling rule of docs/comments-eval.md).
_BARE_ROOM = re.compile(r"^\W*(?:[^\W\d_]{1,4}\W{0,2})?(\d{7,8})\W*$")
# Love codes and counts are no room: 5201314, 1314520.
_NOT_A_ROOM = frozenset({"5201314", "1314520", "3344520", "5211314"})
# Paid posting priced per message: "一条三毛", "三元一句十元三句", "5毛喷", "一次一毛".
_PRICE = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十半])\s*(?:毛|块|元|角|分钱)钱?"
_PAID_POSTING = re.compile(
    r"(?:一|每|1)\s*(?:条|句|次)\s*,?\s*" + _PRICE + r"|(?:一|每)条\s*\d*\.\d+(?!\d)|"
    + _PRICE + r"\s*,?\s*(?:一|每|1)\s*(?:条|句)|" + _PRICE + r"喷"
)
# A bare domain ending, what a link looks like when its parts are sent one by one (".cc", ".com").
_LINK_PART = re.compile(r"^\W*\.?(?:com|cn|cc|net|top|xyz|vip)\W*$")


# Anything beyond ASCII, CJK and its punctuation: circled digits, accents, dingbats (most chat has none).
_DRESSED = re.compile(r"[^\x00-\x7f\u3000-\u303f\u3400-\u9fff\uff00-\uffef]|\do\d")


@lru_cache(maxsize=4096)
def _plain(cleaned: str) -> str:
    """Spam dresses digits and letters up (➑, ⑧, ⒎, ２, cỡm, 3o3): map every digit-like character
    to its digit, strip accents, read o between digits as 0."""
    out = []
    for ch in unicodedata.normalize("NFKD", cleaned):
        if unicodedata.combining(ch):
            continue
        digit = unicodedata.digit(ch, None) if not ch.isascii() else None
        out.append(str(digit) if digit is not None else ch)
    text = "".join(out).lower().translate(_LOOKALIKE_DIGITS)
    # o and l next to digits are 0 and 1 ("3o3", "2ḷ20": ḷ is l once its accent is stripped)
    return re.sub(r"(?<=\d)l|l(?=\d)", "1", re.sub(r"(?<=\d)o(?=\d)", "0", text))


# Letters that stand in for digits in contact spam: Cyrillic З and О, Greek Ο ("ЗЗ①2ḷ20➍7ḻ ＱＱ").
# Cyrillic and Greek letters that stand in for Latin ones in handles ("ԛԛ", "ѵх"), and small letters
# that pass for digits (ʒ, ӡ for 3; б for 6).
_LOOKALIKE_DIGITS = str.maketrans({
    "з": "3", "ʒ": "3", "ӡ": "3", "о": "0", "ο": "0", "б": "6",
    "а": "a", "е": "e", "р": "p", "с": "c", "х": "x", "у": "y", "ѵ": "v", "ν": "v", "ԛ": "q", "ԝ": "w",
    "і": "i", "ј": "j", "ѕ": "s", "һ": "h", "κ": "k",
})
# Weaker ad signals: any two of these together.
_AD_WEAK = re.compile(
    r"同款|低价|便宜一半|一折|全网最低|进群|福利群|领红包|私聊|私我|私信我|看我?主页|看我?头像|主页有|淘宝搜|店铺|代购"
    # asking strangers for money or contact: 谁能借我10吃饭 愿意借的加我好友; 加我好友,我给你支付宝赚钱
    r"|加我?好友|借我|支付宝|赚钱"
)


def _looks_like_an_id(digits: str, different: int = 5) -> bool:
    """Not 123456789, 666666, 2333333 or 20000000: at least five (or `different`) different digits,
    not in a run."""
    if len(set(digits)) < different:
        return False
    steps = {int(b) - int(a) for a, b in itertools.pairwise(digits)}
    return not (steps <= {1} or steps <= {-1})


# Self-promotion in English, with or without a link (recorded Twitch chat: "Follow me", "shout out
# my latest instagram reel"): follow/sub trading and "check out my channel". "i wanted to follow you
# on twitch" and "add me on roblox coward" are not.
_AD_ENGLISH = re.compile(
    r"(?<![a-z])(?:sub ?4 ?sub|sub for sub|f ?4 ?f|l ?4 ?l|follow ?4 ?follow|follow for (?:a )?follow|like for like"
    r"|follow (?:me|back|my)|check (?:out )?my (?:channel|stream|twitch|youtube|yt|insta(?:gram)?|tiktok|page|profile"
    r"|vids?|videos?|content|music|art|shop|store|new video)|shout ?out (?:to )?my|sub(?:scribe)? to my"
    r"|visit my (?:channel|stream|page|profile)|come (?:to|watch) my (?:stream|channel))(?![a-z])"
)


def spam_reason(cleaned: str) -> str | None:
    """Why this (cleaned) comment is spam, or None. Checks links, phones, handles and ad phrases."""
    plain = _plain(cleaned) if _DRESSED.search(cleaned) else cleaned
    if _URL.search(plain) or _LINK_PART.match(plain):
        return "link"
    if _PHONE.search(plain):
        return "phone number"
    if (_HANDLE_WITH_ID.search(plain) or _ADD_PRIVATE.search(plain) or _CHANNEL_NEAR_NUMBER.search(plain)
            or _NUMBER_NEAR_CHANNEL.search(plain)):
        return "private account"
    if _BARE_ID.match(plain) and _looks_like_an_id(plain.strip()):
        return "private account"
    if _CN_NUMERAL.search(cleaned) and _CHANNEL_NEAR_NUMBER.search(plain.translate(_CN_DIGITS)):
        return "private account"
    if _ROOM_AD.search(plain):
        return "advertising"
    room = _BARE_ROOM.match(plain)
    if room and room[1] not in _NOT_A_ROOM and _looks_like_an_id(room[1], len(room[1]) - 3):
        return "advertising"
    if _PAID_POSTING.search(cleaned):
        return "advertising"
    if _AD_STRONG.search(cleaned) or _AD_ENGLISH.search(cleaned):
        return "advertising"
    weak = _AD_WEAK.findall(cleaned)
    if len(set(weak)) >= 2:
        return "advertising"
    return None


# A number as contact spam writes it: 6-11 digits, one space, dot or dash allowed between two.
_NUMBER = re.compile(r"\d(?:[ .\-]?\d){5,10}(?![ .\-]?\d)")


def contact_number(cleaned: str) -> str | None:
    """The first number in a comment that could be an account or a room (dressed digits read, 6-11
    digits, four or five of them different, not a run), or None."""
    plain = _plain(cleaned) if _DRESSED.search(cleaned) else cleaned
    for m in _NUMBER.finditer(plain):
        digits = re.sub(r"\D", "", m.group())
        if _looks_like_an_id(digits, 4 if len(digits) <= 7 else 5):
            return digits
    return None


class CampaignWatch:
    """One contact or room number posted again and again, however each copy is worded or dressed:
    an ad campaign (the same QQ number from several throwaway accounts, a room number every few
    seconds). `observe(cleaned, ts_ms)` returns True from the `min_posts`-th comment carrying the
    same number within `window_ms`; the first copies pass. Memory: at most `max_numbers` numbers.
    Only comments holding six digits are looked at, so ordinary chat costs one regex search."""

    def __init__(self, window_ms: int = 300_000, min_posts: int = 3, max_numbers: int = 2_000) -> None:
        if window_ms <= 0 or min_posts < 2 or max_numbers < 1:
            raise ValueError("CampaignWatch needs window_ms > 0, min_posts >= 2, max_numbers >= 1")
        self.window_ms = window_ms
        self.min_posts = min_posts
        self.max_numbers = max_numbers
        self._posts: OrderedDict[str, list[int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._posts)

    def observe(self, cleaned: str, ts_ms: int) -> bool:
        if not _SIX_DIGITS.search(cleaned):
            return False
        number = contact_number(cleaned)
        if number is None:
            return False
        horizon = ts_ms - self.window_ms
        posts = self._posts.pop(number, [])
        posts = [*[t for t in posts if t > horizon][-self.min_posts :], ts_ms]
        self._posts[number] = posts
        while len(self._posts) > self.max_numbers:
            self._posts.popitem(last=False)
        return len(posts) >= self.min_posts


# Six digits anywhere, ASCII or dressed (➑, ⑧, ２): the cheap test before reading a number.
_SIX_DIGITS = re.compile(r"(?:\d\D{0,2}){6}")


@dataclass(slots=True)
class _Seen:
    users: dict[str, int]  # user -> last time (ms) they posted this text
    flagged_until: int = -1


class SpamWindow:
    """Detects one text posted by many users within a few seconds (bot floods, copy-paste ads).

    `observe(key, user_id, ts_ms)` records a post of `key` (a `match_key`) and returns True when at
    least `min_users` distinct users posted it within the last `window_ms`; the text then stays
    flagged while posts keep coming within the window. The first `min_users - 1` copies pass:
    nothing can tell them from a genuine comment yet.

    Memory is bounded: at most `max_texts` texts are tracked (least recently posted dropped first)
    and at most `max_users_per_text` users per text. Keys shorter than `min_length` characters are
    never flagged: hundreds of viewers typing 想要 or 666 at once is a live room, not a flood (the
    caller should also skip intent comments and the running lottery keyword).
    """

    def __init__(
        self,
        window_ms: int = 10_000,
        min_users: int = 4,
        min_length: int = 6,
        max_texts: int = 5_000,
        max_users_per_text: int = 64,
    ) -> None:
        if window_ms <= 0 or min_users < 2 or max_texts < 1 or max_users_per_text < min_users:
            raise ValueError(
                "SpamWindow needs window_ms > 0, min_users >= 2, max_users_per_text >= min_users"
            )
        self.window_ms = window_ms
        self.min_users = min_users
        self.min_length = min_length
        self.max_texts = max_texts
        self.max_users_per_text = max_users_per_text
        self._texts: OrderedDict[str, _Seen] = OrderedDict()

    def __len__(self) -> int:
        return len(self._texts)

    def observe(self, key: str, user_id: str | None, ts_ms: int) -> bool:
        if len(key) < self.min_length:
            return False
        horizon = ts_ms - self.window_ms
        self._expire(horizon)
        seen = self._texts.get(key)
        if seen is None:
            seen = self._texts[key] = _Seen({})
            if len(self._texts) > self.max_texts:
                self._texts.popitem(last=False)
        else:
            self._texts.move_to_end(key)
        users = seen.users
        users[user_id or f"anonymous:{ts_ms}:{len(users)}"] = ts_ms
        if len(users) > self.max_users_per_text or len(users) >= self.min_users:
            for user, last in list(users.items()):
                if last < horizon:
                    del users[user]
            while len(users) > self.max_users_per_text:
                del users[next(iter(users))]
        if len(users) >= self.min_users:
            seen.flagged_until = ts_ms + self.window_ms
        return ts_ms <= seen.flagged_until

    def _expire(self, horizon: int) -> None:
        # Texts are kept in order of their last post: drop the front while it is older than the window.
        texts = self._texts
        while texts:
            key, seen = next(iter(texts.items()))
            newest = max(seen.users.values(), default=-1)
            if newest >= horizon or seen.flagged_until >= horizon:
                break
            del texts[key]
