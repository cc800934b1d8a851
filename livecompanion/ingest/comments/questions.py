"""Grouping near-duplicate questions as they stream in, in bounded memory.

A question asked forty times should reach the host once, with its count. `question_key` reduces a
question to what it asks: folded, particles and fillers (请问, 主播, 吗, 呢 ...) dropped, common
paraphrases mapped to one form (油皮 = 油性皮肤, 咋 = 怎么, 多少米 = 多少钱, 几天 = 多久 ...).
Two keys are the same question when their tokens (Chinese characters, Latin words) overlap enough,
where generic question words (能, 用, 可以, 皮肤 ...) weigh little and content words (油, 孕, 快递 ...)
weigh fully: 适合油性皮肤吗 groups with 油皮能用吗 but not with 干皮能用吗.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable
from dataclasses import dataclass

from livecompanion.ingest.comments.normalize import display_text, match_key, short_text_cache

# Paraphrases -> one form. Applied in order to the match key.
_SYNONYMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), repl)
    for pattern, repl in (
        (r"咋", "怎么"),
        (r"啥", "什么"),
        (r"how much|what s the price|price", "价钱"),
        (r"where (?:can i|to|do i) buy|how (?:do i|to|can i) (?:buy|order)|(?<![a-z])link(?![a-z])", "买法"),
        (r"oily skin", "油性皮肤"),
        (r"dry skin", "干性皮肤"),
        (r"sensitive skin", "敏感皮肤"),
        (r"ship(?:ping)? to|deliver to", "寄到"),
        (r"多少钱|多钱|多少米|多少前|什么价格?|价格是?多少|到手价(?:多少|是多少)?|价格|价位|多少价", "价钱"),
        (
            (
                r"怎么(?:购买|买|下单|拍(?!照))|(?:在|去)?哪(?:里|儿)?(?:买|拍)|[链连]接在哪|(?:几|哪)个?号?[链连]接"
                r"|有[链连]接|[链连]接呢|小黄车(?:几号|里?哪个)"
            ),
            "买法",
        ),
        # Starting and stopping are different questions: 几点开播 is not 几点下播.
        (r"下播|收播|关播|下线|下班", "收工"),
        (r"开播|上播", "开播"),
        (r"多长时间|多久|几天|几分钟|多少天|多少分钟|什么时候|几时|几点|几号(?=发|到|开)", "多久"),
        # Age, not size: 你多大了, 小朋友多大了, 多少岁, 几岁 (鞋子多大 stays a size question).
        (r"多少岁|几岁|多大了|多大年纪|年纪多大|年龄多大|多少年纪|(?<=你)多大", "年龄"),
        (r"几片|多少片", "几片"),
        (r"油皮|油性肌肤|油性肤质|油性皮肤|油肌|oily", "油性皮肤"),
        (r"干皮|干性肌肤|干性皮肤|干肌", "干性皮肤"),
        (r"敏感肌|敏感皮肤?|皮肤(?:容易)?敏感|过敏体质|容易过敏", "敏感皮肤"),
        (r"能不能|可不可以|可以|能否|能够", "能"),
        (r"有没有", "有"),
        (r"是不是", "是"),
        (r"会不会", "会"),
        (r"要不要|需不需要|需要", "要"),
        (r"包不包邮", "包邮"),
        (r"含不含|含有", "含"),
        (r"适合|适用", "能用"),
        (r"不$", ""),  # 包邮不, 能用不: the A-not question form
        (r"怀孕|孕期|备孕|孕妇", "孕妇"),
        (r"什么快递|发什么快递|用什么快递|顺丰|圆通|中通|韵达|申通|极兔|邮政|ems", "快递"),
        (r"真货|假货|保真|正品", "正品"),
    )
)
_FILLERS = re.compile(
    r"请问|问一下|想问|主播|宝宝|宝子|姐妹们|姐妹|家人们|老师|小姐姐|亲亲|这款|这个|那个|我是|一下|现在|直播间|呀|啊|吧|哦|哇|嘞|咯|噢"
    r"|[吗呢的了]|(?<![什怎那这多])么$|嘛$"
)
_TOKEN = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")
# Words every question uses; they say little about which question it is.
_GENERIC = frozenset(
    "能用会要是有可以吗么什怎样多少几不没还在哪里个一下我你他她它这那款种些都也就很太和跟与或吧呢啊嘛的了着过给让把被到去来上中"
    "后前时候请问想知道说看性皮肤如果"
) | frozenset(
    (
        "is", "it", "ok", "for", "the", "a", "an", "to", "do", "you", "can", "i", "does", "this", "that", "are",
        "there", "any", "me", "my", "please", "pls", "of", "in", "on", "with", "will",
    )
)
_GENERIC_WEIGHT = 0.2
MAX_PLACED = 256  # phrasings remembered per group beyond its variants (memory stays bounded)


@short_text_cache
def question_key(text: str) -> str:
    """What a question asks, for grouping: `match_key`, paraphrases unified, fillers dropped."""
    key = match_key(text)
    grouped = key
    for pattern, repl in _SYNONYMS:
        grouped = pattern.sub(repl, grouped)
    grouped = _FILLERS.sub("", grouped).strip()
    return grouped or key


class _Variant:
    """One phrasing of a group: its content and generic tokens, and their total weight."""

    __slots__ = ("content", "generic", "gid", "key", "weight")

    def __init__(self, key: str, gid: int) -> None:
        tokens = set(_TOKEN.findall(key))
        self.key = key
        self.gid = gid
        self.generic = frozenset(tokens & _GENERIC)
        self.content = frozenset(tokens - self.generic)
        self.weight = len(self.content) + _GENERIC_WEIGHT * len(self.generic)


@dataclass(frozen=True, slots=True)
class QuestionGroup:
    """A question as the host sees it."""

    id: int
    text: str  # the question as first asked, in the viewer's own characters, without emoji or [愛心] codes
    count: int  # distinct askers (every ask counts when no user id is given)
    asks: int  # every time it was asked, repeats included
    first_seen_ms: int
    last_seen_ms: int


class _Group:
    __slots__ = ("askers", "asks", "count", "first_seen_ms", "id", "last_seen_ms", "placed", "snap", "text",
                 "variants")

    def __init__(self, gid: int, text: str, ts_ms: int) -> None:
        self.id = gid
        self.text = text
        self.variants: list[int] = []  # variant ids
        self.placed: list[str] = []  # phrasings filed here beyond its variants (QuestionBoard._placed)
        self.askers: set[str] = set()
        self.count = 0
        self.asks = 0
        self.first_seen_ms = ts_ms
        self.last_seen_ms = ts_ms
        self.snap: QuestionGroup | None = None  # the last snapshot, until the group changes (add)

    def snapshot(self) -> QuestionGroup:
        snap = self.snap
        if snap is None:
            snap = self.snap = QuestionGroup(self.id, self.text, self.count, self.asks, self.first_seen_ms,
                                             self.last_seen_ms)
        return snap


def _rank(group: _Group) -> tuple[int, int, int]:
    """A group's place in the top: more askers, then asked more recently, then the older group (ids
    grow as groups are made: the order of `_groups`, which a stable ranking of them would keep)."""
    return group.count, group.last_seen_ms, -group.id


class QuestionBoard:
    """Streaming groups of near-duplicate questions with counts; bounded memory and time.

    `add(text, user_id, ts_ms)` files a question and returns its group. At most `max_groups` groups
    are kept: when full, the tenth of the groups with the lowest count, halved every `half_life_ms`
    since last asked, is dropped at once (stale one-off questions go first; a question asked 40
    times an hour ago outlives one asked once a minute ago). Each group remembers up to
    `max_variants` phrasings to match against and up to `max_askers` user ids to count each viewer
    once; beyond that every ask counts.

    Candidates come from an index of content tokens. A token held by more than `common_token_limit`
    phrasings (面膜 in a mask stream) is too common to find candidates by; it still counts in the
    similarity. That keeps the work per question bounded whatever the stream.
    """

    def __init__(
        self,
        max_groups: int = 500,
        half_life_ms: int = 10 * 60_000,
        min_containment: float = 0.75,
        min_jaccard: float = 0.3,
        max_variants: int = 4,
        max_askers: int = 1_000,
        common_token_limit: int = 48,
    ) -> None:
        if max_groups < 1 or half_life_ms <= 0 or max_variants < 1 or common_token_limit < 1:
            raise ValueError(
                "QuestionBoard needs max_groups, half_life_ms, max_variants, common_token_limit >= 1"
            )
        self.max_groups = max_groups
        self.half_life_ms = half_life_ms
        self.min_containment = min_containment
        self.min_jaccard = min_jaccard
        self.max_variants = max_variants
        self.max_askers = max_askers
        self.common_token_limit = common_token_limit
        self._groups: dict[int, _Group] = {}
        self._variants: dict[int, _Variant] = {}
        self._by_key: dict[str, int] = {}  # phrasing -> variant id
        self._index: dict[str, set[int]] = {}  # content token -> variant ids holding it
        # Phrasings matched to a group that had no room for another variant: where they went, so that
        # a phrasing's group is decided once, when first asked, and never depends on what came since.
        # The report groups a stream's questions by their first asking alone and relies on this.
        self._placed: dict[str, int] = {}
        self._next_id = 1
        # The last `top(n)` (without `since_ms`) and the groups asked since: a group's rank key only
        # grows (count, last asked), so the next top n is among those two, until an eviction (see top).
        self._top: list[_Group] | None = None
        self._top_n = 0
        self._touched: set[int] = set()

    def __len__(self) -> int:
        return len(self._groups)

    def add(self, text: str, user_id: str | None, ts_ms: int) -> QuestionGroup:
        """File one question; a new group shows it as asked (script kept; white space collapsed, emoji and
        platform emoticon codes such as [愛心] dropped: they say nothing to the host)."""
        key = question_key(text)
        group = self._find(key)
        if group is None:
            group = self._create(key, display_text(text), ts_ms)
        group.asks += 1
        if user_id is None or len(group.askers) >= self.max_askers:
            group.count += 1
        elif user_id not in group.askers:
            group.askers.add(user_id)
            group.count += 1
        group.last_seen_ms = max(group.last_seen_ms, ts_ms)
        group.snap = None
        if self._top is not None:
            self._touched.add(group.id)
        return group.snapshot()

    def top(self, n: int = 10, since_ms: int | None = None) -> list[QuestionGroup]:
        """The `n` most asked groups (count, then most recently asked, then first created); optionally
        only recent ones.

        The live numbers ask for the top 20 after every commit with a question: ranking all of a
        real room's groups (482 after 20,000 real comments) and a new snapshot of each of the 20 took
        ~150 us a call (scripts/bench_question_top.py, 2026-12-06). Without `since_ms`, the top n is
        ranked from the last top n and the groups asked since (a group's count and last-asked time
        never fall, so one that was below n others still is), and unchanged groups give their kept
        snapshot: ~25 us. An eviction removes groups: the next call ranks them all again."""
        if since_ms is not None:
            recent = (g for g in self._groups.values() if g.last_seen_ms >= since_ms)
            return [g.snapshot() for g in heapq.nlargest(n, recent, key=_rank)]
        pool: Iterable[_Group] = self._groups.values()
        if self._top is not None and self._top_n == n:
            candidates = {g.id: g for g in self._top}
            for gid in self._touched:
                candidates[gid] = self._groups[gid]
            pool = candidates.values()
        ranked = heapq.nlargest(n, pool, key=_rank)
        self._top, self._top_n = ranked, n
        self._touched.clear()
        return [g.snapshot() for g in ranked]

    def get(self, group_id: int) -> QuestionGroup | None:
        group = self._groups.get(group_id)
        return group.snapshot() if group else None

    # --- matching ------------------------------------------------------------------------------

    def _find(self, key: str) -> _Group | None:
        vid = self._by_key.get(key)
        if vid is not None:
            return self._groups[self._variants[vid].gid]
        gid = self._placed.get(key)
        if gid is not None:
            return self._groups[gid]
        query = _Variant(key, 0)
        candidates: set[int] = set()
        for token in query.content:
            holders = self._index.get(token)
            if holders and len(holders) <= self.common_token_limit:
                candidates |= holders
        best: tuple[float, int] | None = None
        for vid in candidates:
            variant = self._variants[vid]
            shared = len(query.content & variant.content) + _GENERIC_WEIGHT * len(
                query.generic & variant.generic
            )
            containment = shared / min(query.weight, variant.weight)
            jaccard = shared / (query.weight + variant.weight - shared)
            if containment >= self.min_containment and jaccard >= self.min_jaccard:
                score = containment + jaccard
                if best is None or score > best[0]:
                    best = (score, variant.gid)
        if best is None:
            return None
        group = self._groups[best[1]]
        if len(group.variants) < self.max_variants:
            self._add_variant(group, key)
        elif len(group.placed) < MAX_PLACED:
            self._placed[key] = group.id
            group.placed.append(key)
        return group

    def _create(self, key: str, text: str, ts_ms: int) -> _Group:
        if len(self._groups) >= self.max_groups:
            self._evict(ts_ms)
        group = _Group(self._next_id, text, ts_ms)
        self._next_id += 1
        self._groups[group.id] = group
        self._add_variant(group, key)
        return group

    def _add_variant(self, group: _Group, key: str) -> None:
        vid = self._next_id
        self._next_id += 1
        variant = _Variant(key, group.id)
        self._variants[vid] = variant
        self._by_key[key] = vid
        group.variants.append(vid)
        for token in variant.content:
            self._index.setdefault(token, set()).add(vid)

    def _evict(self, now_ms: int) -> None:
        # A tenth at once, so a stream of new questions sorts the groups once per tenth, not per question.
        def standing(g: _Group) -> float:
            decay: float = 0.5 ** (max(0, now_ms - g.last_seen_ms) / self.half_life_ms)
            return g.count * decay

        for group in heapq.nsmallest(max(1, self.max_groups // 10), self._groups.values(), key=standing):
            self._remove(group)
        self._top = None  # the next top() ranks all the groups left
        self._touched.clear()

    def _remove(self, group: _Group) -> None:
        del self._groups[group.id]
        for key in group.placed:
            self._placed.pop(key, None)
        for vid in group.variants:
            variant = self._variants.pop(vid)
            if self._by_key.get(variant.key) == vid:
                del self._by_key[variant.key]
            for token in variant.content:
                holders = self._index.get(token)
                if holders is not None:
                    holders.discard(vid)
                    if not holders:
                        del self._index[token]
