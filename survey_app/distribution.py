"""Distribution links and single-use access codes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .messages import N_, DomainError
from .models import AccessCode, DistributionLink, Programme, Survey

# Unambiguous on a printed card: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


MAX_CODES = 5000


class DistributionError(DomainError):
    """A link or code request that cannot be carried out; `field` names the input at fault."""

    field = ""


class SurveyNotInProgramme(DistributionError):
    field = "survey"
    message_id = N_(
        "Survey '%(survey)s' does not belong to programme '%(slug)s'; assign it with "
        "`survey-app surveys assign %(survey)s %(slug)s`."
    )

    def __init__(self, survey_id: str, slug: str) -> None:
        super().__init__(survey=survey_id, slug=slug)


class SiteInvalid(DistributionError):
    field = "site"
    message_id = N_("Give a short site name (1 to 100 characters).")


class CodeCountInvalid(DistributionError):
    field = "count"
    message_id = N_("Make between 1 and %(most)d codes at a time.")

    def __init__(self) -> None:
        super().__init__(most=MAX_CODES)


def create_link(
    session: Session,
    programme: Programme,
    survey_id: str,
    site: str,
    *,
    requires_code: bool = False,
) -> DistributionLink:
    survey = session.get(Survey, survey_id)
    if survey is None or survey.programme_id != programme.id:
        raise SurveyNotInProgramme(survey_id, programme.slug)
    site = site.strip()
    if not site or len(site) > 100:
        raise SiteInvalid()
    link = DistributionLink(
        token=new_link_token(),
        programme_id=programme.id,
        survey_id=survey_id,
        site=site,
        requires_code=requires_code,
        active=True,
        created_at=datetime.now(UTC),
    )
    session.add(link)
    session.flush()
    return link


def new_link_token() -> str:
    """A random link token that never starts with a dash, which a command line would read as
    an option (`survey-app links disable -x...` fails)."""
    while True:
        token = secrets.token_urlsafe(12)
        if not token.startswith("-"):
            return token


def hash_code(code: str) -> str:
    normalised = code.strip().upper().replace("-", "").replace(" ", "")
    return hashlib.sha256(normalised.encode()).hexdigest()


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def create_codes(session: Session, link: DistributionLink, count: int) -> tuple[str, list[str]]:
    """A batch of single-use codes for `link`: the codes are returned once, only hashes are kept."""
    if not 1 <= count <= MAX_CODES:
        raise CodeCountInvalid()
    batch = secrets.token_hex(4)
    codes: list[str] = []
    while len(codes) < count:
        code = new_code()
        digest = hash_code(code)
        if session.get(AccessCode, digest) is not None or code in codes:
            continue
        session.add(AccessCode(code_hash=digest, link_token=link.token, batch=batch, spent=False))
        codes.append(code)
    session.flush()
    return batch, codes


def code_is_usable(session: Session, link_token: str, code_hash: str) -> bool:
    found = session.scalar(
        select(AccessCode.spent).where(
            AccessCode.code_hash == code_hash, AccessCode.link_token == link_token
        )
    )
    return found is False


def spend_code(session: Session, link_token: str, code_hash: str) -> bool:
    """Mark the code spent, in the caller's transaction; False if it was spent meanwhile.

    The conditional UPDATE makes two simultaneous submissions with one code race safely: only
    one of them changes the row.
    """
    result = session.execute(
        update(AccessCode)
        .where(
            AccessCode.code_hash == code_hash,
            AccessCode.link_token == link_token,
            AccessCode.spent.is_(False),
        )
        .values(spent=True)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
