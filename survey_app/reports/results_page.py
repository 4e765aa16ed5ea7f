"""A programme's "What you told us" page: results given back to the people who answered.

An analyst picks three to six results from the surveys' published reports (the share of those
who answered who gave one answer, or an indicator's estimate) and writes, in the survey's
languages, what the programme is doing about each. The page is public, reached from the survey's
landing and thank-you pages, so it shows only what a published report already shows: a result is
offered, and shown, only while the newest published report of its survey shows its percentage
(never a count, never a suppressed or too-small share). Nothing here reads a response.

A result is named by (survey, variable, row) and its share is read from the newest published
report each time the page is shown: a refresh updates the page, and a result the new report no
longer shows drops off it until the analyst chooses again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..messages import N_, DomainError
from ..models import Programme, ResultsPageItem, SurveyAssignment
from ..staff import audit
from .plan import ALL, VariableKind
from .presentation import Labels, Translate
from .snapshot import SnapshotDoc, VariableDoc, latest, view_by_id

MIN_RESULTS = 3
MAX_RESULTS = 6
MAX_ACTION_LENGTH = 800


class ResultsPageError(DomainError):
    """A results page that cannot be saved as asked; `field` names the form field at fault."""

    field = ""


class TooFewResults(ResultsPageError):
    field = "results"
    message_id = N_(
        "Choose at least %(least)d results to publish the page (at most %(most)d), or save it "
        "without publishing."
    )

    def __init__(self) -> None:
        super().__init__(least=MIN_RESULTS, most=MAX_RESULTS)


class TooManyResults(ResultsPageError):
    field = "results"
    message_id = N_("Choose at most %(most)d results: the page is meant to be read in a minute.")

    def __init__(self) -> None:
        super().__init__(most=MAX_RESULTS)


class ResultChosenTwice(ResultsPageError):
    field = "results"
    message_id = N_("The same result is chosen twice; choose another one or leave it out.")


class ResultNotShown(ResultsPageError):
    field = "results"
    message_id = N_(
        "A chosen result is not shown by the newest published report of its survey (the report "
        "was refreshed, or it has too few answers); choose again from the list."
    )


class ActionMissing(ResultsPageError):
    field = "results"
    message_id = N_(
        "Say what the programme is doing about “%(result)s”, at least in %(language)s, the "
        "survey's main language."
    )

    def __init__(self, result: str, language: str) -> None:
        super().__init__(result=result, language=language)


class ActionTooLong(ResultsPageError):
    field = "results"
    message_id = N_(
        "What the programme is doing about “%(result)s” is too long: keep it under "
        "%(most)d characters, so that it reads well on a phone."
    )

    def __init__(self, result: str) -> None:
        super().__init__(result=result, most=MAX_ACTION_LENGTH)


@dataclass(frozen=True)
class ResultRef:
    """Which result: a survey, a variable of its report, and a row ("" for an indicator)."""

    survey_id: str
    variable_id: str
    row_key: str = ""

    def token(self) -> str:
        """The value a form carries for it."""
        return json.dumps([self.survey_id, self.variable_id, self.row_key], ensure_ascii=False)

    @classmethod
    def from_token(cls, token: str) -> ResultRef | None:
        try:
            found = json.loads(token)
        except ValueError:
            return None
        if not (isinstance(found, list) and len(found) == 3):
            return None
        if not all(isinstance(part, str) and len(part) <= 200 for part in found):
            return None
        return cls(found[0], found[1], found[2])


@dataclass(frozen=True)
class Finding:
    """A result a published report shows: the share of those who answered."""

    ref: ResultRef
    percent: float  # 0 to 100
    document: SnapshotDoc
    variable: VariableDoc

    @property
    def languages(self) -> list[str]:
        return self.document["languages"]

    @property
    def default_language(self) -> str:
        return self.document["default_language"]

    def question(self, labels: Labels) -> str:
        return labels.variable(self.variable)

    def answer(self, labels: Labels) -> str | None:
        return labels.row(self.variable, self.ref.row_key) if self.ref.row_key else None


def findings(document: SnapshotDoc) -> list[Finding]:
    """Every result the report shows for everyone: each answer of a choice question whose
    percentage is shown, and each indicator whose estimate is shown."""
    view = view_by_id(document, ALL)
    if view is None:
        return []
    found = []
    for variable in document["variables"]:
        tables = view["tables"].get(variable["id"])
        if tables is None or tables["frequency"]["withheld"]:
            continue
        frequency = tables["frequency"]
        if variable["kind"] == VariableKind.INDICATOR.value:
            estimates = frequency.get("estimates") or []
            estimate = estimates[0] if estimates else None
            if isinstance(estimate, dict):
                ref = ResultRef(document["survey_id"], variable["id"])
                found.append(Finding(ref, round(100 * estimate["value"], 1), document, variable))
            continue
        if variable["kind"] not in (VariableKind.CHOICE.value, VariableKind.MULTIPLE.value):
            continue
        answers = {row["key"] for row in variable["rows"] if row["kind"] in ("answer", "option")}
        for row in frequency["rows"]:
            percent = row["percents"][0] if row["percents"] else None
            if row["key"] in answers and isinstance(percent, int | float):
                ref = ResultRef(document["survey_id"], variable["id"], row["key"])
                found.append(Finding(ref, float(percent), document, variable))
    return found


def available(session: Session, programme_id: int) -> dict[ResultRef, Finding]:
    """The results the programme's newest published reports show, survey by survey."""
    survey_ids = session.scalars(
        select(SurveyAssignment.id)
        .where(SurveyAssignment.programme_id == programme_id)
        .order_by(SurveyAssignment.id)
    ).all()
    return _shown_by(session, survey_ids)


