"""The live path for one stream's comments: classify, drop spam and floods, group questions, count intent.

`CommentTriage.handle` is what ingest calls for every `comment` event. What the host sees comes
from `questions.top()` and `intents.counts()`; spam, whether judged on its own or as a flood, is
never filed there. Floods are looked for among chit-chat only (coordinated copy-paste: 主播是骗子
大家别买 from fifty fresh accounts); identical questions and intents from many viewers are normal.
"""

from __future__ import annotations

import dataclasses

from livecompanion.ingest.comments.classify import CommentAnalysis, classify_comment
from livecompanion.ingest.comments.intents import IntentCounter
from livecompanion.ingest.comments.questions import QuestionBoard
from livecompanion.ingest.comments.spam import SpamWindow


@dataclasses.dataclass(frozen=True, slots=True)
class TriageResult:
    analysis: CommentAnalysis  # kind "spam" with spam_reason "flood" when the window caught it
    question_group: int | None = None  # the QuestionBoard group id a question was filed under


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

    def handle(self, text: str, user_id: str | None, ts_ms: int) -> TriageResult:
        analysis = classify_comment(text)
        if analysis.kind == "spam":
            return TriageResult(analysis)
        # Only chit-chat is watched for floods. Many viewers typing the same 想要, the lottery keyword,
        # or one question (Douyin's 跟評 sends an identical copy with one tap) is the room working:
        # the question board already counts each viewer once.
        watched = analysis.kind == "chitchat"
        if watched and self.spam_window.observe(analysis.key, user_id, ts_ms):
            flood = dataclasses.replace(analysis, kind="spam", intents=(), spam_reason="flood")
            return TriageResult(flood)
        if analysis.intents:
            self.intents.add(analysis.intents, ts_ms)
        if analysis.kind == "question":
            group = self.questions.add(text, user_id, ts_ms)
            return TriageResult(analysis, group.id)
        return TriageResult(analysis)
