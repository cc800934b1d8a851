"""One comment, one class: question, intent, spam or chitchat; plus the intent signals it carries.

Precedence: spam first (it never reaches the host), then question, then intent, else chitchat.
A question that is also a buying signal (怎么买, 几号链接, 有链接吗, 还能拍吗) is classed `question`,
because it needs an answer and grouping shows the host how many ask it, and it still carries its
intent signal (`intents == ("求链接",)`) so the intent counter sees it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from livecompanion.ingest.comments.lexicon import (
    COMPILED_INTENTS,
    EXCLAMATION,
    PHATIC,
    QUESTION_FINAL,
    QUESTION_STRONG,
    negated_at,
)
from livecompanion.ingest.comments.normalize import clean_text, key_of_clean, short_text_cache
from livecompanion.ingest.comments.spam import spam_reason

CommentKind = Literal["question", "intent", "spam", "chitchat"]
COMMENT_KINDS: tuple[CommentKind, ...] = ("question", "intent", "spam", "chitchat")


@dataclass(frozen=True, slots=True)
class CommentAnalysis:
    kind: CommentKind
    text: str  # what the classifier read: `clean_text` (folded, no emoji)
    key: str  # match key: the text as matching and grouping see it
    intents: tuple[str, ...] = ()  # canonical intent phrases found (想要, 扣1, 上车, 已拍, 求链接)
    spam_reason: str | None = None  # link, phone number, private account, advertising, flood


def intent_signals(key: str) -> tuple[str, ...]:
    """Canonical intent phrases in a match key, negated ones (不想要, 没抢到) left out."""
    found: list[str] = []
    for phrase, pattern in COMPILED_INTENTS:
        for m in pattern.finditer(key):
            if not negated_at(key, m.start()):
                found.append(phrase)
                break
    return tuple(found)


def is_question(cleaned: str, key: str) -> bool:
    """Whether a viewer asks something the host could answer (greetings and surprise excluded)."""
    if not key or PHATIC.search(key):
        return False
    if QUESTION_STRONG.search(key) or QUESTION_FINAL.search(cleaned):
        return True
    return "?" in cleaned and not EXCLAMATION.search(key)


@short_text_cache
def classify_comment(text: str) -> CommentAnalysis:
    """Classify one comment on its own (no history: floods are `SpamWindow`'s job)."""
    cleaned = clean_text(text)
    key = key_of_clean(cleaned)
    if not key:
        return CommentAnalysis("chitchat", cleaned, key)
    reason = spam_reason(cleaned)
    if reason is not None:
        return CommentAnalysis("spam", cleaned, key, (), reason)
    intents = intent_signals(key)
    if is_question(cleaned, key):
        return CommentAnalysis("question", cleaned, key, intents)
    return CommentAnalysis("intent" if intents else "chitchat", cleaned, key, intents)
