"""Redaction of free-text answers before analysts read them or a microdata file carries them.

What is replaced, and with what (each recogniser documents its rules and what still passes):

* ``[email]``   e-mail addresses, also spelled out ("amina dot k at gmail dot com");
* ``[link]``    URLs: ``http(s)://...``, ``www....`` and bare domains (``t.me/name``);
* ``[handle]``  social media handles: ``@name``, and ``insta: name.99`` after a platform's name;
* ``[phone]``   numbers ``phonenumbers`` accepts (international ones always, national ones for
  the configured region), runs of 8-15 digits that start like a phone number (``+``, ``00`` or
  ``0``) with spaces, dots, dashes or slashes, in any script's digits, and phone numbers
  written in words (English, French, Spanish, Portuguese, Arabic, Russian, Ukrainian);
* ``[number]``  ID-like numbers (6 digits or more, or digit groups of 7 or more) and codes of
  capitals and digits: passports, identity cards, permits, number plates (``codes``);
* ``[address]`` street addresses with a house number, post office boxes, postcodes
  (``addresses``);
* ``[date]``    dates of birth: full dates after a word about birth, or at least 14 years old
  (``dates``);
* ``[name]``    the programme's configured names in any spelling or script, and names found by
  context (``names``).

Kept on purpose: years, ages and other short numbers ("19 years old in 2019"), amounts,
times, dates of recent services and events, countries and towns, and ordinary words that are
also names ("hope", "joy"). Where recognisers overlap the union is replaced once, with the
label of the strongest (the order of the list above).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import date

import phonenumbers

from .addresses import addresses
from .codes import codes
from .contacts import digit_runs, emails, handles, links, phones
from .dates import dates_of_birth
from .names import ListedNames, find_names
from .spoken import spoken_phones
from .text import (
    ADDRESS,
    DATE,
    EMAIL,
    HANDLE,
    LINK,
    NAME,
    NUMBER,
    PHONE,
    PRIORITY,
    Span,
)

__all__ = [
    "ADDRESS",
    "DATE",
    "EMAIL",
    "HANDLE",
    "LINK",
    "NAME",
    "NUMBER",
    "PHONE",
    "Redactor",
    "UnknownRegionError",
]


class UnknownRegionError(ValueError):
    """The default region is not a region code that ``phonenumbers`` knows."""


class Redactor:
    """Replaces contact details, ID-like numbers, addresses, dates of birth and names."""

    def __init__(
        self, names: Iterable[str], default_region: str | None, today: date | None = None
    ) -> None:
        if default_region is not None:
            default_region = default_region.upper()
            if default_region not in phonenumbers.SUPPORTED_REGIONS:
                raise UnknownRegionError(
                    f"unknown phone region {default_region!r}; use a two-letter ISO 3166 "
                    "country code such as 'KE', 'FR' or 'JO', or None for international "
                    "numbers only"
                )
        self._region = default_region
        self._names = ListedNames(names)
        self._today = today

    def redact(self, text: str) -> str:
        text = unicodedata.normalize("NFC", text)
        pieces = []
        position = 0
        for span in _merge(self.spans(text)):
            pieces.append(text[position : span.start])
            pieces.append(span.label)
            position = span.end
        pieces.append(text[position:])
        return "".join(pieces)

    def spans(self, text: str) -> list[Span]:
        """Everything each recogniser would replace in ``text`` (NFC), overlaps included."""
        found = [*emails(text), *links(text), *handles(text), *spoken_phones(text)]
        digits = sum(ch.isdigit() for ch in text)
        # Most answers have few figures or none: the recognisers that need them are skipped.
        if digits >= 1:
            found += addresses(text)  # "3 place du Marché"
        if digits >= 2:
            found += [*codes(text), *dates_of_birth(text, self._today)]
        if digits >= 5:
            found += [*phones(text, self._region), *digit_runs(text)]
        found += find_names(text, self._names)
        return found


def _merge(spans: list[Span]) -> list[Span]:
    """Union of overlapping spans, each labelled by its strongest member."""
    merged: list[Span] = []
    for span in sorted(spans):
        if span.start >= span.end:
            continue
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            label = min(last.label, span.label, key=PRIORITY.__getitem__)
            merged[-1] = Span(last.start, max(last.end, span.end), label)
        else:
            merged.append(span)
    return merged
