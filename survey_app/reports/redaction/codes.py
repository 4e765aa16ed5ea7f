"""Document numbers and number plates: short codes of capital letters and digits.

Passports (P4521873, 18AV24567), identity cards (12345678Z, X1234567L, КВ123456, ABCDE1234F),
national insurance (QQ 12 34 56 C), permits (RP-2020-004512) and plates (AB12 CDE, AB-123-CD,
B-MK 1234, KDA 123A, 1234 BCD, MH 12 AB 1234, А123ВС 77) share a shape: groups of capitals and
digits, at least two digits and one letter, five characters or more. Words in capitals
(COVID-19, NHS) are kept: a group of letters alone is at most three long.
"""

from __future__ import annotations

import re

from .contacts import looks_like_date
from .text import NUMBER, Span

# Capitals of the Latin (with accents), Greek and Cyrillic alphabets, and digits of any script.
_GROUP = r"[A-Z\u00c0-\u00de\u0391-\u03a9\u0400-\u042f\d]+"
# Words in capitals that sit beside figures in ordinary answers ("2010 I left", "1500 EUR",
# "the NGO 2024 report"): they end a code rather than join it.
_NOT_PART = frozenset(
    "I A EUR USD GBP KES NGN GHS UGX TZS ETB ERN JOD LBP EGP SAR AED QAR INR NPR PKR BDT PHP "
    "VND THB CNY RUB UAH RON MDL ALL CHF NGO NGOS UN EU UK US USA NHS ID AM PM".split()
)
_CODE = re.compile(rf"(?<![\w@.\-/]){_GROUP}(?:(?:[ \-]|\.(?=\d)){_GROUP})*(?![\w@])")


def codes(text: str) -> list[Span]:
    spans = []
    for match in _CODE.finditer(text):
        # A word in capitals (PLATE, COVID, EUR) splits the run: the pieces are judged apart.
        run: list[re.Match[str]] = []
        for group in [*re.finditer(_GROUP, match.group()), None]:
            word = "" if group is None else group.group()
            if group is not None and not (word.isalpha() and (len(word) > 3 or word in _NOT_PART)):
                run.append(group)
                continue
            if run:
                start, end = match.start() + run[0].start(), match.start() + run[-1].end()
                if _is_code(text[start:end]):
                    spans.append(Span(start, end, NUMBER))
            run = []
    return spans


def _is_code(candidate: str) -> bool:
    if looks_like_date(re.findall(r"\d+", candidate)):
        return False  # "DOB 02-11-95": a date after a word in capitals
    digits = sum(ch.isdigit() for ch in candidate)
    letters = sum(ch.isalpha() for ch in candidate)
    return digits >= 2 and letters >= 1 and digits + letters >= 5
