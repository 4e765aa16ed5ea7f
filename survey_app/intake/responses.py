"""Storing sealed responses and reading them back: the bridge between sealing and the database.

The plain columns of a response say only which survey and version it answers, the coarse period
and which key it is sealed to. The payload (answers plus site, channel, language and exact day) is
canonical JSON inside the envelope.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Literal, cast

from sqlalchemy import Subquery, Table, bindparam, func, insert, select, true, union_all
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..db import Executor, dialect_name
from ..definitions import Survey, SurveyDefinitionError, load_survey_json
from ..keys import sealing
from ..keys.padding import padded_length
from ..messages import N_, DomainError
from ..models import (
    DistributionLink,
    InboxResponse,
    KeyStatus,
    Programme,
    ProgrammeKey,
    Response,
    SurveyAssignment,
    SurveyVersion,
)
from . import answer_checks

log = logging.getLogger(__name__)

Channel = Literal["self", "assisted"]
PAYLOAD_FORMAT = 1


class SurveyNotAssigned(DomainError):
    def __init__(self, survey_id: str) -> None:
        super().__init__(
            N_(
                "survey '%(survey)s' belongs to no programme; assign it with "
                "`survey-app surveys assign %(survey)s PROGRAMME`"
            ),
            survey=survey_id,
        )


class NoCurrentKey(DomainError):
    def __init__(self, programme_slug: str) -> None:
        super().__init__(
            N_(
                "programme '%(slug)s' has no current key; create one with "
                "`survey-app keys create %(slug)s`"
            ),
            slug=programme_slug,
        )


class MalformedPayload(Exception):
    """A blob opened but its content is not a response payload this code understands."""


@dataclass(frozen=True)
class ResponseMeta:
    site: str
    channel: Channel
    language: str
    day: date


@dataclass(frozen=True)
class OpenedResponse:
    response_id: str
    survey_version: str
    period: str
    answers: dict[str, Any]
    meta: ResponseMeta


@dataclass(frozen=True)
class UnreadableResponse:
    response_id: str
    survey_version: str
    reason: str


def coarse_period(day: date, granularity: str) -> str:
    if granularity == "day":
        return day.isoformat()
    if granularity == "month":
        return f"{day.year:04d}-{day.month:02d}"
    iso_year, iso_week, _ = day.isocalendar()
    return f"{iso_year:04d}-W{iso_week:02d}"


def encode_payload(answers: Mapping[str, Any], meta: ResponseMeta) -> bytes:
    document = {
        "format": PAYLOAD_FORMAT,
        "answers": dict(answers),
        "meta": {
            "site": meta.site,
            "channel": meta.channel,
            "language": meta.language,
            "day": meta.day.isoformat(),
        },
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def decode_payload(raw: bytes) -> tuple[dict[str, Any], ResponseMeta]:
    try:
        document = json.loads(raw)
        meta = document["meta"]
        if document.get("format") != PAYLOAD_FORMAT or not isinstance(document["answers"], dict):
            raise ValueError("unknown payload format")
        return document["answers"], ResponseMeta(
            site=str(meta["site"]),
            channel=meta["channel"],
            language=str(meta["language"]),
            day=date.fromisoformat(meta["day"]),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise MalformedPayload(f"opened, but not a response payload: {error}") from None


def current_key(session: Session, programme_id: int) -> ProgrammeKey | None:
    return session.scalars(
        select(ProgrammeKey).where(
            ProgrammeKey.programme_id == programme_id, ProgrammeKey.status == KeyStatus.CURRENT
        )
    ).first()


def register_version(session: Executor, survey_id: str, version: str, definition: str) -> None:
    """Keep the exact definition of each version answered, so old responses stay readable.

    INSERT ... ON CONFLICT DO NOTHING: several first responses to a new version arriving at
    once all find the row there afterwards, and none of them fails on the primary key.

    Called when a respondent starts (and again, as a no-op, when a response is stored), so the
    row is not written in the same transaction as the first response to the version. Versions
    are numbered in the order they were first answered; no time is kept.
    """
    known = (
        select(func.count())
        .select_from(SurveyVersion)
        .where(SurveyVersion.survey_id == survey_id)
        .scalar_subquery()
    )
    dialect_insert = postgresql_insert if dialect_name(session) == "postgresql" else sqlite_insert
    session.execute(
        dialect_insert(SurveyVersion)
        .values(
            survey_id=survey_id,
            version=version,
            definition=definition,
            ordinal=known + 1,
        )
        .on_conflict_do_nothing(index_elements=["survey_id", "version"])
    )


@dataclass(frozen=True)
class SealedResponse:
    """A response sealed and ready to store: a row of `table`, the inbox, where it waits until
    the next release; the answers are only inside `sealed`."""

    row: dict[str, Any]
    table: ClassVar[Table] = cast(Table, InboxResponse.__table__)

    def store(self, session: Executor) -> None:
        """Add the row to the inbox."""
        session.execute(_INSERT_INBOX, self.row)


def seal_response(
    session: Executor,
    *,
    survey_id: str,
    survey_version: str,
    definition: str,
    answers: Mapping[str, Any],
    meta: ResponseMeta,
    period_granularity: str,
    version_stored: bool = False,
) -> SealedResponse:
    """Seal the answers to the programme's current key, padded (see `survey_app.keys.padding`).

    Only reads, unless the version must be registered: callers seal first, then decide (with
    a conditional write) whether this request is the one that stores, and keep the time they
    hold a write lock short.

    `version_stored` says the caller knows the version's definition is in the database
    already (committed by this process, see `AppState.ensure_registered`); otherwise it is
    registered here, as a no-op when it is there. Nothing gives callers a response id to log
    or show.
    """
    # One statement: the current key, once for each site the survey is handed out at.
    rows = session.execute(_KEY_AND_SITES, {"survey_id": survey_id}).all()
    key = rows[0] if rows else None
    if key is None:  # rare: find out which of the two is missing, to say what to do
        slug = session.execute(_PROGRAMME_SLUG, {"survey_id": survey_id}).scalar()
        if slug is None:
            raise SurveyNotAssigned(survey_id)
        raise NoCurrentKey(slug)
    if not version_stored:
        register_version(session, survey_id, survey_version, definition)
    response_id = secrets.token_hex(16)
    payload = encode_payload(answers, meta)
    blob = sealing.seal(
        sealing.PublicKey(key_id=key.key_id, raw=key.public_key),
        sealing.ResponseBinding(
            response_id=response_id, survey_id=survey_id, survey_version=survey_version
        ),
        payload,
        padded_length=padded_length(
            payload, answers, definition, [row.site for row in rows if row.site is not None]
        ),
    )
    return SealedResponse(
        {
            "id": response_id,
            "survey_id": survey_id,
            "survey_version": survey_version,
            "period": coarse_period(meta.day, period_granularity),
            "key_id": key.key_id,
            "sealed": blob,
        }
    )


def store_response(
    session: Session,
    *,
    survey_id: str,
    survey_version: str,
    definition: str,
    answers: Mapping[str, Any],
    meta: ResponseMeta,
    period_granularity: str,
    version_stored: bool = False,
) -> None:
    """Seal the answers and add the row to the inbox (`seal_response`, then store it)."""
    seal_response(
        session,
        survey_id=survey_id,
        survey_version=survey_version,
        definition=definition,
        answers=answers,
        meta=meta,
        period_granularity=period_granularity,
        version_stored=version_stored,
    ).store(session)


# Built once, as plain table statements: storing a response runs each of them once.
_KEYS = cast(Table, ProgrammeKey.__table__)
_SURVEYS = cast(Table, SurveyAssignment.__table__)
_LINKS = cast(Table, DistributionLink.__table__)
# Every site the survey is handed out at: the padding makes room for the longest.
_SURVEY_SITES = (
    select(_LINKS.c.site).where(_LINKS.c.survey_id == bindparam("survey_id")).distinct().subquery()
)
# The current key, on one row per site (one row with no site when there is none).
_KEY_AND_SITES = (
    select(_KEYS.c.key_id, _KEYS.c.public_key, _SURVEY_SITES.c.site)
    .join(_SURVEYS, _SURVEYS.c.programme_id == _KEYS.c.programme_id)
    .outerjoin(_SURVEY_SITES, true())
    .where(_SURVEYS.c.id == bindparam("survey_id"), _KEYS.c.status == KeyStatus.CURRENT)
)
_PROGRAMME_SLUG = (
    select(cast(Table, Programme.__table__).c.slug)
    .join(_SURVEYS, _SURVEYS.c.programme_id == cast(Table, Programme.__table__).c.id)
    .where(_SURVEYS.c.id == bindparam("survey_id"))
)
_INSERT_INBOX = insert(cast(Table, InboxResponse.__table__))


def wrapped_keys(session: Session, programme_id: int) -> list[sealing.WrappedKey]:
    rows = session.scalars(
        select(ProgrammeKey).where(
            ProgrammeKey.programme_id == programme_id,
            ProgrammeKey.wrapped_private_key.is_not(None),
        )
    )
    return [
        sealing.WrappedKey(
            key_id=row.key_id, public_raw=row.public_key, wrapped_private=row.wrapped_private_key
        )
        for row in rows
        if row.wrapped_private_key is not None
    ]


def stored_responses() -> Subquery:
    """Every stored response, released or still in the inbox: what every reader must read."""
    return union_all(
        *(
            select(
                table.id,
                table.survey_id,
                table.survey_version,
                table.period,
                table.key_id,
                table.sealed,
            )
            for table in (Response, InboxResponse)
        )
    ).subquery("stored_responses")


def open_responses(
    session: Session, survey_id: str, keys: sealing.UnlockedKeys, *, batch_size: int = 2000
) -> Iterator[OpenedResponse | UnreadableResponse]:
    """Every response of a survey, opened; the ones that cannot be opened are reported, not dropped."""
    stored = stored_responses()
    query = (
        select(stored.c.id, stored.c.survey_version, stored.c.period, stored.c.sealed)
        .where(stored.c.survey_id == survey_id)
        .order_by(stored.c.id)
        .execution_options(yield_per=batch_size)
    )
    definitions = _definitions(session, survey_id)
    for response_id, version, period, blob in session.execute(query):
        binding = sealing.ResponseBinding(
            response_id=response_id, survey_id=survey_id, survey_version=version
        )
        try:
            answers, meta = decode_payload(keys.open(blob, binding))
            # Assisted answers may come from a device that checked them itself: check again.
            if meta.channel == "assisted" and version in definitions:
                answer_checks.check(definitions[version], answers)
        except (sealing.SealingError, MalformedPayload, answer_checks.BrokenRules) as error:
            yield UnreadableResponse(response_id, version, f"{type(error).__name__}: {error}")
            continue
        yield OpenedResponse(response_id, version, period, answers, meta)


def _definitions(session: Session, survey_id: str) -> dict[str, Survey]:
    """Every stored version of a survey that this code can read, by version."""
    found = {}
    rows = session.execute(
        select(SurveyVersion.version, SurveyVersion.definition).where(
            SurveyVersion.survey_id == survey_id
        )
    )
    for version, definition in rows:
        try:
            found[version] = load_survey_json(definition)
        except SurveyDefinitionError as error:
            # Its answers go unchecked rather than unread; say so once per report.
            log.warning("survey %s version %s cannot be checked: %s", survey_id, version, error)
    return found
