"""What administrators do to programmes, their distribution links and access-code batches.

Each change is audited under the acting person's name, in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..intake import distribution
from ..messages import N_, DomainError
from ..models import AccessCode, DistributionLink, Programme, SurveyAssignment
from . import audit

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
MAX_RETENTION_DAYS = 3650


class ProgrammeAdminError(DomainError):
    """A change that cannot be made; `field` names the form field at fault, if any."""

    field = ""


class SlugInvalid(ProgrammeAdminError):
    field = "slug"
    message_id = N_(
        "'%(slug)s' cannot be a programme id: use 2 to 63 lower-case letters, digits and dashes, "
        "starting with a letter or digit (for example city-shelter)."
    )

    def __init__(self, slug: str) -> None:
        super().__init__(slug=slug)


class SlugTaken(ProgrammeAdminError):
    field = "slug"
    message_id = N_("A programme with the id '%(slug)s' already exists; choose another id.")

    def __init__(self, slug: str) -> None:
        super().__init__(slug=slug)


class NameMissing(ProgrammeAdminError):
    field = "name"
    message_id = N_("Give the programme a name (up to 200 characters).")


class PublicTitleMissing(ProgrammeAdminError):
    field = "public_title"
    message_id = N_(
        "Give a neutral public title (up to 200 characters), such as 'Feedback'; respondents "
        "see it in their browser."
    )


class RetentionOutOfRange(ProgrammeAdminError):
    field = "retention_days"
    message_id = N_("Keep responses between 1 and %(most)d days (730 is two years).")

    def __init__(self) -> None:
        super().__init__(most=MAX_RETENTION_DAYS)


class LinkTakesNoCodes(ProgrammeAdminError):
    field = "count"
    message_id = N_(
        "This link does not ask for access codes. Create a new link with 'Ask for an access "
        "code' ticked, then make codes for that one."
    )


class LinkDisabled(ProgrammeAdminError):
    field = "count"
    message_id = N_("This link is switched off. Switch it on before making codes for it.")


class CodeCountOutOfRange(ProgrammeAdminError):
    field = "count"
    message_id = N_("Make between 1 and %(most)d codes at a time.")

    def __init__(self) -> None:
        super().__init__(most=distribution.MAX_CODES)


class ProgrammeNotFound(ProgrammeAdminError):
    field = "programme"
    message_id = N_("There is no programme '%(slug)s'; see `survey-app programmes list`.")

    def __init__(self, slug: str) -> None:
        super().__init__(slug=slug)


class SurveyElsewhere(ProgrammeAdminError):
    field = "survey"
    message_id = N_("Survey '%(survey)s' already belongs to programme '%(owner)s'.")

    def __init__(self, survey_id: str, owner: str) -> None:
        super().__init__(survey=survey_id, owner=owner)


class LinkInvalid(ProgrammeAdminError):
    """The distribution module refused the link; its message says why."""

    def __init__(self, refused: distribution.DistributionError) -> None:
        self.field = refused.field
        super().__init__(refused.message, **refused.params)


@dataclass(frozen=True)
class ProgrammeDetails:
    name: str
    public_title: str
    retention_days: int


def find_programme(session: Session, slug: str) -> Programme:
    programme = session.scalar(select(Programme).where(Programme.slug == slug.strip().lower()))
    if programme is None:
        raise ProgrammeNotFound(slug)
    return programme


def _checked(details: ProgrammeDetails) -> ProgrammeDetails:
    name, title = details.name.strip(), details.public_title.strip()
    if not name or len(name) > 200:
        raise NameMissing()
    if not title or len(title) > 200:
        raise PublicTitleMissing()
    if not 1 <= details.retention_days <= MAX_RETENTION_DAYS:
        raise RetentionOutOfRange()
    return ProgrammeDetails(name, title, details.retention_days)


def create_programme(
    session: Session, actor: audit.Actor, slug: str, details: ProgrammeDetails
) -> Programme:
    slug = slug.strip().lower()
    if not SLUG.match(slug):
        raise SlugInvalid(slug)
    if session.scalar(select(Programme.id).where(Programme.slug == slug)) is not None:
        raise SlugTaken(slug)
    checked = _checked(details)
    programme = Programme(
        slug=slug,
        name=checked.name,
        public_title=checked.public_title,
        retention_days=checked.retention_days,
        help_contacts={},
    )
    session.add(programme)
    session.flush()
    audit.record(session, actor.name, "programme.create", programme.id, f"created {slug}")
    return programme


def update_programme(
    session: Session, actor: audit.Actor, programme: Programme, details: ProgrammeDetails
) -> None:
    checked = _checked(details)
    changes = [
        f"{label}: {getattr(programme, attribute)!r} -> {value!r}"
        for label, attribute, value in (
            ("name", "name", checked.name),
            ("public title", "public_title", checked.public_title),
            ("retention days", "retention_days", checked.retention_days),
        )
        if getattr(programme, attribute) != value
    ]
    if not changes:
        return
    programme.name = checked.name
    programme.public_title = checked.public_title
    programme.retention_days = checked.retention_days
    audit.record(session, actor.name, "programme.change", programme.id, "; ".join(changes))


def set_help_contacts(
    session: Session,
    actor: audit.Actor,
    programme: Programme,
    contacts: dict[str, list[dict[str, str]]],
) -> None:
    """The help and referral contacts shown on every respondent page, per language."""
    programme.help_contacts = contacts
    languages = ", ".join(sorted(contacts))
    audit.record(session, actor.name, "programme.help", programme.id, f"help contacts: {languages}")


def assign_survey(
    session: Session, actor: audit.Actor, programme: Programme, survey_id: str
) -> None:
    """Give the survey to the programme: its responses are sealed to that programme's key."""
    existing = session.get(SurveyAssignment, survey_id)
    if existing is not None and existing.programme_id != programme.id:
        raise SurveyElsewhere(survey_id, existing.programme.slug)
    if existing is None:
        session.add(SurveyAssignment(id=survey_id, programme_id=programme.id))
        audit.record(session, actor.name, "survey.assign", programme.id, f"survey {survey_id}")


