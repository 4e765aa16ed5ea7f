"""E-mail addresses, links, social media handles, phone numbers and long numbers."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from .text import EMAIL, HANDLE, LINK, NUMBER, PHONE, Span

# Parts are bounded (a local part has at most 64 characters) so that a long run of word
# characters costs linear time, not quadratic: an answer cannot stall the analyst's page.
_EMAIL = re.compile(r"(?<![\w.+\-])[\w.+\-]{1,64}@[\w\-]{1,63}(?:\.[\w\-]{1,63}){1,8}")
# Spelled out to dodge filters: "amina dot k at gmail dot com", "amina (at) gmail (dot) com".
_DOT = r"(?:\s*[(\[]\s*dot\s*[)\]]\s*|\s+dot\s+|\s+point\s+|\s+punto\s+|\.)"
_AT = r"(?:\s*[(\[]\s*(?:at|arobase|arroba)\s*[)\]]\s*|\s+(?:at|arobase|arroba)\s+)"
_SPELLED_EMAIL = re.compile(
    rf"(?<![\w.])\w[\w+\-]{{0,40}}(?:{_DOT}\w[\w+\-]{{0,40}}){{0,4}}{_AT}"
    rf"\w[\w\-]{{0,40}}(?:{_DOT}\w[\w\-]{{0,40}}){{0,4}}"
    rf"{_DOT}(?:com|org|net|fr|es|co|uk|de|ru|ua|ng|ke|in|info|mail)\b",
    re.IGNORECASE,
)
_AT_WORD = re.compile(r"\b(?:at|arobase|arroba)\b", re.IGNORECASE)
_SPELLED_DOT = re.compile(r"\s(?:dot|point|punto)\s")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_COMMON_TLDS = (
    "com|org|net|info|biz|edu|gov|int|ngo|io|co|app|dev|xyz|online|site|club|news|ly|ee|"
    "uk|fr|nl|ch|au|nz|ru|ua|ro|bg|gr|tr|pl|dk|fi|pt|ie|eu|"
    "ng|ke|gh|za|ug|tz|er|sn|cm|cd|bf|eg|dz|tn|sd|"
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
# @name, as on Instagram, TikTok, X, Telegram: not part of an e-mail address.
_AT_HANDLE = re.compile(r"(?<![\w@.+\-])@[A-Za-z0-9_](?:[\w.]*\w)?")
# "insta: amina.k99", "snap kwame_gh_23": a platform, then a word a person would not write
# in a sentence (it has a digit, a dot or an underscore inside).
_PLATFORM = (
    r"insta(?:gram)?|ig|snap(?:chat)?|tik\s?tok|telegram|tg|twitter|threads|facebook|fb|"
    r"viber|skype|signal|discord|kik|vk|imo|wechat|line|x"
)
_NAMED_HANDLE = re.compile(
    rf"\b(?:{_PLATFORM})\b\s*(?:[:\-]|is|es|c'est|est|é)?\s*(?:@?)"
    r"(?P<handle>(?=[\w.]*[\d._])[A-Za-z0-9_][\w.]*[A-Za-z0-9_])",
    re.IGNORECASE,
)
_SEPARATOR = r"(?:[ \u00a0]?[./\-][ \u00a0]?|[ \u00a0])"
_DIGIT_RUN = re.compile(rf"(?<![\d+])(?:\+[ \u00a0]?)?\(?\d+\)?(?:{_SEPARATOR}\(?\d+\)?)*(?!\d)")


def emails(text: str) -> list[Span]:
    found = [Span(m.start(), m.end(), EMAIL) for m in _EMAIL.finditer(text)]
    if not _AT_WORD.search(text):
        return found
    for match in _SPELLED_EMAIL.finditer(text):
        # "ask at help.example.org" is a link: a plain "at" needs a spelled "dot" too.
        spelled = match.group().casefold()
        if "(" in spelled or "[" in spelled or _SPELLED_DOT.search(spelled):
            found.append(Span(match.start(), match.end(), EMAIL))
    return found


def links(text: str) -> list[Span]:
    spans = []
    for pattern in (_URL, _BARE_DOMAIN):
        for match in pattern.finditer(text):
            end = match.start() + len(match.group().rstrip(_TRAILING_PUNCTUATION))
            spans.append(Span(match.start(), end, LINK))
    return spans


def handles(text: str) -> list[Span]:
    found = [Span(m.start(), m.end(), HANDLE) for m in _AT_HANDLE.finditer(text)]
    found += [
        Span(m.start("handle"), m.end("handle"), HANDLE) for m in _NAMED_HANDLE.finditer(text)
    ]
    return found


# Candidates ``phonenumbers`` may try in one answer: a real answer has a handful; "1/1/1/..."
# typed 1,000 times would otherwise cost a quarter of a second. Phone-shaped runs it no longer
# tries are still caught by ``digit_runs``.
MAX_PHONE_CANDIDATES = 50


def phones(text: str, region: str | None) -> list[Span]:
    matcher = phonenumbers.PhoneNumberMatcher(
        text, region, leniency=phonenumbers.Leniency.VALID, max_tries=MAX_PHONE_CANDIDATES
    )
    return [Span(match.start, match.end, PHONE) for match in matcher]


def digit_runs(text: str) -> list[Span]:
    """Long runs of digits: phone-like ones (from ``+``, ``00`` or ``0``) and ID-like ones."""
    spans = []
    for match in _DIGIT_RUN.finditer(text):
        label = _classify_digit_run(match.group())
        if label is not None:
            spans.append(Span(match.start(), match.end(), label))
    return spans


def _classify_digit_run(run: str) -> str | None:
    groups = ["".join(str(unicodedata.decimal(ch)) for ch in g) for g in re.findall(r"\d+", run)]
    digits = "".join(groups)
    if looks_like_date(groups):
        return None
    if 8 <= len(digits) <= 15 and (run.startswith("+") or digits.startswith("0")):
        return PHONE
    if len(groups) == 1 and len(digits) >= 6:
        return NUMBER
    if len(digits) >= 7 or (len(groups) >= 3 and len(digits) >= 6):
        return NUMBER
    return None


def looks_like_date(groups: list[str]) -> bool:
    """Three groups of digits that read as a day, month and year in some order."""
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
