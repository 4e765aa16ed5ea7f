"""What a report counts: its variables and dimensions, across the versions of a survey.

The current definition decides what is reported. A response given against an older version
counts for a question when that version has a question with the same id and type; for every
other question it counts as "not asked", a row of its own, so each table still covers everyone
in its view and shares its totals with the others. A question whose condition (its own or its
page's `relevant`) left it out of a response counts as "not asked" too, apart from a skip (asked,
left blank). Choices found only in an older version are
kept as extra categories with that version's labels.

Free text is never counted by content: text questions report only how many answered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ..definitions import Indicator, LocalisedText, Question, Survey

# Category keys of the rows every table may have besides the answers themselves.
SKIPPED = "_skipped"
PREFER_NOT_TO_SAY = "_pnts"
NOT_ASKED = "_not_asked"
ANSWERED = "_answered"
MET = "_met"
NOT_MET = "_not_met"
NOT_COUNTED = "_not_counted"
SPECIAL_KEYS = (SKIPPED, PREFER_NOT_TO_SAY, NOT_ASKED)

# Dimensions every report has, whatever the survey asks.
SITE = "site"
ROUND = "round"
CHANNEL = "channel"
ALL = "all"

Text = dict[str, str]


class VariableKind(StrEnum):
    CHOICE = "choice"  # one answer out of a list: single, yes/no, rating
    MULTIPLE = "multiple"  # any number of options, each counted on its own
    NUMBER = "number"  # integer or decimal: how many answered, and a numeric summary
    DATE = "date"  # only how many gave a date: rows made of dates would come from the data
    TEXT = "text"  # free text: only how many answered, never what
    INDICATOR = "indicator"


BUILTIN_LABELS: dict[str, str] = {
    SKIPPED: "Skipped",
    PREFER_NOT_TO_SAY: "Prefer not to say",
    NOT_ASKED: "Not asked",
    ANSWERED: "Answered",
    MET: "Met",
    NOT_MET: "Not met",
    NOT_COUNTED: "Not in the denominator",
    "yes": "Yes",
    "no": "No",
    "other": "Other",
    ALL: "All responses",
    SITE: "Site",
    ROUND: "Round",
    CHANNEL: "Channel",
    "self": "Self-completed",
    "assisted": "Assisted by a caseworker",
}


def builtin(key: str) -> Text:
    """A label the application provides (translated when shown), in English."""
    return {"en": BUILTIN_LABELS.get(key, key)}


@dataclass(frozen=True)
class Category:
    key: str
    label: Text
    builtin: bool = False


@dataclass(frozen=True)
class Variable:
    """One thing counted per response: a question, or an indicator of the survey file."""

    id: str
    kind: VariableKind
    label: Text
    question_type: str
    # Answer categories known from the definitions, in order.
    categories: tuple[Category, ...]
    # Versions in which the question was asked (every version for an indicator).
    versions: frozenset[str]
    question: Question | None = None
    indicator: Indicator | None = None
    # Whether some version asks it only on a condition (its own or its page's `relevant`).
    conditional: bool = False
    # A question of a repeated page counted once per person: the answer keys of its repetitions
    # in each version (the variable's id is the question's id as the survey file writes it).
    repeated: Mapping[str, tuple[str, ...]] | None = None

    def status_keys(self) -> tuple[str, ...]:
        """Categories that say whether and how a question was answered, not what."""
        if self.kind is VariableKind.INDICATOR:
            return (MET, NOT_MET, NOT_COUNTED)
        if self.kind in (
            VariableKind.MULTIPLE,
            VariableKind.NUMBER,
            VariableKind.TEXT,
            VariableKind.DATE,
        ):
            return (ANSWERED, *SPECIAL_KEYS)
        return SPECIAL_KEYS


@dataclass(frozen=True)
class Dimension:
    """A way of splitting respondents into groups: site, round, channel or a question."""

    id: str
    label: Text
    exclusive: bool  # False for a multiple-choice question: one person may be in several groups
    question: Question | None = None
    builtin: bool = False


@dataclass(frozen=True)
class ReportPlan:
    survey: Survey
    versions: Mapping[str, Survey]
    variables: tuple[Variable, ...]
    dimensions: tuple[Dimension, ...]
    # Each repetition of a repeated page's question, when the survey does not ask for a table
    # per repetition: not tabulated (its question is, once per person), but known to microdata.
    repetitions: tuple[Variable, ...] = ()

    @classmethod
    def build(cls, current: Survey, older: Iterable[Survey] = ()) -> ReportPlan:
        versions = {survey.version: survey for survey in older}
        versions[current.version] = current
        variables: list[Variable] = []
        repetitions: list[Variable] = []
        seen: set[str] = set()
        for page, question in current.iter_questions():
            variable = _question_variable(question, versions)
            if variable is None:
                continue
            if question.repeat_of is None:
                variables.append(variable)
                continue
            if question.repeat_of not in seen:
                seen.add(question.repeat_of)
                variables.append(_people_variable(question, versions))
            shown = page.repetition is not None and page.repetition.by_repetition
            (variables if shown else repetitions).append(variable)
        variables += [_indicator_variable(indicator, versions) for indicator in current.indicators]
        dimensions = [
            Dimension(SITE, builtin(SITE), exclusive=True, builtin=True),
            Dimension(ROUND, builtin(ROUND), exclusive=True, builtin=True),
            Dimension(CHANNEL, builtin(CHANNEL), exclusive=True, builtin=True),
        ]
        dimensions += [
            Dimension(q.id, _text(q.label), not q.kind.many, question=q)
            for q in current.disaggregation_questions()
            if q.kind.breakdown
        ]
        return cls(current, versions, tuple(variables), tuple(dimensions), tuple(repetitions))

    def variable(self, variable_id: str) -> Variable:
        for variable in (*self.variables, *self.repetitions):
            if variable.id == variable_id:
                return variable
        raise KeyError(variable_id)

    def dimension(self, dimension_id: str) -> Dimension:
        for dimension in self.dimensions:
            if dimension.id == dimension_id:
                return dimension
        raise KeyError(dimension_id)


def _text(localised: LocalisedText) -> Text:
    return localised.as_dict()


def _matching(question: Question, versions: Mapping[str, Survey]) -> dict[str, Question]:
    found = {}
    for version, survey in versions.items():
        if survey.has_question(question.id):
            other = survey.question(question.id)
            if other.type == question.type:
                found[version] = other
    return found


def _question_variable(question: Question, versions: Mapping[str, Survey]) -> Variable | None:
    """What reports count of the question, as its type says (None: not reported)."""
    tally = question.kind.tally
    if not question.has_answer or tally is None:
        return None
    asked = _matching(question, versions)
    kind = VariableKind(tally.value)
    categories: tuple[Category, ...] = ()
    if kind in (VariableKind.CHOICE, VariableKind.MULTIPLE):
        categories = _categories(question, [asked[v] for v in sorted(asked)])
    return Variable(
        id=question.id,
        kind=kind,
        label=_text(question.label),
        question_type=str(question.type),
        categories=categories,
        versions=frozenset(asked),
        question=question,
        conditional=any(
            asked_as.relevant is not None or versions[v].page_of(asked_as.id).relevant is not None
            for v, asked_as in asked.items()
        ),
    )


def _people_variable(first: Question, versions: Mapping[str, Survey]) -> Variable:
    """A repeated page's question counted once per person, from all their repetitions.

    An option is counted once for each person who chose it in at least one repetition (so a
    choice question reads as a multiple choice: "people who rated at least one service poor",
    among the people who answered in at least one repetition); other types count the people
    who answered in at least one repetition.
    """
    base = first.repeat_of
    assert base is not None
    repeated: dict[str, tuple[str, ...]] = {}
    for version, survey in versions.items():
        keys = tuple(
            q.id for q in survey.questions() if q.repeat_of == base and q.type == first.type
        )
        if keys:
            repeated[version] = keys
    tally = first.kind.tally
    choice = tally is not None and VariableKind(tally.value) in (
        VariableKind.CHOICE,
        VariableKind.MULTIPLE,
    )
    kind = VariableKind.MULTIPLE if choice else VariableKind.TEXT
    older = [survey.question(keys[0]) for v, keys in sorted(repeated.items())]
    label = first.repeat_label or first.label
    return Variable(
        id=base,
        kind=kind,
        label=_text(label),
        question_type="multiple" if choice else str(first.type),
        categories=_categories(first, older) if choice else (),
        versions=frozenset(repeated),
        conditional=True,
        repeated=repeated,
    )


def _categories(question: Question, older: Iterable[Question]) -> tuple[Category, ...]:
    """The current choices in order, then those only older versions offered."""
    seen: dict[str, Category] = {}
    for source in (question, *older):
        labels = {choice.value: _text(choice.label) for choice in source.choices}
        for value in source.choice_values():
            if value in seen:
                continue
            label = labels.get(value)
            seen[value] = Category(value, label) if label else Category(value, builtin(value), True)
    return tuple(seen.values())


def _indicator_variable(indicator: Indicator, versions: Mapping[str, Survey]) -> Variable:
    return Variable(
        id=f"indicator:{indicator.id}",
        kind=VariableKind.INDICATOR,
        label=_text(indicator.label),
        question_type="indicator",
        categories=(),
        versions=frozenset(versions),
        indicator=indicator,
    )
