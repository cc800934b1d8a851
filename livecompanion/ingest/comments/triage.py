"""The live path for one stream's comments: classify, drop spam and floods, group questions, count
intent, collapse chants.

`CommentTriage.handle` is what ingest calls for every `comment` event. What the host sees comes
from `questions.top()` and `intents.counts()`; spam, whether judged on its own or as a flood, is
never filed there. Ad campaigns (one contact or room number posted three times in five minutes,
however each copy is worded: `CampaignWatch`) are spam too. Floods are looked for among chit-chat
only (coordinated copy-paste: 主播是骗子 大家别买 from fifty fresh accounts); identical questions
and intents from many viewers are normal.

Chants are the room, not spam: the same short words (前方高能, nb, ？, 你会打篮球么) from three or more
viewers within ten seconds. They are recognised (`TriageResult.chant`) and collapsed into one
count per chant (`chants()`: 前方高能 ×40). Only chit-chat chants: the same question from many
viewers is collapsed by the question board (with its count), the same 想要 by the intent counter.

Buying intent needs a selling context, and the room sells for several reasons at once, each
started and ended on its own (`selling(on, reason)`):

    explain     a product is explained (product_explain start .. stop, from ingest or the console)
    orders      orders came in; ended by a product_explain stop (the host moved on)
    sale:ID     a flash sale runs (started .. stopped, sold out, ended: `sales(running)`)
    given       the caller says so (`livecompanion comments --selling`, tests)

Comments are in context while any reason holds, so a sale ending does not end an explain still
running, nor an explain stop a sale. Besides, `products(...)` with the script's names, skus and
number of links (ingest's live numbers load the stream's script when they first see the stream):
outside any context room slang (扣1, 冲, 想要, 想买, 蹲, 抢到) stays chit-chat, but a comment naming
one of the products, or a link number the show has (2号链接, 链接2, 2号来一单), is read as in context.
"""

from __future__ import annotations

import dataclasses
import re
from collections import OrderedDict
from collections.abc import Iterable

from livecompanion.ingest.comments.classify import CommentAnalysis, classify_comment, in_selling_context
from livecompanion.ingest.comments.intents import IntentCounter
from livecompanion.ingest.comments.normalize import match_key
from livecompanion.ingest.comments.questions import QuestionBoard
from livecompanion.ingest.comments.spam import CampaignWatch, SpamWindow

# Reasons the room sells (`CommentTriage.selling`); a flash sale's reason is SALE + its id.
EXPLAIN, ORDERS, GIVEN, SALE = "explain", "orders", "given", "sale:"


@dataclasses.dataclass(frozen=True, slots=True)
class TriageResult:
    analysis: CommentAnalysis  # kind "spam" with spam_reason "flood" when the window caught it
    question_group: int | None = None  # the QuestionBoard group id a question was filed under
    chant: str | None = None  # the chant's key when this comment is part of a chant burst


