"""Redaction of free-text answers before analysts read them.

What is replaced, and with what:

* ``[email]``  e-mail addresses;
* ``[link]``   URLs: ``http(s)://...``, ``www....`` and bare domains such as ``example.org/path``
  (bare domains only with common top-level domains, so that ``end.Next`` typed without a
  space survives; domains whose ending is also a word, like ``.in`` or ``.it``, need a path);
* ``[phone]``  numbers that ``phonenumbers`` accepts as valid (international ones always, local
  ones for the configured default region), and any run of 8-15 digits that starts like a phone
  number (``+``, ``00`` or ``0``), in any script's digits;
* ``[number]`` ID-like numbers: a run of 6 or more digits, or digit groups joined by spaces,
  dots or dashes totalling 7 or more digits (6 or more in 3 groups or more), and passport-like
  codes of 1-2 letters followed by 6-9 digits;
* ``[name]``   each configured name, whole word, case-insensitive, in any script; a name written
  in Arabic script is also found behind an attached prefix (و، ف، ب، ل، ك، ال ...).

Kept on purpose: years, ages and other short numbers ("19 years old in 2019"), dates written as
day-month-year or year-month-day, and decimals. Where patterns overlap the union is replaced
once, with the label of the strongest pattern (the order of the list above).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers

EMAIL = "[email]"
LINK = "[link]"
PHONE = "[phone]"
NUMBER = "[number]"
NAME = "[name]"
_PRIORITY = {EMAIL: 0, LINK: 1, PHONE: 2, NUMBER: 3, NAME: 4}

_EMAIL = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_COMMON_TLDS = (
    "com|org|net|info|biz|edu|gov|int|ngo|io|co|app|dev|xyz|online|site|club|news|"
    "uk|fr|nl|ch|au|nz|ru|ua|ro|bg|gr|tr|pl|dk|fi|pt|ie|eu|"
    "ng|ke|gh|za|ug|tz|er|sn|cm|cd|bf|eg|dz|tn|ly|sd|"
    "lb|jo|iq|sy|ps|ae|qa|kw|ye|ir|af|pk|bd|np|lk|th|vn|ph|cn|jp|kr|br|mx"
)
# Endings that are also words in the languages we serve: only a path makes them a link.
_WORDLIKE_TLDS = (
    "in|it|me|us|be|am|is|to|at|so|do|tv|fm|la|al|de|es|se|no|my|id|ne|et|ma|sa|ca|ci|om|ar"
)
_BARE_DOMAIN = re.compile(
    r"(?<![\w@.\-])(?:[\w\-]+\.)+"
    rf"(?:(?:{_COMMON_TLDS})(?![\w\-])(?:/[^\s<>\"']*)?"
    rf"|(?:{_WORDLIKE_TLDS})/[^\s<>\"']*)",
    re.IGNORECASE,
)
_TRAILING_PUNCTUATION = ".,;:!?)]}\"'\u00bb\u2019\u201d"
_SEPARATOR = r"(?:[ \u00a0]?[.\-][ \u00a0]?|[ \u00a0])"
_DIGIT_RUN = re.compile(rf"(?<![\d+])(?:\+[ \u00a0]?)?\(?\d+\)?(?:{_SEPARATOR}\(?\d+\)?)*(?!\d)")
_PASSPORT = re.compile(r"(?<!\w)[A-Za-z]{1,2}\d{6,9}(?!\w)")
_ARABIC_PREFIX = "(?:وال|بال|فال|كال|لل|ال|و|ف|ب|ل|ك)?"


class UnknownRegionError(ValueError):
    """The default region is not a region code that ``phonenumbers`` knows."""


@dataclass(frozen=True, order=True)
class _Span:
    start: int
    end: int
    label: str


class Redactor:
    """Replaces contact details, ID-like numbers and given names in free text."""

    def __init__(self, names: Iterable[str], default_region: str | None) -> None:
        if default_region is not None:
            default_region = default_region.upper()
            if default_region not in phonenumbers.SUPPORTED_REGIONS:
                raise UnknownRegionError(
                    f"unknown phone region {default_region!r}; use a two-letter ISO 3166 "
                    "country code such as 'KE', 'FR' or 'JO', or None for international "
                    "numbers only"
                )
        self._region = default_region
        self._names = _name_pattern(names)

    def redact(self, text: str) -> str:
        text = unicodedata.normalize("NFC", text)
        spans = [
            *self._emails(text),
            *self._links(text),
            *self._phones(text),
            *self._digit_runs(text),
            *(_Span(m.start(), m.end(), NUMBER) for m in _PASSPORT.finditer(text)),
            *self._name_spans(text),
        ]
        pieces = []
        position = 0
        for span in _merge(spans):
            pieces.append(text[position : span.start])
            pieces.append(span.label)
            position = span.end
        pieces.append(text[position:])
        return "".join(pieces)

    def _emails(self, text: str) -> list[_Span]:
        return [_Span(m.start(), m.end(), EMAIL) for m in _EMAIL.finditer(text)]

    def _links(self, text: str) -> list[_Span]:
        spans = []
        for pattern in (_URL, _BARE_DOMAIN):
            for match in pattern.finditer(text):
                end = match.start() + len(match.group().rstrip(_TRAILING_PUNCTUATION))
                spans.append(_Span(match.start(), end, LINK))
        return spans

    def _phones(self, text: str) -> list[_Span]:
        matcher = phonenumbers.PhoneNumberMatcher(
            text, self._region, leniency=phonenumbers.Leniency.VALID
        )
        return [_Span(match.start, match.end, PHONE) for match in matcher]

    def _digit_runs(self, text: str) -> list[_Span]:
        spans = []
        for match in _DIGIT_RUN.finditer(text):
            label = _classify_digit_run(match.group())
            if label is not None:
                spans.append(_Span(match.start(), match.end(), label))
        return spans

    def _name_spans(self, text: str) -> list[_Span]:
        if self._names is None:
            return []
        return [_Span(m.start(), m.end(), NAME) for m in self._names.finditer(text)]


def _classify_digit_run(run: str) -> str | None:
    groups = ["".join(str(unicodedata.decimal(ch)) for ch in group) for group in _groups(run)]
    digits = "".join(groups)
    if _looks_like_date(groups):
        return None
    if 8 <= len(digits) <= 15 and (run.startswith("+") or digits.startswith("0")):
        return PHONE
    if len(groups) == 1 and len(digits) >= 6:
        return NUMBER
    if len(digits) >= 7 or (len(groups) >= 3 and len(digits) >= 6):
        return NUMBER
    return None


def _groups(run: str) -> list[str]:
    return re.findall(r"\d+", run)


def _looks_like_date(groups: list[str]) -> bool:
    if len(groups) != 3:
        return False
    lengths = [len(group) for group in groups]
    numbers = [int(group) for group in groups]
    if lengths[0] == 4 and lengths[1] <= 2 and lengths[2] <= 2:
        _, month, day = numbers
    elif lengths[2] in (2, 4) and lengths[0] <= 2 and lengths[1] <= 2:
        # Day-month or month-day order: accept either reading.
        day, month = min(numbers[0], numbers[1]), max(numbers[0], numbers[1])
        if month > 12:
            day, month = month, day
    else:
        return False
    return 1 <= month <= 12 and 1 <= day <= 31


def _name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    cleaned = {unicodedata.normalize("NFC", " ".join(name.split())) for name in names}
    alternatives = []
    # Longest first, so that "Marie Dupont" wins over "Marie".
    for name in sorted((n for n in cleaned if n), key=lambda n: (-len(n), n)):
        body = r"\s+".join(re.escape(part) for part in name.split())
        prefix = _ARABIC_PREFIX if _is_arabic_letter(name[0]) else ""
        alternatives.append(rf"(?<!\w){prefix}{body}(?!\w)")
    if not alternatives:
        return None
    return re.compile("|".join(alternatives), re.IGNORECASE)


def _is_arabic_letter(character: str) -> bool:
    return "ARABIC" in unicodedata.name(character, "") and character.isalpha()


def _merge(spans: list[_Span]) -> list[_Span]:
    """Union of overlapping spans, each labelled by its strongest member."""
    merged: list[_Span] = []
    for span in sorted(spans):
        if span.start >= span.end:
            continue
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            label = min(last.label, span.label, key=_PRIORITY.__getitem__)
            merged[-1] = _Span(last.start, max(last.end, span.end), label)
        else:
            merged.append(span)
    return merged
