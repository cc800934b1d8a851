"""Advertising-law lint (rule `ad-law`): find phrases a host should not say on air.

The terms live in data (`adlaw_terms.yaml` next to this module; format at its top and in
docs/adlaw.md), so a team can extend them with a file of its own. Matching runs on
`textnorm.fold(text)` (simplified, half-width, lower case, same length as the input), so a hit's
offsets point at the characters the host actually wrote, traditional or simplified.

All literal terms and allow words go into one trie, compiled to a single regular expression and
scanned leftmost-longest: 全网最低 is one hit, not also 最; 最后 (an allow word of 最) consumes its
characters and yields nothing. `prefix` terms (最) only flag together with the following character.
Regex `pattern` entries run separately; where a pattern hit and a term hit overlap, the longer wins.
Hits are dropped for `unless_followed_by` (discourse 最…的是, composition 100%棉), a negation
before them in the clause, and titles in 《》. Each entry is a clear violation (`ad-law`) or a
risk (`ad-law-risk`). On real text (scripts/eval_adlaw.py): precision 0.88 on held-out Taobao
product copy (0.63 before issue 18); recall on penalty phrases gathered after the list was frozen
0.48-0.72 with risks, then 0.52, 0.33 and 0.59 on three sets whose sources moved to trades no
phrase family covered (seeds, formula, myopia, liquor). So the fifth session made the health and
money claims data-driven detectors: `lexicons:` in the terms file (cure verbs, conditions and
disease endings, organs, doses, returns ...) that patterns name as `{name}`, each expanded into one
trie-built alternation. On the next fresh set (holdout9, 42 phrases) recall went from 0.69 to 0.905
with risks (0.50 to 0.69 for violations), copy precision unchanged, at 1.4-1.5x the time on 1 MB
(scripts/bench_adlaw.py --baseline). The lint is a first pass, not a compliance review; it flags,
it never blocks.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from livecompanion.textnorm import fold

# Relative on purpose: `scripts/eval_adlaw.py --baseline REF` imports a copy of these modules.
from .adlaw_file import (
    BUILTIN_TERMS_FILE,
    CATEGORIES,
    LEVELS,
    AdLawTermsError,
    PatternDef,
    TermDef,
    TermFile,
    WordTrie,
    file_key,
    load_file,
)

__all__ = ["BUILTIN_TERMS_FILE", "CATEGORIES", "LEVELS", "AdLawHit", "AdLawTermsError", "find_ad_law_terms"]


@dataclass(frozen=True)
class AdLawHit:
    term: str  # exactly as written in the input text
    start: int  # char offsets into the ORIGINAL text
    end: int
    category: str
    reason: str
    level: str = "violation"

    @property
    def rule(self) -> str:
        """The finding's rule: `ad-law` for a clear violation, `ad-law-risk` for a risk."""
        return "ad-law" if self.level == "violation" else "ad-law-risk"


@dataclass(frozen=True)
class _Matcher:
    regex: re.Pattern[str] | None
    words: dict[str, TermDef | None]  # folded word -> its term, or None for an allow word
    prefixes: dict[str, TermDef]  # prefix term -> definition, for "term + any character" hits
    patterns: tuple[PatternDef, ...]


def _merge(files: list[TermFile]) -> tuple[dict[str, TermDef], dict[str, PatternDef]]:
    terms: dict[str, TermDef] = {}
    patterns: dict[str, PatternDef] = {}
    for f in files:  # later files win: same term replaces, `enabled: false` removes
        for key in f.disabled:
            terms.pop(key, None)
            patterns.pop(key, None)
        terms.update(f.terms)
        patterns.update(f.patterns)
    return terms, patterns


@lru_cache(maxsize=16)
def _matcher(extra: tuple[str, int] | None) -> _Matcher:
    files = [load_file(*file_key(BUILTIN_TERMS_FILE))]
    if extra is not None:
        files.append(load_file(*extra, files[0].lexicons))
    terms, patterns = _merge(files)
    # Where one word is both, a listed term beats a continuation, which beats an allow word.
    words: dict[str, TermDef | None] = {w: None for term in terms.values() for w in term.allow}
    words.update((key + cont, term) for key, term in terms.items() for cont in term.continuations)
    words.update((key, term) for key, term in terms.items() if not term.prefix)
    prefixes = {key: term for key, term in terms.items() if term.prefix}
    trie = WordTrie()
    for word in words:
        trie.add(word)
    for key in prefixes:
        trie.add(key, prefix_only=True)
    source = trie.pattern()
    return _Matcher(re.compile(source) if source else None, words, prefixes, tuple(patterns.values()))


