"""Dates of birth, in figures (14/03/1998, 1998-03-14, ١٤/٠٣/١٩٩٨) or words (12 mai 2001,
March 3rd, 1999, 5 de junio de 1997, ٣ آذار ٢٠٠٠).

A full date (day, month and year) is a date of birth when a word about birth comes shortly
before it ("born", "DOB", "née le", "nací el", "تاريخ ميلادي", "родилась", "जन्म तिथि"), or
when its year is at least ``MIN_AGE`` years ago: dates of recent services and events stay.
"""

from __future__ import annotations

import re
from datetime import date

from .text import DATE, Span

MIN_AGE = 14
_MONTHS = (
    # English
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec|"
    # French, Spanish, Portuguese, Italian, Romanian, German
    "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|"
    "novembre|décembre|decembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto|"
    "septiembre|setiembre|octubre|noviembre|diciembre|janeiro|fevereiro|março|maio|junho|"
    "julho|setembro|outubro|novembro|dezembro|gennaio|febbraio|aprile|maggio|giugno|luglio|"
    "settembre|ottobre|dicembre|ianuarie|februarie|martie|aprilie|iunie|iulie|septembrie|"
    "octombrie|noiembrie|decembrie|januar|februar|märz|juni|juli|oktober|dezember|"
    # Russian and Ukrainian (genitive, as in a date)
    "января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря|"
    "січня|лютого|березня|квітня|травня|червня|липня|серпня|вересня|жовтня|листопада|грудня|"
    # Arabic: Gregorian names and the Levantine ones
    "يناير|فبراير|مارس|أبريل|ابريل|إبريل|مايو|يونيو|يوليو|أغسطس|اغسطس|سبتمبر|أكتوبر|اكتوبر|"
    "نوفمبر|ديسمبر|كانون الثاني|كانون الأول|شباط|آذار|اذار|نيسان|أيار|ايار|حزيران|تموز|آب|"
    "أيلول|ايلول|تشرين الأول|تشرين الثاني"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th|er|º|°|\.)?"
_YEAR = r"\d{4}"
_NUMERIC = re.compile(
    r"(?<![\d/.\-])(?:\d{1,2}[./\-]\d{1,2}[./\-](?P<y1>\d{4}|\d{2})"
    r"|(?P<y2>\d{4})[./\-]\d{1,2}[./\-]\d{1,2})(?![\d/\-]|\.\d)"
)
_WORDS = re.compile(
    rf"(?<!\w)(?:{_DAY}\s+(?:de\s+|of\s+)?(?:{_MONTHS})\.?,?\s+(?:de\s+|del\s+)?(?P<y1>{_YEAR})"
    rf"|(?:{_MONTHS})\.?\s+{_DAY},?\s+(?P<y2>{_YEAR}))(?!\d)",
    re.IGNORECASE,
)
_BIRTH = re.compile(
    r"(?<!\w)(?:born|birth|d\.?\s?o\.?\s?b|b\.|né|née|naissance|naci|nací|nacid[oa]|nacimiento|"
    r"nascid[oa]|nascimento|nașterii|nasterii|născut|nascut|geboren|geburtsdatum|nat[oa]\s|"
    r"ميلاد|ولدت|مواليد|родил|рождения|народження|народив|народил|जन्म|sinh|ipinanganak|"
    r"kuzaliwa|出生)",
    re.IGNORECASE,
)
# How far before a date a birth word may be: "born on the 3rd of March 1999", "DOB: 02-11-95".
_CUE_WINDOW = 30


def dates_of_birth(text: str, today: date | None = None) -> list[Span]:
    oldest_event = (today or date.today()).year - MIN_AGE
    spans = []
    for pattern in (_NUMERIC, _WORDS):
        for match in pattern.finditer(text):
            year_text = match.group("y1") or match.group("y2")
            year = int("".join(str(int(ch)) for ch in year_text))
            if (len(year_text) == 4 and year <= oldest_event) or _after_birth_word(text, match):
                spans.append(Span(match.start(), match.end(), DATE))
    return spans


def _after_birth_word(text: str, match: re.Match[str]) -> bool:
    """A birth word shortly before the date, and no other figures between them."""
    window_start = max(0, match.start() - _CUE_WINDOW)
    cues = list(_BIRTH.finditer(text, window_start, match.start()))
    return bool(cues) and not any(ch.isdigit() for ch in text[cues[-1].end() : match.start()])
