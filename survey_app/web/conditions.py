"""Skip logic in plain words, for the people who read a whole survey at once.

The paper form and the assisted-entry form show every question, so each conditional question
says when it applies: "Only if “Legal help” was chosen in “Which kinds of support…”.", with the
question and choice labels in the page's language. Simple conditions are `=`, `!=` and `selected()`
comparing an answer with a value, joined by `and`, `or`, `not()`.
Anything else gets a general sentence that points to the questions above; the expression
syntax (`${...}`) is never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale, gettext
from markupsafe import Markup, escape

from ..definitions import Question, Survey
from ..definitions.expressions import (
    PREFER_NOT_TO_SAY,
    Binary,
    Call,
    Expression,
    Node,
    Reference,
    StringLiteral,
)
from .i18n import ui_language_for
from .words import builtin_words

# A simple condition: ["eq"|"ne"|"sel", question, value], ["not", rule], ["and"|"or", a, b].
Rule = list[Any]


def simple_rule(node: Node) -> Rule | None:
    """The condition as a simple rule, or None if it is anything more than that."""
    if isinstance(node, Binary) and node.operator in ("and", "or"):
        left, right = simple_rule(node.left), simple_rule(node.right)
        return [node.operator, left, right] if left and right else None
    if isinstance(node, Binary) and node.operator in ("=", "!="):
        pair = _reference_and_text(node.left, node.right) or _reference_and_text(
            node.right, node.left
        )
        return ["eq" if node.operator == "=" else "ne", *pair] if pair else None
    if isinstance(node, Call) and node.function == "not" and len(node.arguments) == 1:
        inner = simple_rule(node.arguments[0])
        return ["not", inner] if inner else None
    if isinstance(node, Call) and node.function == "selected" and len(node.arguments) == 2:
        pair = _reference_and_text(*node.arguments)
        return ["sel", *pair] if pair else None
    return None


def _reference_and_text(first: Node, second: Node) -> tuple[str, str] | None:
    if isinstance(first, Reference) and isinstance(second, StringLiteral):
        return first.name, second.value
    return None


def _(message: str, **values: str) -> Markup:
    """The sentence as HTML: its own words escaped, the labels put into it kept as they are.

    Every label reaches a sentence through `_bdi`, so the sentence never has to guess its
    direction: an English label inside an Arabic sentence (or the other way round) cannot pull
    the quotation marks and words around it out of order.
    """
    sentence = escape(str(gettext(message)))
    return sentence % values if values else sentence


def _bdi(label: str) -> Markup:
    return Markup("<bdi>%s</bdi>") % label


# Long question labels are cut at a word boundary: the condition only has to name the question.
LABEL_LIMIT = 80


@dataclass(frozen=True)
class ConditionWords:
    """Conditions of one survey described in one language: labels and the app's own words."""

    survey: Survey
    language: str

    @classmethod
    def for_page(cls, survey: Survey, language: str, fallback: str) -> ConditionWords:
        """In `language` if the interface speaks it, else in `fallback` (the staff's language),
        so that a sentence never mixes the app's English with labels in another language."""
        base = language.split("-")[0].lower()
        return cls(survey, language if ui_language_for(language) == base else fallback)

    def only_if(self, expression: Expression) -> Markup:
        """For a respondent on paper: "Only if …"."""
        with force_locale(ui_language_for(self.language)):
            said = self.describe(expression)
            if said is None:
                return _("Only if it applies (see the questions above).")
            return _("Only if %(condition)s.", condition=said)

    def ask_only_if(self, expression: Expression) -> Markup:
        """For a caseworker, beside a question: "Ask only if …"."""
        with force_locale(ui_language_for(self.language)):
            said = self.describe(expression)
            if said is None:
                return _("Ask only if it applies (see the questions above).")
            return _("Ask only if %(condition)s.", condition=said)

    def ask_part_only_if(self, expression: Expression) -> Markup:
        """For a caseworker, at the top of a part of the survey: "Ask this part only if …"."""
        with force_locale(ui_language_for(self.language)):
            said = self.describe(expression)
            if said is None:
                return _("Ask this part only if it applies (see the questions above).")
            return _("Ask this part only if %(condition)s.", condition=said)

    def describe(self, expression: Expression) -> Markup | None:
        """The condition as a clause ("“Legal help” was chosen in “…”"), or None if not simple.

        Call it under the locale of `language` (the public methods do).
        """
        rule = simple_rule(expression.root)
        if rule is None:
            return None
        return self._clause(rule, negated=False)

    # --- the clause, with `not` pushed down to the comparisons ----------------------------

    def _clause(self, rule: Rule, *, negated: bool) -> Markup:
        operator = rule[0]
        if operator == "not":
            return self._clause(rule[1], negated=not negated)
        if operator in ("and", "or"):
            joined = _joined(operator, negated)
            first = self._part(rule[1], joined, negated)
            second = self._part(rule[2], joined, negated)
            if joined == "and":
                return _("%(first)s and %(second)s", first=first, second=second)
            return _("%(first)s or %(second)s", first=first, second=second)
        question = self.survey.question(rule[1])
        return self._comparison(operator, question, rule[2], negated)

    def _part(self, rule: Rule, joined: str, negated: bool) -> Markup:
        said = self._clause(rule, negated=negated)
        inner = _effective_operator(rule, negated)
        # "A or B, and C" is ambiguous; brackets say which words belong together.
        return Markup("(%s)") % said if inner is not None and inner != joined else said

    def _comparison(self, operator: str, question: Question, value: str, negated: bool) -> Markup:
        label = _bdi(self._question_label(question))
        if operator == "sel":
            choice = _bdi(self._choice_label(question, value))
            if negated:
                return _(
                    "“%(choice)s” was not chosen in “%(question)s”", choice=choice, question=label
                )
            return _("“%(choice)s” was chosen in “%(question)s”", choice=choice, question=label)
        equal = (operator == "eq") != negated
        if value == "":
            if equal:
                return _("“%(question)s” was not answered", question=label)
            return _("“%(question)s” was answered", question=label)
        answer = _bdi(self._choice_label(question, value))
        if equal:
            return _("the answer to “%(question)s” is “%(answer)s”", question=label, answer=answer)
        return _("the answer to “%(question)s” is not “%(answer)s”", question=label, answer=answer)

    # --- labels ---------------------------------------------------------------------------

    def _question_label(self, question: Question) -> str:
        label = " ".join(self.survey.text(question.label, self.language).split())
        if len(label) <= LABEL_LIMIT:
            return label
        cut = label[:LABEL_LIMIT].rsplit(" ", 1)[0]
        return cut.rstrip(",;:.?!") + "…"

    def _choice_label(self, question: Question, value: str) -> str:
        for choice in question.choices:
            if choice.value == value:
                return self.survey.text(choice.label, self.language) or value
        if value in question.kind.builtin_options:
            return builtin_words()[question.kind.builtin_options[value]]
        builtin = {
            PREFER_NOT_TO_SAY: _("Prefer not to say"),
            "other": _("Other") if question.other else None,
        }
        return builtin.get(value) or value


def _joined(operator: str, negated: bool) -> str:
    """`not (A and B)` is `not A or not B`, and the other way round."""
    if not negated:
        return operator
    return "or" if operator == "and" else "and"


def _effective_operator(rule: Rule, negated: bool) -> str | None:
    while rule[0] == "not":
        rule, negated = rule[1], not negated
    if rule[0] in ("and", "or"):
        return _joined(rule[0], negated)
    return None
