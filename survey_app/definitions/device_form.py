"""A survey version as the offline page renders it: resolved, and with its expressions parsed.

The device never parses expression text: each ``relevant``, ``constraint`` and
``choice_filter`` is sent as the tree this package's own parser made (``expressions.parse``),
and ``static/offline/evaluate.js`` evaluates that tree with the same XPath value rules as
``expressions._compile``. Parsing stays in one place; tests compare both evaluators.
"""

from __future__ import annotations

from typing import Any

from .expressions import (
    BareName,
    Binary,
    Call,
    Current,
    Expression,
    Negate,
    Node,
    NumberLiteral,
    Reference,
    StringLiteral,
)
from .schema import LocalisedText, Question, Repetition, Survey


def tree(node: Node) -> list[Any]:
    """A node as a JSON array: [kind, ...operands]."""
    match node:
        case Reference(name=name):
            return ["ref", name]
        case Current():
            return ["current"]
        case BareName(name=name):
            return ["name", name]
        case StringLiteral(value=value):
            return ["str", value]
        case NumberLiteral(value=value):
            return ["num", value]
        case Negate(operand=operand):
            return ["neg", tree(operand)]
        case Binary(operator=operator, left=left, right=right):
            return ["op", operator, tree(left), tree(right)]
        case Call(function=function, arguments=arguments):
            return ["call", function, *(tree(argument) for argument in arguments)]
    raise AssertionError(f"unhandled node {node!r}")  # pragma: no cover


def _expression(expression: Expression | None) -> list[Any] | None:
    return None if expression is None else tree(expression.root)


def _text(text: LocalisedText | None) -> dict[str, str] | None:
    return None if text is None else text.as_dict()


def _question(question: Question) -> dict[str, Any]:
    scale_labels = question.scale_labels
    return {
        "id": question.id,
        "type": str(question.type),
        "label": _text(question.label),
        "hint": _text(question.hint),
        "required": question.required,
        "preferNotToSay": question.prefer_not_to_say,
        "relevant": _expression(question.relevant),
        "constraint": _expression(question.constraint),
        "constraintMessage": _text(question.constraint_message),
        "choiceFilter": _expression(question.choice_filter),
        "choices": [
            {"value": c.value, "label": c.label.as_dict(), "names": c.filter_names()}
            for c in question.choices
        ],
        "other": question.other_id,
        "scale": question.scale,
        "scaleLabels": None
        if scale_labels is None
        else {"low": _text(scale_labels.low), "high": _text(scale_labels.high)},
        "maxLength": question.max_length,
        "min": question.min,
        "max": question.max,
        "precision": None if question.precision is None else question.precision.value,
        "widget": question.kind.offline_widget(question),
    }


def _repetition(repetition: Repetition | None) -> dict[str, Any] | None:
    """Which repetition of a repeated page this page is, as its title's mark says it."""
    if repetition is None:
        return None
    return {
        "index": repetition.index,
        "count": repetition.count,
        "answered": repetition.answered,
        "choice": _text(repetition.choice),
    }


def form_of(survey: Survey) -> dict[str, Any]:
    return {
        "title": _text(survey.title),
        "defaultLanguage": survey.default_language,
        "languages": [
            {"code": language.code, "name": language.name, "direction": language.direction}
            for language in survey.languages
        ],
        "pages": [
            {
                "id": page.id,
                "title": _text(page.title),
                "intro": _text(page.intro),
                "relevant": _expression(page.relevant),
                "questions": [_question(question) for question in page.questions],
                "repetition": _repetition(page.repetition),
            }
            for page in survey.pages
        ],
    }
