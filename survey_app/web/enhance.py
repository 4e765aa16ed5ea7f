"""Skip logic the browser applies by itself, for questions that depend on the same page.

Without JavaScript such questions are shown and the server drops answers that do not apply.
With it, a question whose `relevant` uses only answers of its own page is given its condition
as JSON (the parsed expression, node by node) and static/skip.js evaluates it as the server's
evaluator does (survey_app/definitions/expressions.py), so the question appears only when it
applies. The server stays authoritative: it decides again when the page is sent.

JSON nodes: ["s", text], ["n", number], ["r", question, kind, min, max] (kind says how the
server reads that question's field: see `_KINDS`), ["neg", x], [operator, left, right] for the
binary operators, ["f", function, argument...] for calls.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..definitions import Page, Question, QuestionType
from ..definitions.expressions import (
    Binary,
    Call,
    Negate,
    Node,
    NumberLiteral,
    Reference,
    StringLiteral,
)

Rule = list[Any]

# How skip.js turns a field into the value the server would store (answers.parse_answer).
_KINDS = {
    QuestionType.SINGLE: "c",
    QuestionType.YESNO: "c",
    QuestionType.CONSENT: "c",
    QuestionType.MULTIPLE: "m",
    QuestionType.RATING: "k",
    QuestionType.INTEGER: "i",
    QuestionType.DECIMAL: "f",
    QuestionType.TEXT: "t",
    QuestionType.LONGTEXT: "l",
}


def _kind(question: Question) -> str | None:
    if question.type is QuestionType.DATE:
        precision = question.precision.iso_length if question.precision else 10
        return f"d{precision}"
    return _KINDS.get(question.type)


def field_node(question: Question) -> Rule | None:
    """The JSON node that reads `question`'s field, or None for a question with no answer."""
    kind = _kind(question)
    if kind is None:
        return None
    return ["r", question.id, kind, _bound(question.min), _bound(question.max)]


def to_json(node: Node, fields: Mapping[str, Rule | None]) -> Rule | None:
    """The JSON form of `node`, or None if it uses something the browser cannot read.

    `fields` maps each question the browser can read to its reference node (`field_node`)."""
    match node:
        case StringLiteral(value=text):
            return ["s", text]
        case NumberLiteral(value=number):
            return ["n", number]
        case Reference(name=name):
            return fields.get(name)
        case Negate(operand=operand):
            inner = to_json(operand, fields)
            return None if inner is None else ["neg", inner]
        case Binary(operator=operator, left=left, right=right):
            sides = to_json(left, fields), to_json(right, fields)
            return None if None in sides else [operator, *sides]
        case Call(function=function, arguments=arguments):
            converted = [to_json(argument, fields) for argument in arguments]
            return None if None in converted else ["f", function, *converted]
    return None  # `.` and bare names do not occur in a question's relevant


def _bound(value: object) -> float | str | None:
    """A number question's bound, or a date question's (ISO text), as answers.py checks them."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    return value if isinstance(value, str) else float(value)


def client_rules(page: Page) -> dict[str, str]:
    """Question id -> JSON rule, for questions whose condition names a question of this page."""
    on_page = {q.id: q for q in page.questions}
    rules: dict[str, str] = {}
    for question in page.questions:
        rule = _client_rule(question, on_page)
        if rule is not None:
            rules[question.id] = json.dumps(rule, separators=(",", ":"), ensure_ascii=False)
    return rules


def _client_rule(question: Question, on_page: dict[str, Question]) -> Rule | None:
    if question.relevant is None or not (question.relevant.references() & on_page.keys()):
        return None
    # Only conditions entirely about this page: earlier answers are already known to the server,
    # and are not put into the page.
    if not question.relevant.references() <= on_page.keys():
        return None
    fields = {qid: field_node(other) for qid, other in on_page.items()}
    return to_json(question.relevant.root, fields)
