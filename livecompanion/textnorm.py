"""Text normalisation shared by the ad-law lint and comment understanding.

`fold` maps a text to a canonical form so that 最佳 and 最佳, 國家級 and 国家级, ＡＢＣ and abc compare
equal: Unicode NFKC (full-width to half-width), traditional to simplified Chinese character by
character, lower case. It keeps the length of the text unchanged, so an index into the folded text
is an index into the original: findings can point at the exact characters the host wrote.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    # OpenCC's character dictionary: "traditional<TAB>simplified [alternatives]". Only one-to-one
    # character pairs go in, so str.translate stays length-preserving (and ~40x faster than
    # OpenCC's phrase-level converter, which matters at thousands of comments a second).
    table: dict[int, str] = {}
    text = resources.files("opencc").joinpath("dictionary/TSCharacters.txt").read_text("utf-8")
    for line in text.splitlines():
        trad, _, simp = line.partition("\t")
        simp = simp.split(" ")[0]
        if len(trad) == 1 and len(simp) == 1:
            table[ord(trad)] = simp
    return table


def _nfkc_char(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 else ch


@lru_cache(maxsize=1)
def _width_table() -> dict[int, str]:
    # Full-width ASCII (！to ～) and the ideographic space: the part of NFKC that matters in chat,
    # again one character for one.
    table = {cp: _nfkc_char(chr(cp)) for cp in range(0xFF01, 0xFF5F)}
    table[0x3000] = " "
    return table


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    table = dict(_t2s_table())
    table.update(_width_table())
    return table


def to_simplified(text: str) -> str:
    """Traditional to simplified, character by character; same length as the input."""
    return text.translate(_t2s_table())


def fold(text: str) -> str:
    """Canonical form for matching: half-width, simplified, lower case; same length as the input."""
    folded = text.translate(_fold_table())
    lowered = folded.lower()
    # str.lower can change the length for a few characters (İ); keep positions exact then.
    return lowered if len(lowered) == len(folded) else folded
