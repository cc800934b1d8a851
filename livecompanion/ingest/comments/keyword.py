"""Lottery keyword matching (評論「想要」抽免單): does this comment enter the draw?

Both the comment and the keyword go through `match_key`, so 想要！！, 想要想要, 我想要 and 想要😍 all hold
想要, in traditional or simplified, full- or half-width. A keyword right after a negation does not
count: 不想要 and 没想要 do not enter (谁不想要, "who would not want it", does).
"""

from __future__ import annotations

from functools import lru_cache

from livecompanion.ingest.comments.lexicon import negated_at
from livecompanion.ingest.comments.normalize import match_key


class KeywordMatcher:
    """A prepared keyword; `matches(text)` is the per-comment test."""

    __slots__ = ("key", "keyword")

    def __init__(self, keyword: str) -> None:
        key = match_key(keyword)
        if not key:
            raise ValueError(f"lottery keyword {keyword!r} has no letters, digits or characters to match")
        self.keyword = keyword
        self.key = key

    def matches(self, text: str) -> bool:
        return self.matches_key(match_key(text))

    def matches_key(self, text_key: str) -> bool:
        """Same as `matches`, for a text already reduced by `match_key`."""
        start = text_key.find(self.key)
        while start != -1:
            if not negated_at(text_key, start):
                return True
            start = text_key.find(self.key, start + 1)
        return False


@lru_cache(maxsize=64)
def _matcher(keyword: str) -> KeywordMatcher:
    return KeywordMatcher(keyword)


def matches_keyword(text: str, keyword: str) -> bool:
    """Whether a comment holds the lottery keyword (folded, repeats collapsed, not negated)."""
    return _matcher(keyword).matches(text)
