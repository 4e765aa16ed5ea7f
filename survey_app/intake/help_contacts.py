"""Help and referral contacts shown to respondents, per language.

A programme keeps its own (`Programme.help_contacts`, set on its admin page or with
`survey-app programmes set-help`); a deployment may name a default in `respondent.default_help_file`
that respondents of a programme without any are shown instead. Both are written as TOML with one
array of contacts per language code:

    [[en]]
    name = "Support line (free, 24 hours)"
    phone = "+44 800 0000"
    hours = "24/7"
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

Contacts = dict[str, list[dict[str, str]]]

LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
CONTACT_KEYS = {"name", "phone", "hours", "note"}


class HelpFileError(Exception):
    """The help contacts file cannot be used; the message says where and why."""


def parse_help_contacts(text: str) -> dict[str, list[dict[str, str]]]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise HelpFileError(f"not valid TOML: {error}") from None
    contacts: dict[str, list[dict[str, str]]] = {}
    for language, entries in document.items():
        if not LANGUAGE.match(language):
            raise HelpFileError(f"{language!r} is not a language code such as en, fr or ar")
        if not isinstance(entries, list) or not entries:
            raise HelpFileError(f"[{language}]: write each contact as [[{language}]]")
        for number, entry in enumerate(entries, 1):
            unknown = set(entry) - CONTACT_KEYS if isinstance(entry, dict) else set()
            if not isinstance(entry, dict) or "name" not in entry:
                raise HelpFileError(f"{language} contact {number}: needs a name")
            if unknown:
                raise HelpFileError(
                    f"{language} contact {number}: unknown key {sorted(unknown)[0]!r}"
                )
            if not all(isinstance(v, str) and len(v) <= 200 for v in entry.values()):
                raise HelpFileError(
                    f"{language} contact {number}: values must be text of 200 characters or fewer"
                )
        contacts[language] = entries
    return contacts


def read_help_file(path: str) -> Contacts:
    """The contacts in the file at `path`; none for an empty path."""
    if not path:
        return {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise HelpFileError(f"cannot read {path} ({error.strerror})") from None
    try:
        return parse_help_contacts(text)
    except HelpFileError as error:
        raise HelpFileError(f"{path}: {error}") from None


def to_toml(contacts: Mapping[str, Sequence[Mapping[str, str]]]) -> str:
    """The contacts written back in the format `parse_help_contacts` reads (for editing)."""
    lines: list[str] = []
    for language in sorted(contacts):
        for contact in contacts[language]:
            lines.append(f"[[{language}]]")
            for key in ("name", "phone", "hours", "note"):
                if key in contact:
                    lines.append(f"{key} = {_quoted(contact[key])}")
            lines.append("")
    return "\n".join(lines)


def _quoted(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes).
    return json.dumps(value, ensure_ascii=False)


def contacts_for(
    own: Mapping[str, list[dict[str, str]]] | None,
    default: Mapping[str, list[dict[str, str]]],
    language: str,
    fallback_language: str,
) -> list[dict[str, str]]:
    """What a respondent reading `language` is shown: the programme's own contacts if it has
    any (in their language, else the survey's default language, else the first listed), else
    the deployment's default contacts chosen the same way."""
    for book in (own or {}, default):
        if not book:
            continue
        for choice in (language, language.split("-")[0], fallback_language, "en"):
            if book.get(choice):
                return list(book[choice])
        return list(next(iter(book.values())))
    return []
