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

Counts: `count` is counted as the live board counts it: distinct askers, each once, until a group
has `MAX_ASKERS` (1,000) of them, then every ask; `asks` is every question comment of the group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from heapq import nlargest
from itertools import compress

from livecompanion.ingest.comments import QuestionBoard, classify_comment, display_text

MAX_ASKERS = QuestionBoard().max_askers  # the live board's: beyond it, every ask counts

MAX_TEXTS = 20_000

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
    count: int  # askers, counted as the live board counts them (see the module docstring)
    asks: int  # question comments in the group
    first_ts: int
    askers: list[str]  # the first few distinct authors (raw ids: pseudonymise before showing)


def top_questions(counts: Mapping[str, int], comments: Iterable[tuple[int, str, str]], limit: int = 20,
                  grouper: Grouper | None = None) -> list[Question]:
    """Most askers first; ties: the first asked first. `counts`: distinct texts in first-sent order;
    `comments` are (ts, user, text) in ts order."""
    groups = (grouper or group_questions)(counts)
    if not groups:
        return []
    group_of = {text: i for i, texts in enumerate(groups) for text in texts}
    asks = [sum(counts.get(t, 0) for t in texts) for texts in groups]
    first_ts: list[int | None] = [None] * len(groups)
    shown: list[list[str]] = [[] for _ in groups]
    # Askers counted as the live board counts them: each distinct asker once until a group has
    # MAX_ASKERS of them, then every ask. A group's count is settled once it is full (the rest of its
    # asks are known from `asks`): its texts leave `group_of`, so its later comments are skipped at C
    # speed, and the loop sees a big group's questions only until it is full.
    seen: list[set[str] | None] = [set() for _ in groups]
    taken = [0] * len(groups)  # asks looked at, until the group is full
    full_at: list[int | None] = [None] * len(groups)
    open_groups = len(groups)
    ts_col, users, texts = _columns(comments)
    for ts, user, text in compress(zip(ts_col, users, texts), map(group_of.__contains__, texts)):
        i = group_of[text]
        if first_ts[i] is None:
            first_ts[i] = ts
        known = seen[i]
        assert known is not None  # a full group's texts have left group_of
        taken[i] += 1
        if user not in known:
            known.add(user)
            if len(shown[i]) < ASKERS_SHOWN:
                shown[i].append(user)
            if len(known) >= MAX_ASKERS:
                full_at[i], seen[i] = taken[i], None
                open_groups -= 1
                if not open_groups:
                    break
                for member in groups[i]:  # its later comments are now skipped at C speed
                    del group_of[member]
    count = [MAX_ASKERS + asks[i] - full if (full := full_at[i]) is not None else len(seen[i] or ())
             for i in range(len(groups))]
    ranked = [i for i in range(len(groups)) if first_ts[i] is not None]
    ranked.sort(key=lambda i: (-count[i], first_ts[i]))
    return [Question(display_text(groups[i][0]) or groups[i][0], count[i], asks[i], first_ts[i],  # type: ignore[arg-type]
                     shown[i]) for i in ranked[:limit]]


def _columns(comments: Iterable[tuple[int, str, str]]) -> tuple[Sequence[int], Sequence[str], Sequence[str]]:
    column = getattr(comments, "column", None)  # windows.Rows: the table's own lists, no copy
    if column is not None:
        return column.ts, column.users, column.values
    rows = list(comments)
    return [c[0] for c in rows], [c[1] for c in rows], [c[2] for c in rows]
