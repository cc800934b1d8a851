"""The most asked questions of a stream, from its comments.

Comment understanding is `livecompanion.ingest.comments`, the same as on the live path: its
classifier says which comments are questions (greetings, spam and buying signals are not), and its
`QuestionBoard` groups the same question asked in different words (适合油性皮肤吗 with 油皮能用吗).
The report runs them over the distinct comment texts only, the most sent first, at most
`MAX_TEXTS` of them: a huge stream's texts sent once each cannot reach the top questions one by
one, and classifying hundreds of thousands of them would cost seconds. Another grouper can be
passed as `grouper=` (distinct texts with their counts in, questions as groups of texts out).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import compress
from operator import itemgetter

from livecompanion.ingest.comments import QuestionBoard, classify_comment

MAX_TEXTS = 20_000
_TEXT = itemgetter(2)
ASKERS_SHOWN = 3

# distinct comment texts with their counts -> the questions among them, as groups of texts
Grouper = Callable[[Mapping[str, int]], list[list[str]]]


def group_questions(counts: Mapping[str, int], max_texts: int = MAX_TEXTS) -> list[list[str]]:
    """The questions among the distinct texts (most sent first, at most `max_texts` looked at),
    grouped by the live path's `QuestionBoard`."""
    ranked = counts.most_common(max_texts) if isinstance(counts, Counter) else sorted(
        counts.items(), key=lambda kv: -kv[1])[:max_texts]
    board = QuestionBoard(max_groups=max(1, len(ranked)))  # room for all: nothing is evicted
    groups: dict[int, list[str]] = {}
    for text, _ in ranked:
        if classify_comment(text).kind == "question":
            groups.setdefault(board.add(text, None, 0).id, []).append(text)
    return list(groups.values())


@dataclass(slots=True)
class Question:
    text: str  # the wording sent most often
    count: int  # comments in the group
    first_ts: int
    askers: list[str]  # the first few distinct authors (raw ids: pseudonymise before showing)


def top_questions(counts: Mapping[str, int], comments: Iterable[tuple[int, str, str]], limit: int = 20,
                  grouper: Grouper | None = None) -> list[Question]:
    """Most asked first; ties: the first asked first. `comments` are (ts, user, text) in ts order,
    iterated twice side by side (a list, or the report's `windows.Rows`)."""
    groups = (grouper or group_questions)(counts)
    if not groups:
        return []
    group_of = {text: i for i, texts in enumerate(groups) for text in texts}
    totals = [sum(counts.get(t, 0) for t in texts) for texts in groups]
    first_ts: list[int | None] = [None] * len(groups)
    askers: list[list[str]] = [[] for _ in groups]
    unsettled = len(groups)  # groups still short of their first time or their askers shown
    asked = compress(comments, map(group_of.__contains__, map(_TEXT, comments)))  # questions only
    for ts, user, text in asked:
        i = group_of[text]
        if first_ts[i] is None:
            first_ts[i] = ts
        if len(askers[i]) < ASKERS_SHOWN and user not in askers[i]:
            askers[i].append(user)
            if len(askers[i]) == ASKERS_SHOWN:
                unsettled -= 1
                if not unsettled:
                    break
    shown = [(i, ts) for i, ts in enumerate(first_ts) if ts is not None]
    shown.sort(key=lambda it: (-totals[it[0]], it[1]))
    return [
        Question(max(groups[i], key=lambda t: counts.get(t, 0)), totals[i], ts, askers[i])
        for i, ts in shown[:limit]
    ]
