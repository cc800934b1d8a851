"""Comment text normalisation: what the host may see (`clean_text`) and what matching uses (`match_key`).

`display_text` drops emoji and emoticon codes but keeps the viewer's own characters: what a screen shows.

`clean_text` folds (full-width to half-width, traditional to simplified, lower case), drops emoji,
platform emoticon codes such as `[比心]` and zero-width characters, and collapses white space. It
keeps punctuation, because a question mark still means something to the classifier.

`match_key` goes further, for keyword matching and grouping: punctuation and spaces go (a space
stays only between two Latin words or numbers) and repeats collapse, so that 想要想要想要, 想要！！ and
想要 share one key, as do 哈哈哈 and 哈, sooooold and sold. Digits never collapse: 100 and 10 are
different prices, and 1111 is how viewers 扣1.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import TypeVar

from livecompanion.textnorm import fold

T = TypeVar("T")

# Emoji and pictographs, their modifiers (skin tones, variation selectors, the zero-width joiner,
# keycaps, regional indicators), private-use glyphs some keyboards send, and zero-width characters.
_EMOJI = re.compile(
    "["
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, flags, symbols and pictographs ext.
    # dingbats, but not their circled digits ❶-➓ (U+2776-2793): spam writes account numbers with them
    "\u2190-\u21ff\u2300-\u23ff\u25a0-\u25ff\u2600-\u2775\u2794-\u27bf\u2900-\u297f\u2b00-\u2bff"
    "\u3030\u303d\u3297\u3299\u00a9\u00ae\u2122\u2139"
    "\ufe00-\ufe0f\u200b-\u200f\u2060\ufeff\u20e3\U000e0020-\U000e007f"
    "\ue000-\uf8ff"
    "]+"
)
# Platform emoticon codes: Douyin and Kuaishou send [比心] [玫瑰], bilibili [dog]. Short, no spaces.
_EMOTICON_CODE = re.compile(r"\[[^\[\]\s]{1,8}\]")
_SPACES = re.compile(r"\s+")
# Symbols that carry meaning in spam (➕V = +V) are mapped before emoji are dropped.
_KEEP_AS_TEXT = str.maketrans({"➕": "+", "✚": "+", "＋": "+"})

_NON_WORD = re.compile(r"[\W_]+")
# A space survives in a key only between two ASCII letters/digits ("sold 2", "how much").
_SPACE_NOT_BETWEEN_ASCII = re.compile(r" (?![a-z0-9])|(?<![a-z0-9]) ")
_REPEATED_UNIT = re.compile(r"(\S{2,4}?)\1+")  # 想要想要 -> 想要, haha -> ha, 扣1扣1 -> 扣1
_REPEATED_CJK = re.compile(r"([\u3400-\u9fff])\1+")  # 哈哈哈 -> 哈, 要要要 -> 要
_REPEATED_LATIN = re.compile(r"([a-z])\1{2,}")  # soooold -> sold, but good stays good


def short_text_cache(function: Callable[[str], T]) -> Callable[[str], T]:
    """Remember `function` (pure, of the text alone) for short texts. Rooms repeat themselves (想要,
    扣1, 666, 主播晚上好 ... from thousands of viewers): in a simulated big room nine comments in ten
    had been seen before. Only short texts, so the cache stays a few MB."""
    cached = lru_cache(maxsize=16_384)(function)

    @wraps(function)
    def call(text: str) -> T:
        return cached(text) if len(text) <= 64 else function(text)

    return call


def _collapse_unit(m: re.Match[str]) -> str:
    unit = m.group(1)
    return m.group(0) if unit.isdigit() else unit  # 1212 or 2020 are numbers, not repeats


def clean_text(text: str) -> str:
    """Folded text without emoji, emoticon codes or extra white space; punctuation kept."""
    folded = fold(text).translate(_KEEP_AS_TEXT)
    without_emoji = _EMOJI.sub(" ", folded)
    if "[" in without_emoji:
        without_emoji = _EMOTICON_CODE.sub(" ", without_emoji)
    return _SPACES.sub(" ", without_emoji).strip()


def display_text(text: str) -> str:
    """The viewer's own words for a screen: emoji and platform emoticon codes ([愛心], ［比心］, [dog])
    dropped, white space collapsed; their characters (traditional or simplified), case and
    punctuation kept. A text that is nothing but those comes back as sent (white space collapsed)."""
    folded = fold(text)  # same length as the text: spans found in it are spans of the text
    dropped = [False] * len(text)
    for m in _EMOJI.finditer(folded):
        dropped[m.start():m.end()] = [True] * (m.end() - m.start())
    if "[" in folded:
        # Look for codes with the emoji already gone ("[愛心❤️]" is a code too), mapping back by index.
        kept = [i for i, gone in enumerate(dropped) if not gone]
        remaining = "".join(folded[i] for i in kept)
        for m in _EMOTICON_CODE.finditer(remaining):
            for i in kept[m.start():m.end()]:
                dropped[i] = True
    out: list[str] = []
    i = 0
    while i < len(text):
        if not dropped[i]:
            out.append(text[i])
            i += 1
            continue
        j = i
        while j < len(text) and dropped[j]:
            j += 1
        # What stood between two Latin words or numbers leaves a space ("how😍much"), else nothing.
        if (out and j < len(text) and out[-1].isascii() and out[-1].isalnum()
                and text[j].isascii() and text[j].isalnum()):
            out.append(" ")
        i = j
    shown = _SPACES.sub(" ", "".join(out)).strip()
    return shown or _SPACES.sub(" ", text).strip()


def key_of_clean(cleaned: str) -> str:
    """`match_key` for a text that already went through `clean_text`."""
    words = _NON_WORD.sub(" ", cleaned).strip()
    if " " in words:
        words = _SPACE_NOT_BETWEEN_ASCII.sub("", words)
    if len(words) < 2:
        return words
    collapsed = _REPEATED_LATIN.sub(r"\1", words)  # first, or soooold would pair up as so-oo-old
    collapsed = _REPEATED_UNIT.sub(_collapse_unit, collapsed)
    return _REPEATED_CJK.sub(r"\1", collapsed)


def match_key(text: str) -> str:
    """Canonical form for matching: cleaned, no punctuation or spaces, repeats collapsed."""
    return key_of_clean(clean_text(text))
