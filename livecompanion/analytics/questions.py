"""The most asked questions of a stream, from its comments, grouped as the host saw them live.

Comment understanding is `livecompanion.ingest.comments`, the same as on the live path: its
classifier says which comments are questions (greetings, spam and buying signals are not), and its
`QuestionBoard` groups the same question asked in different words (适合油性皮肤吗 with 油皮能用吗).
Grouping is order-dependent (a phrasing joins the groups that exist when it is first asked), so the
report files each distinct question text in the order it was FIRST sent, as the live board did;
the board decides a phrasing's group once, at its first asking, so the groups, their wording (the
first asked) and their counts (distinct askers) are those the console showed. Earlier the report
filed texts most-sent first, which grouped them differently: the live top "幾號鏈接 ×164" could be
split up or folded into another group in the report. Only the `MAX_TEXTS` most sent distinct texts
are classified (a huge stream's texts sent once each cannot reach the top; classifying hundreds of
thousands would cost seconds). Another grouper can be passed as `grouper=` (distinct texts with
their counts in first-sent order in, questions as groups of texts out, each group's first-sent
text first).

Counts: `count` is the distinct askers (as live; live counts every ask once a group has 1,000
askers, the report keeps counting distinct ones), `asks` every question comment of the group.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from heapq import nlargest
from itertools import compress
from operator import itemgetter
from typing import Callable, Mapping, Sequence

from livecompanion.ingest.comments import QuestionBoard, classify_comment, display_text

MAX_TEXTS = 20_000
_TEXT = itemgetter(2)
_FIRST = itemgetter(0)
ASKERS_SHOWN = 3

# distinct comment texts with their counts, in first-sent order -> the questions among them, as
# groups of texts (each group's first-sent text first)
Grouper = Callable[[Mapping[str, int]], list[list[str]]]


def group_questions(counts: Mapping[str, int], max_texts: int = MAX_TEXTS) -> list[list[str]]:
    """The questions among the distinct texts (given in first-sent order; at most the `max_texts`
    most sent are looked at), grouped by the live path's `QuestionBoard` in first-sent order."""
    texts: Sequence[str] = list(counts)
    if len(texts) > max_texts:
        kept = set(nlargest(max_texts, texts, key=counts.__getitem__))
        texts = [t for t in texts if t in kept]
    board = QuestionBoard(max_groups=max(1, len(texts)))  # room for all: nothing is evicted
    groups: dict[int, list[str]] = {}
    for text in texts:
        if classify_comment(text).kind == "question":
            groups.setdefault(board.add(text, None, 0).id, []).append(text)
    return list(groups.values())


@dataclass(slots=True)
class Question:
    text: str  # as first asked, as the live board shows it
    count: int  # distinct askers
    asks: int  # question comments in the group
    first_ts: int
    askers: list[str]  # the first few distinct authors (raw ids: pseudonymise before showing)


def top_questions(counts: Mapping[str, int], comments: Sequence[tuple[int, str, str]], limit: int = 20,
                  grouper: Grouper | None = None) -> list[Question]:
    """Most askers first; ties: the first asked first. `counts`: distinct texts in first-sent order;
    `comments` are (ts, user, text) in ts order."""
    groups = (grouper or group_questions)(counts)
    if not groups:
        return []
    group_of = {text: i for i, texts in enumerate(groups) for text in texts}
    asks = [sum(counts.get(t, 0) for t in texts) for texts in groups]
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
    distinct = _distinct_askers(groups, comments)
    ranked = [i for i in range(len(groups)) if first_ts[i] is not None]
    ranked.sort(key=lambda i: (-distinct[i], first_ts[i]))
    return [Question(display_text(groups[i][0]) or groups[i][0], distinct[i], asks[i], first_ts[i],  # type: ignore[arg-type]
                     askers[i]) for i in ranked[:limit]]


def _distinct_askers(groups: list[list[str]], comments: Sequence[tuple[int, str, str]]) -> Counter:
    """Distinct askers of each group (by index): the distinct (group, user) pairs of all comments,
    counted, in three passes at C speed (a Python loop over a big stream's comments costs more)."""
    users, texts = _columns(comments)
    number = {text: i for i, members in enumerate(groups, start=1) for text in members}  # from 1: truthy
    of_text = list(map(number.get, texts))  # None for a comment that is not a question
    pairs = set(zip(compress(of_text, of_text), compress(users, of_text)))  # tuples for questions only
    counts = Counter(map(_FIRST, pairs))
    return Counter({i - 1: n for i, n in counts.items()})


def _columns(comments: Sequence[tuple[int, str, str]]) -> tuple[Sequence[str], Sequence[str]]:
    column = getattr(comments, "column", None)  # windows.Rows: the table's own lists, no copy
    if column is not None:
        return column.users, column.values
    return [c[1] for c in comments], [c[2] for c in comments]
