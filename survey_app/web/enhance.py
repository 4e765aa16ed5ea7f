"""Skip logic the browser can apply by itself, for questions that depend on the same page.

Without JavaScript such questions are shown and the server drops answers that do not apply.
With it, simple conditions (`${q} = 'v'`, `${q} != 'v'`, `selected(${q}, 'v')`, combined with
`and`, `or` and `not()`) are handed to static/exit.js as JSON so the question appears only when
it applies. Anything more complex stays server-side only.
"""

from __future__ import annotations

import json
from typing import Any

from ..definitions import Page, Question
from ..definitions.expressions import Binary, Call, Node, Reference, StringLiteral

Rule = list[Any]


def _rule(node: Node) -> Rule | None:
    if isinstance(node, Binary) and node.operator in ("and", "or"):
        left, right = _rule(node.left), _rule(node.right)
        return [node.operator, left, right] if left and right else None
    if isinstance(node, Binary) and node.operator in ("=", "!="):
        pair = _reference_and_text(node.left, node.right) or _reference_and_text(
            node.right, node.left
        )
        return ["eq" if node.operator == "=" else "ne", *pair] if pair else None
    if isinstance(node, Call) and node.function == "not" and len(node.arguments) == 1:
        inner = _rule(node.arguments[0])
        return ["not", inner] if inner else None
    if isinstance(node, Call) and node.function == "selected" and len(node.arguments) == 2:
        pair = _reference_and_text(*node.arguments)
        return ["sel", *pair] if pair else None
    return None


def _reference_and_text(first: Node, second: Node) -> tuple[str, str] | None:
    if isinstance(first, Reference) and isinstance(second, StringLiteral):
        return first.name, second.value
    return None


def client_rules(page: Page) -> dict[str, str]:
    """Question id -> JSON rule, for questions whose condition names a question of this page."""
    on_page = {q.id for q in page.questions}
    rules: dict[str, str] = {}
    for question in page.questions:
        rule = _client_rule(question, on_page)
        if rule is not None:
            rules[question.id] = json.dumps(rule, separators=(",", ":"), ensure_ascii=False)
    return rules


def _client_rule(question: Question, on_page: set[str]) -> Rule | None:
    if question.relevant is None or not (question.relevant.references() & on_page):
        return None
    # Only conditions entirely about this page: earlier answers are already known to the server.
    if not question.relevant.references() <= on_page:
        return None
    return _rule(question.relevant.root)
