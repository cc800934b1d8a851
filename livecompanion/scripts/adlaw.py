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
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from livecompanion.textnorm import fold

__all__ = ["BUILTIN_TERMS_FILE", "CATEGORIES", "LEVELS", "AdLawHit", "AdLawTermsError", "find_ad_law_terms"]

BUILTIN_TERMS_FILE = Path(__file__).with_name("adlaw_terms.yaml")
CATEGORIES = ("absolute", "state-endorsement", "efficacy", "anxiety", "price")
# A clear violation (rule `ad-law`) or a risk worth a look that is often fine in context (`ad-law-risk`).
LEVELS = ("violation", "risk")

_ENTRY_KEYS = {"term", "pattern", "category", "reason", "allow", "prefix", "continuations", "enabled", "level",
               "unless_followed_by", "quote_before"}
# What may follow a prefix term for it to be a claim: a CJK ideograph or a letter (最in, 最nice).
_PREFIX_NEXT = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffa-z]"


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


class AdLawTermsError(ValueError):
    """A terms file that cannot be used; the message says which file, line and entry."""


class _BadEntry(Exception):
    """One entry of a terms file is wrong; the loader adds file, line and index."""


@dataclass(frozen=True)
class _Term:
    category: str
    reason: str
    allow: tuple[str, ...] = ()  # folded
    prefix: bool = False
    continuations: tuple[str, ...] = ()  # folded, without the term itself
    level: str = "violation"
    unless: re.Pattern[str] | None = None  # what, right after the hit, makes it ordinary language


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    category: str
    reason: str
    level: str = "violation"
    unless: re.Pattern[str] | None = None
    allow: tuple[str, ...] = ()  # folded words that, overlapping a hit, make it ordinary language
    # The quote starts up to this many CJK characters earlier: a pattern anchored on a disease ending
    # (关节炎 found at 炎) is fast, one that first scans any characters before it is not.
    quote_before: int = 0


@dataclass(frozen=True)
class _TermFile:
    terms: dict[str, _Term]  # folded term -> definition
    patterns: dict[str, _Pattern]  # pattern source -> compiled
    disabled: frozenset[str]  # folded terms / pattern sources switched off (`enabled: false`)
    lexicons: tuple[tuple[str, tuple[str, ...]], ...] = ()  # name -> folded words, for `{name}` in patterns


@dataclass
class _Builder:
    terms: dict[str, _Term]
    patterns: dict[str, _Pattern]
    disabled: set[str]
    lexicons: dict[str, tuple[str, ...]] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------ loading


