"""The ad-law terms file: its format, checked entry by entry, and how it is read (adlaw.py matches).

A terms file is YAML: `version: 1`, `terms:` (each a literal `term` or a regex `pattern`, with
`category`, `reason`, and optionally `level`, `allow`, `prefix` + `continuations`,
`unless_followed_by`, `quote_before`, `enabled: false`) and `lexicons:` (named word lists a pattern
names as `{name}`). The built-in file is `adlaw_terms.yaml` next to this module; docs/adlaw.md
explains each key. A team's own file extends it: same term replaces, `enabled: false` removes, and it
sees the built-in lexicons. A file that cannot be used raises AdLawTermsError naming the file, the
line and the entry.

Loaded files are cached by path and modification time, so an edited file is read again. The word
lists become regular expressions through `WordTrie` (one branch per character, not one per word),
which the matcher uses too. Split from adlaw.py, which did both jobs; `scripts/eval_adlaw.py
--baseline` copies every `adlaw*` file of the scripts package at a ref, and the modules import each
other relatively so that such a copy runs on its own code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from livecompanion.textnorm import fold

__all__ = ["BUILTIN_TERMS_FILE", "CATEGORIES", "LEVELS", "AdLawTermsError", "PatternDef", "TermDef", "TermFile",
           "WordTrie", "file_key", "load_file"]

BUILTIN_TERMS_FILE = Path(__file__).with_name("adlaw_terms.yaml")
CATEGORIES = ("absolute", "state-endorsement", "efficacy", "anxiety", "price")
# A clear violation (rule `ad-law`) or a risk worth a look that is often fine in context (`ad-law-risk`).
LEVELS = ("violation", "risk")

_ENTRY_KEYS = {"term", "pattern", "category", "reason", "allow", "prefix", "continuations", "enabled", "level",
               "unless_followed_by", "quote_before"}
# What may follow a prefix term for it to be a claim: a CJK ideograph or a letter (最in, 最nice).
_PREFIX_NEXT = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffa-z]"


class AdLawTermsError(ValueError):
    """A terms file that cannot be used; the message says which file, line and entry."""


class _BadEntry(Exception):
    """One entry of a terms file is wrong; the loader adds file, line and index."""


@dataclass(frozen=True)
class TermDef:
    category: str
    reason: str
    allow: tuple[str, ...] = ()  # folded
    prefix: bool = False
    continuations: tuple[str, ...] = ()  # folded, without the term itself
    level: str = "violation"
    unless: re.Pattern[str] | None = None  # what, right after the hit, makes it ordinary language


@dataclass(frozen=True)
class PatternDef:
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
class TermFile:
    terms: dict[str, TermDef]  # folded term -> definition
    patterns: dict[str, PatternDef]  # pattern source -> compiled
    disabled: frozenset[str]  # folded terms / pattern sources switched off (`enabled: false`)
    lexicons: tuple[tuple[str, tuple[str, ...]], ...] = ()  # name -> folded words, for `{name}` in patterns


@dataclass
class _Builder:
    terms: dict[str, TermDef]
    patterns: dict[str, PatternDef]
    disabled: set[str]
    lexicons: dict[str, tuple[str, ...]] = field(default_factory=dict)


_END, _ANY = 0, 1  # trie node keys besides characters: a word ends here / any next character


class WordTrie:
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
        trie = WordTrie()
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
        into.patterns[keys[0]] = PatternDef(_parse_pattern(entry["pattern"], into.lexicons), category,
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
        into.terms[key] = TermDef(category, reason.strip(), tuple(a for a in allow if key in a), prefix,
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


# libyaml's loader when PyYAML has it (its wheels do): the built-in terms file (64 KB) loads in
# ~10 ms instead of ~130 ms, to the same data (compared on every YAML file in the repository).
# Every server process pays this once, in `wiring.warm_up()`.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=32)
def load_file(path: str, mtime_ns: int,  # mtime_ns: reload when the file changes
               inherited: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> TermFile:
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
            lines = _entry_lines(text)  # only for the message: a second parse, as slow as the first
            line = f"{lines[i]}:" if i < len(lines) else ""
            raise AdLawTermsError(f"{path}:{line} terms[{i}]: {exc}") from None
    return TermFile(parsed.terms, parsed.patterns, frozenset(parsed.disabled), tuple(lexicons.items()))


def file_key(path: Path) -> tuple[str, int]:
    resolved = path.resolve()
    try:
        return str(resolved), resolved.stat().st_mtime_ns
    except OSError as exc:
        raise AdLawTermsError(f"{path}: cannot read terms file: {exc}") from None
