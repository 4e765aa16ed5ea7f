"""Accepting responses sealed on a caseworker's device while offline.

The device seals each response itself (``static/offline/seal.js``) with a response id it made
at random, and uploads the blobs later. The server cannot open them; it checks what it can
without the key, then puts each blob into the same inbox as every other response:

- the envelope: format version 2, a plausible length, and sealed to a key of the survey's
  programme that is current, or was retired less than the setting
  `offline.retired_key_grace_days` ago (a device may hold the old public key until it next
  refreshes; destroyed keys are never accepted);
- the survey is one the caseworker may enter responses for, and the version is one the
  server knows (its definition is stored, so the report can read the answers);
- the coarse period is well formed and not in the future;
- the response id is new: uploading the same blob again, or at the same moment from two
  tabs, stores it once (a unique key in the inbox, and a check of the released responses in the
  same statement).

What is inside is checked when a report opens it (``survey_app.intake.answer_checks``): answers that
break the survey's rules are counted and flagged there, never dropped.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import exists, literal, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..definitions import Survey
from ..keys import sealing
from ..messages import N_, DomainError
from ..models import (
    InboxResponse,
    KeyStatus,
    ProgrammeKey,
    Response,
    SurveyAssignment,
    SurveyVersion,
)
from .responses import coarse_period, register_version

MAX_BATCH: Final = 100
MAX_BLOB_BYTES: Final = 256 * 1024
_RESPONSE_ID = re.compile(r"[0-9a-f]{32}")
_PERIODS: Final = {
    "day": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "week": re.compile(r"\d{4}-W\d{2}"),
    "month": re.compile(r"\d{4}-\d{2}"),
}


class UploadError(DomainError):
    """The request as a whole cannot be read."""


class Outcome(enum.StrEnum):
    STORED = "stored"
    ALREADY_STORED = "already-stored"  # a retry: the device may forget it too
    REFUSED = "refused"  # will never be accepted as it is: the device keeps it, flagged


class Refusal(Exception):
    """One blob cannot be accepted; the message says why, to the caseworker."""


class MalformedItem(Refusal):
    pass


class NotYourSurvey(Refusal):
    pass


class UnknownVersion(Refusal):
    pass


class KeyNotAccepted(Refusal):
    pass


class FuturePeriod(Refusal):
    pass


@dataclass(frozen=True)
class Item:
    response_id: str
    survey_id: str
    survey_version: str
    period: str
    sealed: bytes


@dataclass(frozen=True)
class ItemResult:
    response_id: str
    outcome: Outcome
    reason: str = ""

    def as_json(self) -> dict[str, str]:
        document = {"id": self.response_id, "outcome": self.outcome.value}
        if self.reason:
            document["reason"] = self.reason
        return document


@dataclass(frozen=True)
class UploadContext:
    """What the server knows of the uploader and of today, passed in by the view."""

    programmes: frozenset[int]  # where the caseworker may enter responses
    catalogue: Mapping[str, Survey]
    granularity: str
    now: datetime
    # A device may keep sealing to a key for a while after it was rotated (until it next
    # refreshes online); after that a blob sealed to the old key is refused, saying why.
    retired_key_grace: timedelta


def read_batch(document: Any) -> list[Any]:
    if not isinstance(document, dict) or not isinstance(document.get("responses"), list):
        raise UploadError(N_('send a JSON object with a "responses" list'))
    items: list[Any] = document["responses"]
    if not 1 <= len(items) <= MAX_BATCH:
        raise UploadError(N_("send between 1 and %(most)d responses at a time"), most=MAX_BATCH)
    return items


def parse_item(raw: Any) -> Item:
    if not isinstance(raw, dict):
        raise MalformedItem("each response must be a JSON object")
    fields = {}
    for name in ("id", "survey", "version", "period", "sealed"):
        value = raw.get(name)
        if not isinstance(value, str) or not value:
            raise MalformedItem(f"the response has no {name!r} text")
        fields[name] = value
    if not _RESPONSE_ID.fullmatch(fields["id"]):
        raise MalformedItem("a response id is 32 lowercase hexadecimal characters")
    if len(fields["survey"]) > 64 or len(fields["version"]) > 16:
        raise MalformedItem("the survey id or version is too long")
    try:
        sealed = base64.b64decode(fields["sealed"], validate=True)
    except binascii.Error:
        raise MalformedItem("the sealed response is not base64") from None
    return Item(fields["id"], fields["survey"], fields["version"], fields["period"], sealed)


def _check_envelope(sealed: bytes) -> str:
    if len(sealed) > MAX_BLOB_BYTES:
        raise MalformedItem(f"a sealed response is at most {MAX_BLOB_BYTES} bytes")
    try:
        key_id = sealing.envelope_key_id(sealed)
    except sealing.MalformedEnvelope as error:
        raise MalformedItem(str(error)) from None
    if sealed[0] != sealing.FORMAT_VERSION:
        raise MalformedItem(
            f"devices seal with envelope format {sealing.FORMAT_VERSION}, not {sealed[0]}"
        )
    return key_id


def _check_key(
    session: Session, programme_id: int, key_id: str, now: datetime, grace: timedelta
) -> None:
    key = session.get(ProgrammeKey, key_id)
    if key is None or key.programme_id != programme_id or key.status is KeyStatus.DESTROYED:
        raise KeyNotAccepted(
            f"it is sealed to key {key_id}, which is not a key of this programme any more; "
            "it cannot be accepted"
        )
    if key.status is KeyStatus.CURRENT:
        return
    # A key is retired when the next one is made: the newest later key's age is its retirement.
    successor = session.scalar(
        select(ProgrammeKey.created_at)
        .where(ProgrammeKey.programme_id == programme_id, ProgrammeKey.created_at > key.created_at)
        .order_by(ProgrammeKey.created_at)
        .limit(1)
    )
    if successor is not None and now - successor > grace:
        raise KeyNotAccepted(
            f"it is sealed to key {key_id}, retired more than {grace.days} days ago; "
            "refresh the offline page while online so new entries use the current key"
        )


def _check_survey(session: Session, item: Item, context: UploadContext) -> int:
    programme_id = session.scalar(
        select(SurveyAssignment.programme_id).where(SurveyAssignment.id == item.survey_id)
    )
    if programme_id is None or programme_id not in context.programmes:
        raise NotYourSurvey(
            f"{item.survey_id!r} is not a survey you may enter responses for; "
            "ask your programme's administrator"
        )
    current = context.catalogue.get(item.survey_id)
    if current is not None and current.version == item.survey_version:
        register_version(session, current.id, current.version, current.canonical_json)
        return programme_id
    known = session.scalar(
        select(literal(True)).where(
            SurveyVersion.survey_id == item.survey_id,
            SurveyVersion.version == item.survey_version,
        )
    )
    if not known:
        raise UnknownVersion(
            f"version {item.survey_version!r} of {item.survey_id!r} is unknown to this server"
        )
    return programme_id


def _check_period(period: str, context: UploadContext) -> None:
    pattern = _PERIODS.get(context.granularity)
    if pattern is None or not pattern.fullmatch(period):
        raise MalformedItem(f"the period {period!r} is not a {context.granularity}")
    # Within one granularity the period strings sort as the periods do.
    if period > coarse_period(context.now.date(), context.granularity):
        raise FuturePeriod(f"the period {period} is in the future: check the device's clock")


def _insert_once(session: Session, item: Item, key_id: str, *, lock: bool) -> bool:
    """True if this call stored the response; False if a response with its id exists.

    One statement: INSERT ... SELECT ... WHERE NOT EXISTS (released) ON CONFLICT DO NOTHING
    (inbox). On PostgreSQL the released table is first locked in SHARE mode, so a release
    moving this very id out of the inbox at the same moment finishes first and is then seen.
    """
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql and lock:  # once per transaction
        session.execute(text("LOCK TABLE responses IN SHARE MODE"))
    values = select(
        literal(item.response_id),
        literal(item.survey_id),
        literal(item.survey_version),
        literal(item.period),
        literal(key_id),
        literal(item.sealed),
    ).where(~exists().where(Response.id == item.response_id))
    columns = ["id", "survey_id", "survey_version", "period", "key_id", "sealed"]
    statement = (
        postgresql_insert(InboxResponse).from_select(columns, values).on_conflict_do_nothing()
        if postgresql
        else sqlite_insert(InboxResponse).from_select(columns, values).on_conflict_do_nothing()
    )
    # RETURNING, not rowcount: psycopg reports -1 rows for INSERT ... SELECT.
    return session.execute(statement.returning(InboxResponse.id)).first() is not None


class _Batch:
    """The checks of one upload request: a batch is usually one survey version and one key,
    so each is looked up once per request, not once per response."""

    def __init__(self, session: Session, context: UploadContext) -> None:
        self.session = session
        self.context = context
        self.surveys: dict[tuple[str, str], int | Refusal] = {}
        self.keys: dict[tuple[int, str], Refusal | None] = {}
        self.locked = False

    def survey(self, item: Item) -> int:
        found = self.surveys.get((item.survey_id, item.survey_version))
        if found is None:
            try:
                found = _check_survey(self.session, item, self.context)
            except Refusal as refusal:
                found = refusal
            self.surveys[(item.survey_id, item.survey_version)] = found
        if isinstance(found, Refusal):
            raise found
        return found

    def key(self, programme_id: int, key_id: str) -> None:
        if (programme_id, key_id) not in self.keys:
            try:
                _check_key(
                    self.session,
                    programme_id,
                    key_id,
                    self.context.now,
                    self.context.retired_key_grace,
                )
                self.keys[(programme_id, key_id)] = None
            except Refusal as refusal:
                self.keys[(programme_id, key_id)] = refusal
        found = self.keys[(programme_id, key_id)]
        if found is not None:
            raise found

    def accept(self, raw: Any) -> ItemResult:
        """Check one uploaded item and store it once; the caller commits."""
        response_id = raw.get("id") if isinstance(raw, dict) else None
        shown_id = response_id if isinstance(response_id, str) and len(response_id) <= 64 else ""
        try:
            item = parse_item(raw)
            key_id = _check_envelope(item.sealed)
            programme_id = self.survey(item)
            self.key(programme_id, key_id)
            _check_period(item.period, self.context)
        except Refusal as refusal:
            return ItemResult(shown_id, Outcome.REFUSED, str(refusal))
        stored = _insert_once(self.session, item, key_id, lock=not self.locked)
        self.locked = True
        return ItemResult(item.response_id, Outcome.STORED if stored else Outcome.ALREADY_STORED)


def accept_batch(
    session: Session, items: Sequence[Any], context: UploadContext
) -> list[ItemResult]:
    batch = _Batch(session, context)
    return [batch.accept(raw) for raw in items]
