"""The redaction test set (``fixtures/redaction``) and how a redacted answer is scored against it.

A personal detail counts as redacted when every letter and digit of it was replaced. A
replacement counts as right when it covers some letter or digit of a labelled detail, wrong when
it only covers ordinary words. Scoring reads only the redacted text, so that it measures what an
analyst sees, whichever path (the function, the free-text page, the microdata file) produced it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "redaction"
CATEGORIES = (
    "name",
    "dob",
    "address",
    "postcode",
    "phone",
    "email",
    "handle",
    "id",
    "plate",
    "url",
)
# What a redactor puts in place of a detail: a lower-case word in square brackets.
PLACEHOLDER = re.compile(r"\[[a-z]+\]")


@dataclass(frozen=True)
class Detail:
    category: str
    span: str  # every occurrence of it in the text must go
    listed: bool = False  # a name in the programme's configured list, in some spelling

    @property
    def kind(self) -> str:
        if self.category == "name":
            return "name (listed)" if self.listed else "name (unlisted)"
        return self.category


@dataclass(frozen=True)
class Case:
    id: str
    lang: str
    text: str
    details: tuple[Detail, ...]

    def spans(self) -> list[tuple[int, int, Detail]]:
        found = []
        for detail in self.details:
            for match in re.finditer(re.escape(detail.span), self.text):
                found.append((match.start(), match.end(), detail))
        return found


def _read(name: str) -> list[dict[str, object]]:
    with (FIXTURES / name).open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def personal_cases(name: str = "personal.jsonl") -> list[Case]:
    """Answers with personal details in them, each detail labelled."""
    cases = []
    for row in _read(name):
        details = tuple(
            Detail(str(d["category"]), str(d["span"]), bool(d.get("listed", False)))
            for d in row["pii"]  # type: ignore[attr-defined]
        )
        cases.append(Case(str(row["id"]), str(row["lang"]), str(row["text"]), details))
    return cases


def ordinary_cases(name: str = "ordinary.jsonl") -> list[Case]:
    """Answers with nothing personal in them: they must come out unchanged."""
    return [Case(str(r["id"]), str(r["lang"]), str(r["text"]), ()) for r in _read(name)]


def held_out_cases() -> list[Case]:
    """A second, smaller set written after the recognisers were tuned, and never tuned on."""
    return personal_cases("holdout.jsonl") + ordinary_cases("holdout-ordinary.jsonl")


def configured_names() -> list[str]:
    with (FIXTURES / "names.json").open(encoding="utf-8") as file:
        names: list[str] = json.load(file)["redact_names"]
    return names


def replaced_regions(original: str, redacted: str) -> list[tuple[int, int, str]] | None:
    """Where in ``original`` each placeholder of ``redacted`` stands, with its label.

    The text between placeholders is copied unchanged, so the redacted text read as a pattern
    (copied pieces literally, each placeholder as "some text") matches the original. Where
    that can be done in several ways (a bare space between two placeholders) the earliest is
    taken: the letters and digits covered are the same. None if ``redacted`` is not
    ``original`` with some stretches replaced by placeholders.
    """
    original = unicodedata.normalize("NFC", original)
    pieces = PLACEHOLDER.split(redacted)
    labels = [m.group()[1:-1] for m in PLACEHOLDER.finditer(redacted)]
    pattern = "(.+?)".join(re.escape(piece) for piece in pieces)
    match = re.fullmatch(pattern, original, re.DOTALL)
    if match is None:
        return None
    return [(match.start(i + 1), match.end(i + 1), label) for i, label in enumerate(labels)]


def _significant(text: str, start: int, end: int) -> set[int]:
    """Positions of letters and digits (what identifies) in text[start:end]."""
    return {i for i in range(start, end) if unicodedata.category(text[i])[0] in "LN"}


@dataclass
class Score:
    """Recall per kind of detail, precision per placeholder, and what survived whole."""

    found: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)  # replacements on a detail, by label
    replaced: Counter[str] = field(default_factory=Counter)  # all replacements, by label
    missed: list[tuple[str, str, str]] = field(default_factory=list)  # case id, kind, span
    wrong: list[tuple[str, str]] = field(default_factory=list)  # case id, replaced text
    ordinary_kept: int = 0
    ordinary_total: int = 0
    unreadable: list[str] = field(default_factory=list)  # outputs not made by replacing

    def recall(self, kind: str) -> float:
        return self.found[kind] / self.total[kind] if self.total[kind] else 1.0

    def precision(self, label: str | None = None) -> float:
        right = sum(self.right.values()) if label is None else self.right[label]
        replaced = sum(self.replaced.values()) if label is None else self.replaced[label]
        return right / replaced if replaced else 1.0

    def kinds(self) -> list[str]:
        return sorted(self.total)


def score(cases: Sequence[Case], outputs: Iterable[str]) -> Score:
    """Score the redacted ``outputs`` of ``cases`` (in the same order)."""
    result = Score()
    for case, output in zip(cases, outputs, strict=True):
        text = unicodedata.normalize("NFC", case.text)
        regions = replaced_regions(text, output)
        if regions is None:
            result.unreadable.append(case.id)
            regions = []
        covered: set[int] = set()
        for start, end, _ in regions:
            covered |= _significant(text, start, end)
        spans = case.spans()
        detail_positions: set[int] = set()
        for start, end, _ in spans:
            detail_positions |= _significant(text, start, end)
        for detail in case.details:
            kind = detail.kind
            result.total[kind] += 1
            occurrences = [(s, e) for s, e, d in spans if d is detail]
            if all(_significant(text, s, e) <= covered for s, e in occurrences):
                result.found[kind] += 1
            else:
                result.missed.append((case.id, kind, detail.span))
        for start, end, label in regions:
            result.replaced[label] += 1
            if _significant(text, start, end) & detail_positions:
                result.right[label] += 1
            else:
                result.wrong.append((case.id, text[start:end]))
        if not case.details:
            result.ordinary_total += 1
            result.ordinary_kept += output == text
    return result