def _entry_lines(text: str) -> list[int]:
    """1-based line of each item of the top-level `terms` list, for error messages."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "terms" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _strings(value: Any, what: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v.strip() for v in items):
        raise _BadEntry(f"`{what}` must be a non-empty string or a list of non-empty strings")
    if any(v != v.strip() for v in items):
        raise _BadEntry(f"`{what}` has leading or trailing spaces: {items!r}")
    return items


# `{name}` in a pattern stands for the words of lexicon `name`, `{a+b}` for those of both (a regex
# quantifier is `{2}`, `{0,8}`). One trie per placeholder: a pattern whose every branch starts with a
# literal lets the regex engine skip, in C, the positions where no branch can start; `(?:{a}|{b})`
# would not (measured: 0.98 s against 0.36 s for 600,000 characters).
_LEXICON_REF = re.compile(r"\{([a-z][a-z_]*(?:\+[a-z][a-z_]*)*)\}")


def _expand(source: str, lexicons: dict[str, tuple[str, ...]]) -> str:
    """Replace each `{name}` by one alternation of the lexicon's words, built as a trie so that a long
    word list costs one branch per character, not one per word."""
    def one(m: re.Match[str]) -> str:
        trie = _Trie()
        for name in m.group(1).split("+"):
            words = lexicons.get(name)
            if words is None:
                known = ", ".join(sorted(lexicons)) or "none"
                raise _BadEntry(f"pattern {source!r} names lexicon {name!r}, which is not defined (defined: {known})")
            for word in words:
                trie.add(word)
        return f"(?:{trie.pattern()})"
    return _LEXICON_REF.sub(one, source)


def _parse_pattern(source: Any, lexicons: dict[str, tuple[str, ...]] | None = None) -> re.Pattern[str]:
    if not isinstance(source, str) or not source:
        raise _BadEntry("`pattern` must be a non-empty string")
    # Patterns see folded text: a traditional or full-width literal would never match.
    folded = "".join(fold(ch) if ord(ch) > 127 else ch for ch in source)
    if folded != source:
        raise _BadEntry(f"pattern {source!r} must be simplified and half-width: write {folded!r}")
    try:
        regex = re.compile(_expand(source, lexicons or {}))
    except re.error as exc:
        raise _BadEntry(f"pattern {source!r} is not a valid regular expression: {exc}") from None
    if regex.fullmatch(""):
        raise _BadEntry(f"pattern {source!r} matches the empty text")
    return regex


def _parse_entry(entry: Any, into: _Builder) -> None:
    if not isinstance(entry, dict):
        raise _BadEntry("each entry must be a mapping with `term` (or `pattern`), `category`, `reason`")
    unknown = set(entry) - _ENTRY_KEYS
    if unknown:
        raise _BadEntry(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                         f"allowed: {', '.join(sorted(_ENTRY_KEYS))}")
    if ("term" in entry) == ("pattern" in entry):
        raise _BadEntry("an entry needs exactly one of `term` or `pattern`")
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _BadEntry("`enabled` must be true or false")
    quote_before = entry.get("quote_before", 0)
    if not isinstance(quote_before, int) or isinstance(quote_before, bool) or not 0 <= quote_before <= 8:
        raise _BadEntry("`quote_before` must be a whole number from 0 to 8")
    if "term" in entry and "quote_before" in entry:
        raise _BadEntry("`quote_before` only goes with `pattern`, not with `term`")
    if "pattern" in entry:
        for key in ("prefix", "continuations"):
            if key in entry:
                raise _BadEntry(f"`{key}` only goes with `term`, not with `pattern`")
    if "term" in entry:
        keys = [fold(t) for t in _strings(entry["term"], "term")]
    else:
        keys = [entry["pattern"] if isinstance(entry["pattern"], str) else ""]
    if not enabled:
        into.disabled.update(keys)
        return
    category, reason = entry.get("category"), entry.get("reason")
    if category not in CATEGORIES:
        raise _BadEntry(f"`category` must be one of {', '.join(CATEGORIES)} (got {category!r})")
    if not isinstance(reason, str) or not reason.strip():
        raise _BadEntry("`reason` must be a non-empty string (cite the article)")
    level = entry.get("level", "violation")
    if level not in LEVELS:
        raise _BadEntry(f"`level` must be one of {', '.join(LEVELS)} (got {level!r})")
    unless = _parse_pattern(entry["unless_followed_by"], into.lexicons) if "unless_followed_by" in entry else None
    allow = [fold(a) for a in _strings(entry["allow"], "allow")] if "allow" in entry else []
    if "pattern" in entry:
        if keys[0] in into.patterns:
            raise _BadEntry(f"pattern {keys[0]!r} is listed twice")
        into.patterns[keys[0]] = _Pattern(_parse_pattern(entry["pattern"], into.lexicons), category,
                                          reason.strip(), level, unless, tuple(allow), quote_before)
        return

    for word in allow:
        if not any(t in word and t != word for t in keys):
            raise _BadEntry(f"allow word {word!r} must contain one of the terms {keys} and be longer")
    prefix = entry.get("prefix", False)
    if not isinstance(prefix, bool):
        raise _BadEntry("`prefix` must be true or false")
    continuations = [fold(c) for c in _strings(entry["continuations"], "continuations")] \
        if "continuations" in entry else []
    if continuations and not prefix:
        raise _BadEntry("`continuations` only goes with `prefix: true`")
    for key in keys:
        if key in into.terms:
            raise _BadEntry(f"term {key!r} is listed twice")
        into.terms[key] = _Term(category, reason.strip(), tuple(a for a in allow if key in a), prefix,
                                tuple(continuations), level, unless)


def _parse_lexicons(value: Any, inherited: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """`lexicons:` maps a name to a list of words; a file sees the built-in lexicons and its own
    (its own win)."""
    lexicons = dict(inherited)
    if value is None:
        return lexicons
    if not isinstance(value, dict):
        raise _BadEntry("`lexicons` must map a name to a list of words")
    for name, words in value.items():
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z_]*", name):
            raise _BadEntry(f"lexicon name {name!r} must be lower-case letters and underscores")
        lexicons[name] = tuple(dict.fromkeys(fold(w) for w in _strings(words, f"lexicons.{name}")))
    return lexicons


# libyaml's loader when PyYAML was built with it (the wheels are): the built-in terms file (64 KB)
# loads in ~10 ms instead of ~130 ms, the same data (compared for every YAML file in the repository).
# Every server process pays this once, in `wiring.warm_up()`.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=32)
def _load_file(path: str, mtime_ns: int,  # mtime_ns: reload when the file changes
               inherited: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> _TermFile:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AdLawTermsError(f"{path}: cannot read terms file: {exc}") from None
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise AdLawTermsError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("terms"), list):
        raise AdLawTermsError(f"{path}: expected a mapping with a `terms:` list at the top")
    unknown = set(data) - {"version", "terms", "lexicons"}
    if unknown:
        raise AdLawTermsError(f"{path}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))}")
    if data.get("version", 1) != 1:
        raise AdLawTermsError(f"{path}: unsupported version {data['version']!r} (this code reads 1)")
    try:
        lexicons = _parse_lexicons(data.get("lexicons"), dict(inherited))
    except _BadEntry as exc:
        raise AdLawTermsError(f"{path}: {exc}") from None
    parsed = _Builder({}, {}, set(), lexicons)
    for i, entry in enumerate(data["terms"]):
        try:
            _parse_entry(entry, parsed)
        except _BadEntry as exc:
            lines = _entry_lines(text)  # only for the message: a second parse costs what the first did
            line = f"{lines[i]}:" if i < len(lines) else ""
            raise AdLawTermsError(f"{path}:{line} terms[{i}]: {exc}") from None
    return _TermFile(parsed.terms, parsed.patterns, frozenset(parsed.disabled), tuple(lexicons.items()))


def _file_key(path: Path) -> tuple[str, int]:
    resolved = path.resolve()
    try:
        return str(resolved), resolved.stat().st_mtime_ns
    except OSError as exc:
        raise AdLawTermsError(f"{path}: cannot read terms file: {exc}") from None


# ------------------------------------------------------------------------------------------ matching


_END, _ANY = 0, 1  # trie node keys besides characters: a word ends here / any next character


class _Trie:
    """Literal words -> one regex that matches, at each start, the longest word present."""

    def __init__(self) -> None:
        self.root: dict[str | int, Any] = {}

    def add(self, word: str, prefix_only: bool = False) -> None:
        node = self.root
        for ch in word:
            node = node.setdefault(ch, {})
        node[_ANY if prefix_only else _END] = True

    def pattern(self, node: dict[str | int, Any] | None = None) -> str:
        node = self.root if node is None else node
        children = sorted(k for k in node if isinstance(k, str))
        # Children start with distinct characters, so at most one literal branch can match; greedy
        # optional groups then give the longest word, backing off to shorter ones that end earlier.
        alts = [re.escape(ch) + self.pattern(node[ch]) for ch in children]
        if _ANY in node:
            alts.append(_PREFIX_NEXT)  # last: listed continuations and allow words come first
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if _END in node else body


@dataclass(frozen=True)
class _Matcher:
    regex: re.Pattern[str] | None
    words: dict[str, _Term | None]  # folded word -> its term, or None for an allow word
    prefixes: dict[str, _Term]  # prefix term -> definition, for "term + any character" hits
    patterns: tuple[_Pattern, ...]


def _merge(files: list[_TermFile]) -> tuple[dict[str, _Term], dict[str, _Pattern]]:
    terms: dict[str, _Term] = {}
    patterns: dict[str, _Pattern] = {}
    for f in files:  # later files win: same term replaces, `enabled: false` removes
        for key in f.disabled:
            terms.pop(key, None)
            patterns.pop(key, None)
        terms.update(f.terms)
        patterns.update(f.patterns)
    return terms, patterns


@lru_cache(maxsize=16)
def _matcher(extra: tuple[str, int] | None) -> _Matcher:
    files = [_load_file(*_file_key(BUILTIN_TERMS_FILE))]
    if extra is not None:
        files.append(_load_file(*extra, files[0].lexicons))
    terms, patterns = _merge(files)
    # Where one word is both, a listed term beats a continuation, which beats an allow word.
    words: dict[str, _Term | None] = {w: None for term in terms.values() for w in term.allow}
    words.update((key + cont, term) for key, term in terms.items() for cont in term.continuations)
    words.update((key, term) for key, term in terms.items() if not term.prefix)
    prefixes = {key: term for key, term in terms.items() if term.prefix}
    trie = _Trie()
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
    matcher = _matcher(_file_key(Path(extra_terms_file)) if extra_terms_file is not None else None)
    if not text:
        return []
    folded = fold(text)
    hits: list[tuple[int, int, _Term | _Pattern]] = []
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