def find_ad_law_terms(text: str, extra_terms_file: Path | None = None) -> list[AdLawHit]:
    """Advertising-law phrases in `text`, sorted by start, never overlapping (the longest wins).

    `extra_terms_file` (same format as adlaw_terms.yaml) is merged over the built-in list.
    Raises AdLawTermsError when a terms file is missing or malformed.
    """
    matcher = _matcher(file_key(Path(extra_terms_file)) if extra_terms_file is not None else None)
    if not text:
        return []
    folded = fold(text)
    hits: list[tuple[int, int, TermDef | PatternDef]] = []
    if matcher.regex is not None:
        for m in matcher.regex.finditer(folded):
            word = m.group()
            term = matcher.words[word] if word in matcher.words else matcher.prefixes[word[:-1]]
            if term is not None and not (term.unless and term.unless.match(folded, m.end())):
                hits.append((m.start(), m.end(), term))  # term None: an allow word, ordinary language
    if matcher.patterns:
        found = []
        for p in matcher.patterns:
            for m in p.regex.finditer(folded):
                start, end = m.span()
                if end == start or (p.unless and p.unless.match(folded, end)):
                    continue
                if p.quote_before:
                    start = _word_start(folded, start, p.quote_before)
                if not (p.allow and _overlaps_allowed(folded, start, end, p.allow)):
                    found.append((start, end, p))
        if found:
            hits = _longest_first(hits + found)
    titles = _titles(folded) if "《" in folded else []
    return [AdLawHit(text[s:e], s, e, t.category, t.reason, t.level) for s, e, t in hits
            if not (titles and _in_title(titles, s)) and not _negated(folded, s)]


def _word_start(folded: str, start: int, most: int) -> int:
    """Move `start` back over at most `most` CJK ideographs (not over punctuation, digits or spaces)."""
    low = max(0, start - most)
    while start > low and "\u4e00" <= folded[start - 1] <= "\u9fff":
        start -= 1
    return start


def _overlaps_allowed(folded: str, start: int, end: int, allow: tuple[str, ...]) -> bool:
    """A pattern's allow word overlapping its hit (炎热 after 缓解, 臃肿 after 告别): ordinary language."""
    for word in allow:
        i = folded.find(word, max(0, start - len(word) + 1), end + len(word) - 1)
        if 0 <= i < end:
            return True
    return False


# A claim denied is no claim: "不会是…的首选", "并非第一". Looked for a few characters back, in the
# same clause.
_NEGATION = re.compile(
    r"(?:不是|不会是|并非|并不是|不算|不敢说|不能说|谈不上|称不上|算不上|没有什么)[^,.;!?，。；！？]{0,8}$"
)


def _negated(folded: str, start: int) -> bool:
    return bool(_NEGATION.search(folded, max(0, start - 14), start))


_FAR = 1 << 62


def _titles(folded: str) -> list[tuple[int, int]]:
    """The (opening, closing) offsets of every 《…》 in the text, found once per call: looking back
    for 《 from every hit made a long text quadratic (1 MB of dense host lines took 33 s)."""
    spans = []
    opening = folded.find("《")
    while opening >= 0:
        closing = folded.find("》", opening + 1)
        if closing < 0:
            break
        spans.append((opening, closing))
        opening = folded.find("《", closing + 1)
    return spans


def _in_title(titles: list[tuple[int, int]], start: int) -> bool:
    """Inside 《…》 (a book, film or song title), quoted, not claimed."""
    i = bisect.bisect_right(titles, (start, _FAR)) - 1
    return i >= 0 and titles[i][0] < start < titles[i][1]


def _longest_first(hits: list[tuple[int, int, Any]]) -> list[tuple[int, int, Any]]:
    """Drop overlaps, keeping the longer hit (the earlier one on a tie); sorted by start. A risk
    never hides a violation it overlaps, however long ("预防肿瘤、心血管" is still 预防肿瘤, ad-law)."""
    kept: list[tuple[int, int, Any]] = []
    for hit in sorted(hits, key=lambda h: (h[0], h[0] - h[1])):
        if kept and hit[0] < kept[-1][1]:  # overlaps the last kept hit
            last = kept[-1]
            longer = hit[1] - hit[0] > last[1] - last[0]
            graver = _level(hit) == "violation" and _level(last) == "risk"
            if graver or (longer and not (_level(hit) == "risk" and _level(last) == "violation")):
                kept[-1] = hit  # starts at or after kept[-1], so clear of everything before it
            continue
        kept.append(hit)
    return kept


def _level(hit: tuple[int, int, Any]) -> str:
    return str(getattr(hit[2], "level", "violation"))
