"""Database tables.

What a response row holds in the clear is deliberately little: its random id, the survey and
version, the coarse period and the key it is sealed to. Everything else (answers, site, channel,
exact day, language) is inside the sealed blob.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, UTCDateTime


class Role(enum.StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    VIEWER = "viewer"
    CASEWORKER = "caseworker"


class KeyStatus(enum.StrEnum):
    CURRENT = "current"
    RETIRED = "retired"
    DESTROYED = "destroyed"


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    # Stored as plain strings with a CHECK constraint, identical on SQLite and PostgreSQL.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


class Programme(Base):
    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The neutral title respondents see in their browser tab and on the landing page.
    public_title: Mapped[str] = mapped_column(String(200), default="Feedback")
    retention_days: Mapped[int] = mapped_column(Integer, default=730)
    # Per language: {"en": [{"name": ..., "phone": ..., "hours": ...}], ...}
    help_contacts: Mapped[dict[str, list[dict[str, str]]]] = mapped_column(JSON, default=dict)
    # Whether its "What you told us" page is public (see survey_app.reports.results_page).
    results_page_published: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    keys: Mapped[list[ProgrammeKey]] = relationship(back_populates="programme")
    surveys: Mapped[list[SurveyAssignment]] = relationship(back_populates="programme")


class ProgrammeKey(Base):
    """One key pair of a programme's ring. The private half is only ever stored wrapped."""

    __tablename__ = "programme_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    # Null when the programme keeps its private key off the server, or once destroyed.
    wrapped_private_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    status: Mapped[KeyStatus] = mapped_column(
        _enum(KeyStatus, "key_status"), default=KeyStatus.CURRENT
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    programme: Mapped[Programme] = relationship(back_populates="keys")


class SurveyAssignment(Base):
    """A survey (by its file's id) assigned to the programme whose key seals its responses."""

    __tablename__ = "surveys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)

    programme: Mapped[Programme] = relationship(back_populates="surveys")
    versions: Mapped[list[SurveyVersion]] = relationship(back_populates="survey")


class SurveyVersion(Base):
    """The exact definition a response was given against; never changed once stored."""

    __tablename__ = "survey_versions"

    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.id"), primary_key=True)
    version: Mapped[str] = mapped_column(String(16), primary_key=True)
    definition: Mapped[str] = mapped_column(Text)
    # 1 for the first version of the survey stored, then 2, 3...: which is newest, never when.
    ordinal: Mapped[int] = mapped_column(Integer)

    survey: Mapped[SurveyAssignment] = relationship(back_populates="versions")


class _StoredResponse:
    """The columns of a stored response, shared by the inbox and the released table."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    survey_id: Mapped[str] = mapped_column(String(64), index=True)
    survey_version: Mapped[str] = mapped_column(String(16))
    # Coarse period only ("2026-W48", "2026-11-28" or "2026-11"): never the exact time.
    period: Mapped[str] = mapped_column(String(10), index=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("programme_keys.key_id"), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class Response(_StoredResponse, Base):
    """Released responses. On SQLite the table has no rowid, so its file is ordered by the
    random id; rows only ever arrive here in whole releases (see `survey_app.intake.release`)."""

    __tablename__ = "responses"
    __table_args__ = (
        ForeignKeyConstraint(
            ["survey_id", "survey_version"],
            ["survey_versions.survey_id", "survey_versions.version"],
            name="fk_responses_survey_version",
        ),
        {"sqlite_with_rowid": False},
    )


class InboxResponse(_StoredResponse, Base):
    """Acknowledged responses not yet released into `responses`: durable, and read by every
    reader of responses, but in arrival order for at most one release interval."""

    __tablename__ = "response_inbox"
    __table_args__ = (
        ForeignKeyConstraint(
            ["survey_id", "survey_version"],
            ["survey_versions.survey_id", "survey_versions.version"],
            name="fk_response_inbox_survey_version",
        ),
        {"sqlite_with_rowid": False},
    )


class Release(Base):
    """The one row saying which release interval was last released."""

    __tablename__ = "releases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The interval (a UTC day, "2026-11-30") in which the last release ran.
    last_interval: Mapped[str] = mapped_column(String(10))


class TrafficCount(Base):
    """Respondent requests per UTC day, route pattern and status (see `survey_app.operations.traffic`)."""

    __tablename__ = "traffic_counts"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    route: Mapped[str] = mapped_column(String(100), primary_key=True)
    status: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class DistributionLink(Base):
    """A link handed out at one site; the site goes into the sealed metadata."""

    __tablename__ = "distribution_links"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.id"), index=True)
    site: Mapped[str] = mapped_column(String(100))
    requires_code: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AccessCode(Base):
    """A single-use code. Only its hash is kept, and nothing points from it to a response."""

    __tablename__ = "access_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    link_token: Mapped[str] = mapped_column(ForeignKey("distribution_links.token"), index=True)
    batch: Mapped[str] = mapped_column(String(32), index=True)
    spent: Mapped[bool] = mapped_column(Boolean, default=False)


class Draft(Base):
    """Answers in progress (a respondent's or an assisted entry's), encrypted with a key that
    only the open page holds."""

    __tablename__ = "drafts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    # Sealed under the TOTP key, which is not in the database (see totp_secrets).
    totp_secret: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # The last TOTP time step accepted, so a code seen over someone's shoulder cannot be replayed.
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_superadmin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Changing it ends every session of the user (sign-out everywhere, password reset).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "programme_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))

    user: Mapped[User] = relationship(back_populates="memberships")
    programme: Mapped[Programme] = relationship()


class AuditEvent(Base):
    """Hash-chained record of sensitive acts. Never about an individual submission."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    programme_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    previous_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


class ReportSnapshot(Base):
    """Published aggregates, already disclosure-controlled; viewers read these without a key."""

    __tablename__ = "report_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    response_count: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[int] = mapped_column(Integer)
    versions: Mapped[str] = mapped_column(String(400))
    content: Mapped[str] = mapped_column(Text)


class ResultsPageItem(Base):
    """One result on a programme's "What you told us" page: a share an analyst chose from a
    survey's published report, and what the programme is doing about it, per language. The
    share is read from the newest published report each time the page is shown."""

    __tablename__ = "results_page_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.id"))
    variable_id: Mapped[str] = mapped_column(String(200))  # a question id or "indicator:<id>"
    row_key: Mapped[str] = mapped_column(String(200), default="")  # "" for an indicator
    action: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class Brief(Base):
    """The policy brief of a survey for one period: the key findings an analyst wrote from the
    published report, and whether the brief is published (see survey_app.reports.brief)."""

    __tablename__ = "briefs"
    __table_args__ = (UniqueConstraint("survey_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.id"))
    period: Mapped[str] = mapped_column(String(40))  # the published rounds, e.g. "2026-Q1/2026-Q3"
    findings: Mapped[list[str]] = mapped_column(JSON, default=list)
    published: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class BriefQuote(Base):
    """A redacted free-text answer an analyst approved as a quote: published content.

    Only the redacted words and the question they answer are kept: no response id, no time, and
    a random id, so that nothing in the row (or its order) leads back to a response."""

    __tablename__ = "brief_quotes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.id"), index=True)
    question_id: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)


class DeploymentFact(Base):
    """Facts every server of one deployment must agree on, checked when a server starts.

    Nothing here is secret: the secret key is kept only as a one-way fingerprint.
    """

    __tablename__ = "deployment_facts"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