class CommentTriage:
    """Per-stream state for comment understanding; all bounded in memory (see each part)."""

    def __init__(
        self,
        questions: QuestionBoard | None = None,
        intents: IntentCounter | None = None,
        spam_window: SpamWindow | None = None,
    ) -> None:
        self.questions = questions if questions is not None else QuestionBoard()
        self.intents = intents if intents is not None else IntentCounter()
        self.spam_window = spam_window if spam_window is not None else SpamWindow()
        self.chant_window = SpamWindow(window_ms=10_000, min_users=3, min_length=1, max_texts=2_000)
        self.campaigns = CampaignWatch()
        self._chants: OrderedDict[str, int] = OrderedDict()
        self._reasons: set[str] = set()  # why the room sells now (see the module's docstring)
        self._product_words: frozenset[str] = frozenset()
        self._links = 0

    def selling(self, on: bool, reason: str = GIVEN) -> None:
        """Start (on) or end one reason the room sells: EXPLAIN, ORDERS, SALE + id, GIVEN. Ending
        EXPLAIN ends ORDERS too; nothing else ends another reason."""
        if on:
            self._reasons.add(reason)
            return
        self._reasons.discard(reason)
        if reason == EXPLAIN:
            self._reasons.discard(ORDERS)

    def sales(self, running: Iterable[str]) -> None:
        """The stream's flash sales running now, by id, as a whole: a sale not among them has ended
        (stopped, sold out or over) and no longer makes the room sell."""
        now = {SALE + sale_id for sale_id in running}
        self._reasons = {r for r in self._reasons if not r.startswith(SALE)} | now

    @property
    def in_context(self) -> bool:
        """Whether the room sells now, for any reason."""
        return bool(self._reasons)

    def products(self, words: list[str], links: int = 0) -> None:
        """The script's product names and skus, and how many links (小黄车 numbers 1..links) the show
        has: a comment naming one ("面膜要了", "mask-01 来一单", "2号链接拍了") is read as about
        buying even when nothing is explained right now."""
        # Any two characters of a name will do: viewers say 面膜 for 玻尿酸補水面膜 10片.
        pairs = {key[i : i + 2] for key in map(match_key, words) for i in range(len(key) - 1)}
        self._product_words = frozenset(p for p in pairs if not p.isdigit() and not p.isascii()) | {
            k for k in map(match_key, words) if k.isascii() and len(k) >= 3}
        self._links = max(0, links)

    def chants(self, n: int = 10) -> list[tuple[str, int]]:
        """The most chanted words since the start, with how many comments chanted them."""
        return sorted(self._chants.items(), key=lambda kv: -kv[1])[:n]


    def handle(self, text: str, user_id: str | None, ts_ms: int) -> TriageResult:
        analysis = classify_comment(text)
        if analysis.kind == "spam":
            return TriageResult(analysis)
        if self.campaigns.observe(analysis.text, ts_ms):
            return TriageResult(dataclasses.replace(analysis, kind="spam", intents=(), cues=(),
                                                    spam_reason="campaign"))
        if analysis.cues and (self._reasons or self._names_a_product(analysis.key)):
            analysis = in_selling_context(analysis)
        chant = self._chant(analysis, text, user_id, ts_ms)
        if chant is not None:
            if analysis.intents:
                self.intents.add(analysis.intents, ts_ms)
            return TriageResult(analysis, chant=chant)
        # Only long chit-chat is watched for floods (short words from many viewers are chants, above).
        # Many viewers typing the same question (Douyin's 跟評 sends an identical copy with one tap)
        # is the room working: the question board already counts each viewer once.
        watched = analysis.kind == "chitchat" and len(analysis.key) > _CHANT_MAX
        if watched and self.spam_window.observe(analysis.key, user_id, ts_ms):
            flood = dataclasses.replace(analysis, kind="spam", intents=(), spam_reason="flood")
            return TriageResult(flood)
        if analysis.intents:
            self.intents.add(analysis.intents, ts_ms)
        if analysis.kind == "question":
            group = self.questions.add(text, user_id, ts_ms)
            return TriageResult(analysis, group.id)
        return TriageResult(analysis)

    def _names_a_product(self, key: str) -> bool:
        words = self._product_words
        if words and (any(key[i : i + 2] in words for i in range(len(key) - 1))
                      or any(w in key for w in words if w.isascii())):
            return True
        if self._links:
            for m in _LINK_NUMBER.finditer(key):
                number = m.group(1) or m.group(2) or m.group(3)
                if 1 <= int(number) <= self._links:
                    return True
        return False

    def _chant(self, analysis: CommentAnalysis, text: str, user_id: str | None, ts_ms: int) -> str | None:
        # Short chit-chat only: a long text from many viewers is a flood.
        if analysis.kind != "chitchat":
            return None
        key = _chant_key(analysis.key, text)
        if len(key) > _CHANT_MAX:
            return None
        if not self.chant_window.observe(key, user_id, ts_ms):
            return None
        self._chants[key] = self._chants.get(key, 0) + 1
        self._chants.move_to_end(key)
        if len(self._chants) > _CHANTS_KEPT:
            smallest = min(self._chants, key=self._chants.__getitem__)
            del self._chants[smallest]
        return key


def _chant_key(key: str, text: str) -> str:
    """What a chant is keyed by: the match key without a reply's "@name：" (danmaku replies quote
    whom they answer: "@想换小鱼干：前方高能" chants 前方高能); for emoji and symbols alone, their
    distinct characters in order when the string is long ("🤣👉🤡" * 6 + "🤣" is 🤣👉🤡), so that
    it can still chant."""
    stripped = text.strip()
    if stripped.startswith("@"):
        reply = _REPLY.match(stripped)
        if reply is not None:
            return match_key(stripped[reply.end() :]) or key
    if key or len(stripped) <= _CHANT_MAX:
        return key or stripped
    return "".join(dict.fromkeys(ch for ch in stripped if not ch.isspace()))


_REPLY = re.compile(r"@[^:：\s]{1,24}[:：\s]\s*")
# A link number as viewers write it: 2号链接, 2号宝贝, 链接2, 2号 at the start (2号来一单); not 2号发货.
_LINK_NUMBER = re.compile(
    r"(?<![0-9])([0-9]{1,2})号(?:[链连]接|宝贝|商品)|[链连]接([0-9]{1,2})(?![0-9])|^([0-9]{1,2})号(?!发|到|开|下|几)"
)
_CHANT_MAX = 10  # characters of a chant's key
_CHANTS_KEPT = 200