def create_link(
    session: Session,
    actor: audit.Actor,
    programme: Programme,
    survey_id: str,
    site: str,
    *,
    requires_code: bool,
) -> DistributionLink:
    try:
        link = distribution.create_link(
            session, programme, survey_id, site, requires_code=requires_code
        )
    except distribution.DistributionError as error:
        raise LinkInvalid(error) from None
    codes = ", access codes required" if requires_code else ""
    audit.record(
        session,
        actor.name,
        "link.create",
        programme.id,
        f"link {link.token} for {survey_id} at {link.site}{codes}",
    )
    return link


def set_link_active(
    session: Session, actor: audit.Actor, link: DistributionLink, active: bool
) -> None:
    if link.active == active:
        return
    link.active = active
    action = "link.enable" if active else "link.disable"
    audit.record(
        session, actor.name, action, link.programme_id, f"link {link.token} at {link.site}"
    )


def create_code_batch(
    session: Session, actor: audit.Actor, link: DistributionLink, count: int, code_key: str
) -> tuple[str, list[str]]:
    """A batch of single-use codes: returned this once, only their hashes are kept."""
    if not link.requires_code:
        raise LinkTakesNoCodes()
    if not link.active:
        raise LinkDisabled()
    if not 1 <= count <= distribution.MAX_CODES:
        raise CodeCountOutOfRange()
    batch, codes = distribution.create_codes(session, link, count, code_key)
    audit.record(
        session,
        actor.name,
        "codes.create",
        link.programme_id,
        f"batch {batch}: {count} codes for link {link.token} at {link.site}",
    )
    return batch, codes


@dataclass(frozen=True)
class BatchSummary:
    batch: str
    codes: int
    spent: int


def code_batches(session: Session, link: DistributionLink) -> list[BatchSummary]:
    rows = session.execute(
        select(
            AccessCode.batch,
            func.count(),
            func.sum(case((AccessCode.spent.is_(True), 1), else_=0)),
        )
        .where(AccessCode.link_token == link.token)
        .group_by(AccessCode.batch)
        .order_by(AccessCode.batch)
    )
    return [BatchSummary(batch, int(total), int(spent or 0)) for batch, total, spent in rows]
