"""Free-text questions whose label asks for something that identifies the respondent.

A name, a phone number or an address typed into a text box ties the response to a person,
whatever else the survey does to keep it anonymous. The import keeps such a question (the
programme may have a reason) but warns, naming the row and what the label seems to ask for.
The word lists cover the languages programmes most often write forms in; a miss only loses
a warning, never an answer.
"""

from __future__ import annotations

import re

_ASKS_FOR: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "a name",
        re.compile(
            r"\b(?:(?:your|full|first|last|family|given|sur)\s*name|name\s+of\s+(?:the\s+)?"
            r"(?:respondent|participant|beneficiary|interviewee|child|person)|what\s+is\s+"
            r"(?:your|his|her|their)\s+name|nom(?:\s+complet|\s+de\s+famille)?|pr[ée]nom|"
            r"nombre(?:\s+completo)?|apellidos?|nome(?:\s+completo)?|sobrenome|jina)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "a phone number",
        re.compile(
            r"\b(?:(?:tele)?phone|mobile|cell(?:phone)?|whatsapp|t[ée]l[ée]phone|"
            r"tel[ée]fono|telefone|celular|num[ée]ro\s+de\s+t[ée]l)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "an address",
        re.compile(
            r"\b(?:(?:home|street|postal|email|e-mail)\s+address|address|adresse|"
            r"direcci[óo]n|endere[çc]o|domicilio|anwani)\b",
            re.IGNORECASE,
        ),
    ),
)


def asks_for_identity(texts: list[str]) -> str | None:
    """What the label seems to ask for ("a name", "a phone number", "an address"), or None."""
    for what, pattern in _ASKS_FOR:
        if any(pattern.search(text) for text in texts):
            return what
    return None
