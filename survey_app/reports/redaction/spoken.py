"""Phone numbers written in words: "zero seven one two...", "zéro six, douze, trente-quatre",
"seis uno dos", "صفر سبعة تسعة", "нуль шістдесят сім", and mixed with figures ("07 one two").

A run of number words (and groups of figures) that adds up to seven digits or more is a phone
number: nobody writes an amount of money or a date that way. "double"/"triple" repeat the next
digit; a word for 10-99 stands for two digits.
"""

from __future__ import annotations

import re

from .text import PHONE, Span

_ONE_DIGIT = (
    "zero oh o one two three four five six seven eight nine "
    "zéro zero un une deux trois quatre cinq six sept huit neuf "
    "cero uno una dos tres cuatro cinco seis siete ocho nueve "
    "um dois três quatro cinco seis sete oito nove "
    "صفر واحد اثنان اثنين ثلاثة ثلاث أربعة اربعة أربع خمسة خمس ستة ست سبعة سبع ثمانية ثمان "
    "تسعة تسع "
    "ноль нуль один одна два две три четыре пять шесть семь восемь девять "
    "одна дві чотири п'ять шість сім вісім дев'ять"
)
_TWO_DIGITS = (
    "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen "
    "twenty thirty forty fifty sixty seventy eighty ninety "
    "dix onze douze treize quatorze quinze seize vingt trente quarante cinquante soixante "
    "septante huitante octante nonante "
    "diez once doce trece catorce quince dieciséis dieciseis diecisiete dieciocho diecinueve "
    "veinte veintiuno veintidós veintitrés veinticuatro veinticinco veintiséis veintisiete "
    "veintiocho veintinueve treinta cuarenta cincuenta sesenta setenta ochenta noventa "
    "dez onze doze treze catorze quinze dezesseis vinte trinta quarenta cinquenta sessenta "
    "setenta oitenta noventa "
    "عشرة عشر عشرون عشرين ثلاثون ثلاثين أربعون أربعين خمسون خمسين ستون ستين سبعون سبعين "
    "ثمانون ثمانين تسعون تسعين "
    "десять одиннадцать двенадцать тринадцать двадцать тридцать сорок пятьдесят шестьдесят "
    "семьдесят восемьдесят девяносто "
    "одинадцять дванадцять тринадцять двадцять тридцять п'ятдесят шістдесят сімдесят "
    "вісімдесят дев'яносто"
)
_REPEAT = {"double": 1, "triple": 2, "doble": 1}
_JOINERS = {"and", "et", "y", "e", "и", "і", "و"}
_DIGITS: dict[str, int] = {w: 1 for w in _ONE_DIGIT.split()} | {w: 2 for w in _TWO_DIGITS.split()}
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*(?:-[^\W\d_]+)*|\d+")
# What may stand between the words of one number.
_GAP = re.compile(r"[\s,.\-/]*")
MIN_DIGITS = 7


def _digits(token: str) -> int | None:
    """How many digits a token stands for, or None if it is not part of a number."""
    if token.isdigit():
        return len(token)
    word = token.casefold().replace("’", "'")
    if word.startswith("و") and word not in _DIGITS and word[1:] in _DIGITS:
        word = word[1:]  # Arabic "and" written onto the word
    if word in _DIGITS:
        return _DIGITS[word]
    parts = word.split("-")
    if len(parts) > 1 and all(part in _DIGITS or part in _JOINERS for part in parts):
        return 2  # trente-quatre, soixante-dix-huit, vingt-et-un
    return None


def spoken_phones(text: str) -> list[Span]:
    spans = []
    run: _Run | None = None
    for match in _TOKEN.finditer(text):
        token = match.group()
        lowered = token.casefold()
        broken = run is not None and _GAP.fullmatch(text, run.end, match.start()) is None
        if run is not None and (broken or (run.joined and token.isdigit())):
            # Figures after "and" start an amount or a year, not the rest of a phone number.
            spans += run.close()
            run = None
        count = _digits(token)
        if count is None and lowered not in _REPEAT and lowered not in _JOINERS:
            if run is not None:
                spans += run.close()
            run = None
            continue
        if run is None:
            if count is None:
                continue  # a number does not begin with "and" or "double"
            run = _Run(match.start())
        run.end = match.end()
        run.joined = lowered in _JOINERS
        if lowered in _REPEAT:
            run.repeat = _REPEAT[lowered]
        elif count is not None and lowered not in _JOINERS:
            run.add(count, words=not token.isdigit(), end=match.end())
    if run is not None:
        spans += run.close()
    return spans


class _Run:
    def __init__(self, start: int) -> None:
        self.start = self.end = self.last = start
        self.digits = self.words = self.repeat = 0
        self.joined = False

    def add(self, count: int, *, words: bool, end: int) -> None:
        self.digits += count + self.repeat
        self.words += words
        self.repeat = 0
        self.last = end

    def close(self) -> list[Span]:
        if self.digits >= MIN_DIGITS and self.words >= 2:
            return [Span(self.start, self.last, PHONE)]
        return []
