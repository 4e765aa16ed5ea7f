"""What every recogniser shares: spans, words in any script, and spelling-blind forms of words."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

EMAIL = "[email]"
LINK = "[link]"
HANDLE = "[handle]"
PHONE = "[phone]"
NUMBER = "[number]"
ADDRESS = "[address]"
DATE = "[date]"
NAME = "[name]"
# Where replacements overlap, the union takes the label of the strongest (first) one.
PRIORITY = {
    label: rank
    for rank, label in enumerate((EMAIL, LINK, HANDLE, PHONE, NUMBER, ADDRESS, DATE, NAME))
}


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    label: str


def _combining_marks() -> str:
    """A character class body with every combining mark of the Basic Multilingual Plane.

    ``re``'s ``\\w`` leaves out marks, so an Arabic word with vowel marks or a Devanagari word
    with vowel signs would fall apart into pieces without them.
    """
    ranges: list[tuple[int, int]] = []
    for code in range(0x300, 0x10000):
        if unicodedata.category(chr(code)).startswith("M"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


MARKS = _combining_marks()
LETTER = rf"(?:[^\W\d_]|[{MARKS}])"
# A word: letters with their marks (an apostrophe ends it: d'Hélène, AMINA's).
WORD = re.compile(rf"{LETTER}+")
# Marks that change a word's spelling but not whom it names: Latin, Greek and Cyrillic
# accents, Arabic vowel marks. (Devanagari vowel signs, by contrast, are part of the name.)
_SPELLING_MARKS = re.compile("[\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")

_ARABIC_LETTER_VARIANTS = str.maketrans(
    {
        "\u0623": "\u0627",  # alef with hamza above
        "\u0625": "\u0627",  # alef with hamza below
        "\u0622": "\u0627",  # alef with madda
        "\u0671": "\u0627",  # alef wasla
        "\u0629": "\u0647",  # teh marbuta -> heh
        "\u0649": "\u064a",  # alef maksura -> yeh
        "\u0624": "\u0648",  # waw with hamza
        "\u0626": "\u064a",  # yeh with hamza
        "\u06cc": "\u064a",  # Persian yeh
        "\u06a9": "\u0643",  # Persian keheh
        "\u0640": None,  # tatweel
    }
)


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """The word with case, accents, Arabic vowel marks, tatweel and letter variants removed."""
    bare = _SPELLING_MARKS.sub("", unicodedata.normalize("NFKD", word))
    return unicodedata.normalize("NFC", bare).casefold().translate(_ARABIC_LETTER_VARIANTS)


def is_capitalised(word: str) -> bool:
    return word[:1].isupper()


def has_case(word: str) -> bool:
    """Whether the word's script has capital letters (Latin, Cyrillic, Greek...)."""
    return word[:1].upper() != word[:1].lower()
