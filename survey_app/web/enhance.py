"""Skip logic the browser applies by itself, for questions that depend on the same page.

Without JavaScript such questions are shown and the server drops answers that do not apply.
With it, a question whose `relevant` uses only answers of its own page is given its condition
as the parsed tree the offline page also receives (`device_form.tree`) and the fields it reads,
each with how the server parses it (its question type's `browser_field`). static/skip.js reads the fields that way and
evaluates the tree with static/offline/evaluate.js, the devices' one evaluator, which follows
the server's (definitions/expressions.py). The server stays authoritative: it decides again
when the page is sent.
"""

from __future__ import annotations

import json
from typing import Any

from ..definitions import Page, Question
from ..definitions.device_form import tree

Rule = dict[str, Any]


def field(question: Question) -> list[Any] | None:
    """[kind, min, max] for reading `question`'s field, or None when the browser cannot read
    it (a question with no answer, or a type that leaves its skip logic to the server)."""
    kind = question.kind.browser_field(question)
    if kind is None:
        return None
    return [kind, _bound(question.min), _bound(question.max)]


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
    relevant = question.relevant
    if relevant is None or not (relevant.references() & on_page.keys()):
        return None
    # Only conditions entirely about this page: earlier answers are already known to the server,
    # and are not put into the page.
    if not relevant.references() <= on_page.keys():
        return None
    if relevant.bare_names() or relevant.uses_current():
        return None
    fields = {name: field(on_page[name]) for name in sorted(relevant.references())}
    if None in fields.values():
        return None
    return {"tree": tree(relevant.root), "fields": fields}
