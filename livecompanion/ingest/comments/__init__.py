"""Comment understanding for the live path: pure, fast, bounded in memory.

- `clean_text`, `match_key`: normalisation (folded, emoji dropped; for matching, repeats collapsed);
  `display_text`: the viewer's own words without emoji or emoticon codes, for screens.
- `classify_comment`: question, intent, spam or chitchat, with the intent signals a comment carries;
  `in_selling_context`: the same comment while something is on sale (slang such as 扣1 counts).
- `matches_keyword`: lottery entry test (不想要 does not enter).
- `QuestionBoard`: near-duplicate questions grouped with counts; `IntentCounter`: 想要 ×132.
- `SpamWindow`: the same text from many users within seconds (long: a flood; short: a chant).
- `CommentTriage`: all of the above for one stream, what ingest calls per comment.
"""

from livecompanion.ingest.comments.classify import (
    COMMENT_KINDS,
    CommentAnalysis,
    CommentKind,
    classify_comment,
    in_selling_context,
    intent_signals,
    is_question,
)
from livecompanion.ingest.comments.intents import INTENT_PHRASES, IntentCount, IntentCounter
from livecompanion.ingest.comments.keyword import KeywordMatcher, matches_keyword
from livecompanion.ingest.comments.normalize import clean_text, display_text, match_key
from livecompanion.ingest.comments.questions import QuestionBoard, QuestionGroup, question_key
from livecompanion.ingest.comments.spam import SpamWindow, spam_reason
from livecompanion.ingest.comments.triage import CommentTriage, TriageResult

__all__ = [
    "COMMENT_KINDS",
    "INTENT_PHRASES",
    "CommentAnalysis",
    "CommentKind",
    "CommentTriage",
    "IntentCount",
    "IntentCounter",
    "KeywordMatcher",
    "QuestionBoard",
    "QuestionGroup",
    "SpamWindow",
    "TriageResult",
    "classify_comment",
    "clean_text",
    "display_text",
    "in_selling_context",
    "intent_signals",
    "is_question",
    "match_key",
    "matches_keyword",
    "question_key",
    "spam_reason",
]