def _shown_by(session: Session, survey_ids: Iterable[str]) -> dict[ResultRef, Finding]:
    """The results the newest published report of each of ``survey_ids`` shows."""
    found: dict[ResultRef, Finding] = {}
    for survey_id in survey_ids:
        document = latest(session, survey_id)
        if document is not None:
            found.update((finding.ref, finding) for finding in findings(document))
    return found


@dataclass(frozen=True)
class ChosenResult:
    ref: ResultRef
    action: Mapping[str, str]  # language -> what the programme is doing about it


def chosen_results(session: Session, programme_id: int) -> list[ChosenResult]:
    items = session.scalars(
        select(ResultsPageItem)
        .where(ResultsPageItem.programme_id == programme_id)
        .order_by(ResultsPageItem.position)
    ).all()
    return [
        ChosenResult(ResultRef(i.survey_id, i.variable_id, i.row_key), dict(i.action))
        for i in items
    ]


def save(
    session: Session,
    actor: audit.Actor,
    programme: Programme,
    chosen: Sequence[ChosenResult],
    *,
    publish: bool,
    labels_for: LabelsFor,
) -> None:
    """Replace the page's results, and publish or withdraw it; audited in one event.

    Every chosen result must be shown by the newest published report, with what the programme
    is doing about it written at least in its survey's main language."""
    if len(chosen) > MAX_RESULTS:
        raise TooManyResults()
    if publish and len(chosen) < MIN_RESULTS:
        raise TooFewResults()
    if len({c.ref for c in chosen}) != len(chosen):
        raise ResultChosenTwice()
    shown = available(session, programme.id)
    kept: list[ChosenResult] = []
    for item in chosen:
        finding = shown.get(item.ref)
        if finding is None:
            raise ResultNotShown()
        name = _name(finding, labels_for(finding.document))
        action = {
            language: written.strip()
            for language, written in item.action.items()
            if language in finding.languages and written.strip()
        }
        if not action.get(finding.default_language):
            raise ActionMissing(name, finding.default_language)
        if any(len(written) > MAX_ACTION_LENGTH for written in action.values()):
            raise ActionTooLong(name)
        kept.append(ChosenResult(item.ref, action))
    session.execute(delete(ResultsPageItem).where(ResultsPageItem.programme_id == programme.id))
    session.add_all(
        ResultsPageItem(
            programme_id=programme.id,
            position=position,
            survey_id=item.ref.survey_id,
            variable_id=item.ref.variable_id,
            row_key=item.ref.row_key,
            action=dict(item.action),
        )
        for position, item in enumerate(kept, start=1)
    )
    programme.results_page_published = publish
    listed = "; ".join(
        f"{i.ref.survey_id}/{i.ref.variable_id}{'=' + i.ref.row_key if i.ref.row_key else ''}"
        for i in kept
    )
    state = "published" if publish else "not published"
    detail = f"{state}: {listed or 'no results'}"
    audit.record(session, actor.name, "results-page.change", programme.id, detail)


class LabelsFor:
    """Labels of a report in one language, translating the app's own words with `translate`."""

    def __init__(self, language: str, translate: Translate) -> None:
        self.language = language
        self.translate = translate

    def __call__(self, document: SnapshotDoc) -> Labels:
        language = self.language if self.language in document["languages"] else ""
        return Labels(document, language or document["default_language"], self.translate)


def _name(finding: Finding, labels: Labels) -> str:
    answer = finding.answer(labels)
    question = finding.question(labels)
    return f"{question}: {answer}" if answer else question


@dataclass(frozen=True)
class ShownResult:
    """One result as the public page shows it, in the reader's language where written."""

    question: str
    answer: str | None
    percent: float
    action: str
    action_language: str  # the language `action` is written in
    translated: bool  # False: `action` is in the survey's main language, not the reader's


def shown_results(
    session: Session, programme_id: int, language: str, labels_for: LabelsFor
) -> list[ShownResult]:
    """The page's results that the newest published reports still show, in order. Only the
    reports of the surveys the page names are read: the page is public."""
    chosen = chosen_results(session, programme_id)
    shown = _shown_by(session, dict.fromkeys(item.ref.survey_id for item in chosen))
    page = []
    for item in chosen:
        finding = shown.get(item.ref)
        if finding is None:
            continue
        labels = labels_for(finding.document)
        written = item.action.get(language)
        action_language = language if written else finding.default_language
        page.append(
            ShownResult(
                question=finding.question(labels),
                answer=finding.answer(labels),
                percent=finding.percent,
                action=written or item.action.get(finding.default_language, ""),
                action_language=action_language,
                translated=bool(written),
            )
        )
    return page
