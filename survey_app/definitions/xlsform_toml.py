"""Writing a survey document as TOML that a person will want to read and edit.

tomli_w writes every nested table as a `[section]`, which spreads one question's label over
several headers. Here localised text and choice options are kept inline, in the layout of the
format documentation; tomli_w still formats every key and value, and the result is checked by
parsing it back.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

import tomli_w


class RenderingMismatch(AssertionError):
    """The rendered TOML does not parse back to the document: a bug in this module."""


def render_survey(document: Mapping[str, Any]) -> str:
    """Render `format`, `[survey]`, `[choices.*]`, `[[pages]]`, `[calculations]` and
    `[[indicators]]` in order."""
    lines = [
        _key_value(key, value)
        for key, value in document.items()
        if not isinstance(value, Mapping | list)
    ]
    survey = document.get("survey")
    if isinstance(survey, Mapping):
        plain = {key: value for key, value in survey.items() if key not in SURVEY_SECTIONS}
        lines += ["", *_table("[survey]", plain)]
        for key in SURVEY_SECTIONS:
            if key in survey:
                lines += ["", *_table(f"[survey.{key}]", survey[key])]
    for list_name, choice_list in (document.get("choices") or {}).items():
        lines += ["", *_table(f"[choices.{_key(list_name)}]", choice_list)]
    for page in document.get("pages") or []:
        page_fields = {key: value for key, value in page.items() if key != "questions"}
        lines += ["", *_table("[[pages]]", page_fields)]
        for question in page.get("questions") or []:
            lines += ["", *_table("[[pages.questions]]", question)]
    if document.get("calculations"):
        lines += ["", *_table("[calculations]", document["calculations"])]
    for indicator in document.get("indicators") or []:
        lines += ["", *_table("[[indicators]]", indicator)]
    text = "\n".join(lines).lstrip("\n") + "\n"
    if tomllib.loads(text) != document:
        raise RenderingMismatch("rendered survey TOML does not parse back to the document")
    return text


# Tables of the survey that read better as their own section than inline.
SURVEY_SECTIONS = ("language_names", "directions")


def _table(header: str, table: Mapping[str, Any]) -> list[str]:
    return [header, *(_key_value(key, value) for key, value in table.items())]


def _key_value(key: str, value: object) -> str:
    return f"{_key(key)} = {_value(value)}"


def _key(key: str) -> str:
    rendered = tomli_w.dumps({key: 0})
    return rendered[: rendered.rindex(" = 0")]


def _value(value: object) -> str:
    if isinstance(value, Mapping):
        items = ", ".join(f"{_key(key)} = {_value(item)}" for key, item in value.items())
        return f"{{ {items} }}" if items else "{}"
    if isinstance(value, Sequence) and not isinstance(value, str):
        if any(isinstance(item, Mapping) for item in value):
            return "[\n" + "".join(f"  {_value(item)},\n" for item in value) + "]"
        return "[" + ", ".join(_value(item) for item in value) + "]"
    rendered = tomli_w.dumps({"v": value})
    return rendered[len("v = ") :].rstrip("\n")
