"""What leaves the server from a report, each written to the audit log as it goes.

Downloads of the published snapshot (in each format of ``formats``), the analyst's microdata
export and the analyst's reading of free-text answers are recorded with who, which survey, which format and
which filter, in the same transaction as the read, so there is no download without its audit
row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..db import Database
from ..definitions import Survey
from ..intake.responses import OpenedResponse, SurveyNotAssigned, UnreadableResponse, open_responses
from ..keys import custody
from ..messages import N_, DomainError
from ..models import SurveyAssignment
from ..staff import audit
from . import formats, snapshot
from .counts import AnswerCounts, count_answers
from .free_text import FreeText, collect_free_text
from .microdata import Microdata, export_microdata
from .plan import ReportPlan
from .presentation import Labels, untranslated
from .redaction import Redactor
from .refresh import plan_source


class NoSnapshot(DomainError, LookupError):
    message_id = N_(
        "survey '%(survey)s' has no published report yet; an analyst must refresh it first"
    )

    def __init__(self, survey_id: str) -> None:
        super().__init__(survey=survey_id)


@dataclass(frozen=True)
class Download:
    filename: str
    media_type: str
    content: bytes


def download(
    database: Database,
    survey_id: str,
    fmt: str,
    *,
    actor: str,
    view_id: str = "all",
    language: str | None = None,
    translate: Callable[[str], str] = untranslated,
) -> Download:
    """The latest snapshot in the format named ``fmt`` (see ``formats``), recorded in the
    audit log with the format's event."""
    export_format = formats.find(fmt)
    with database.session() as session:
        assigned = session.get(SurveyAssignment, survey_id)
        document = snapshot.latest(session, survey_id)
        if assigned is None or document is None:
            raise NoSnapshot(survey_id)
        labels = Labels(document, language or document["default_language"], translate)
        content = export_format.build(labels, view_id)
        audit.record(
            session,
            actor,
            export_format.audit_action,
            assigned.programme_id,
            f"{survey_id} report published {document['created_at']}, view {view_id}, "
            f"as {export_format.name}",
        )
    return Download(
        export_format.filename(survey_id, document["created_at"], view_id),
        export_format.media_type,
        content,
    )


def microdata(
    database: Database,
    current: Survey,
    k: int,
    passphrase: str,
    *,
    actor: str,
    redactor: Redactor,
    key_file_text: str | None = None,
) -> Microdata:
    """Every response of the survey as redacted, generalised CSV (see ``microdata``)."""
    purpose = f"microdata export of {current.id}"
    with _opened(database, current, passphrase, key_file_text, actor, purpose) as opened:
        result = export_microdata(opened.plan, opened.responses, k, redactor)
        audit.record(
            opened.session,
            actor,
            "report.microdata",
            opened.programme_id,
            f"{current.id}: {result.rows} rows exported, {result.withheld} withheld, "
            f"{len(result.changes)} changes to quasi-identifiers; threshold {k}",
        )
    return result


def free_text(
    database: Database,
    current: Survey,
    k: int,
    passphrase: str,
    *,
    actor: str,
    redactor: Redactor,
    key_file_text: str | None = None,
) -> FreeText:
    """The survey's free-text answers, redacted, per question in groups of k or more (see
    ``free_text``); the reading is audited and nothing is stored."""
    purpose = f"reading the free-text answers of {current.id}"
    with _opened(database, current, passphrase, key_file_text, actor, purpose) as opened:
        result = collect_free_text(opened.plan, opened.responses, k, redactor)
        audit.record(
            opened.session,
            actor,
            "report.free-text",
            opened.programme_id,
            f"{current.id}: free-text answers read, {len(result.shown)} questions shown, "
            f"{len(result.withheld)} with fewer than {k} answers not shown; threshold {k}",
        )
    return result


@dataclass(frozen=True)
class CountsRead:
    counts: AnswerCounts
    # (key id, why it was not unlocked, responses of the survey sealed to it)
    not_unlocked: list[tuple[str, str, int]]


def answer_counts(
    database: Database,
    current: Survey,
    passphrase: str,
    key_file_text: str | None = None,
    *,
    actor: str,
) -> CountsRead:
    """Plain answer counts of every response, opened with the key; the reading is audited."""
    with database.session() as session:
        assigned = session.get(SurveyAssignment, current.id)
        if assigned is None:
            raise SurveyNotAssigned(current.id)
        with custody.unlock_audited(
            database,
            session,
            assigned.programme_id,
            passphrase,
            key_file_text,
            actor=actor,
            purpose=f"answer counts of {current.id}",
        ) as keys:
            counts = count_answers(current, open_responses(session, current.id, keys))
            missing = custody.keys_not_unlocked(session, current.id, keys)
        audit.record(
            session,
            actor,
            "key.unlock",
            assigned.programme_id,
            f"report on {current.id}: {counts.responses} opened, {len(counts.unreadable)} not",
        )
    return CountsRead(counts, missing)


@dataclass(frozen=True)
class _Opened:
    session: Session
    programme_id: int
    plan: ReportPlan
    responses: Iterator[OpenedResponse | UnreadableResponse]


@contextmanager
def _opened(
    database: Database,
    current: Survey,
    passphrase: str,
    key_file_text: str | None,
    actor: str,
    purpose: str,
) -> Iterator[_Opened]:
    """The survey's responses, opened one by one with the unlocked key (a refusal is audited)."""
    with database.session() as session:
        assigned = session.get(SurveyAssignment, current.id)
        if assigned is None:
            raise SurveyNotAssigned(current.id)
        plan = plan_source(session, current).plan()
        with custody.unlock_audited(
            database,
            session,
            assigned.programme_id,
            passphrase,
            key_file_text,
            actor=actor,
            purpose=purpose,
        ) as keys:
            yield _Opened(
                session, assigned.programme_id, plan, open_responses(session, current.id, keys)
            )
