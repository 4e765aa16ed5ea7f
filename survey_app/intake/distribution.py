"""Distribution links and single-use access codes.

A code is kept only as HMAC-SHA256 under the code key (`security.code_key`, or the instance
file ``code_key``), which is never in the database: a database copy alone cannot be searched
for valid codes. Codes made before keyed hashes were stored as plain SHA-256; they are still
accepted (see `legacy_hash`), and stay guessable from a copy until reissued.

A code is spent when the respondent *starts*, not when the response is stored, so no
transaction that stores a response touches a code. The price: a code entered and then
abandoned is used up; the respondent asks for a new card.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from ..db import Executor
from ..messages import N_, DomainError
from ..models import AccessCode, DistributionLink, Programme, SurveyAssignment

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
    survey = session.get(SurveyAssignment, survey_id)
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


def _normalise(code: str) -> bytes:
    return code.strip().upper().replace("-", "").replace(" ", "").encode()


def hash_code(code: str, key: str) -> str:
    """What is stored of a code: its keyed hash."""
    return hmac.new(key.encode(), _normalise(code), hashlib.sha256).hexdigest()


def code_draft_id(link_token: str, code: str, browser: str, key: str) -> str:
    """The id of the draft that `code` opens at the link in one browser (`browser`: a random
    value the browser holds, its respondent cookie), the same each time that browser starts
    there with it.

    So that a start sent twice (a double tap, a slow network) gives the survivor a page rather
    than "already used": the second start finds the draft the first one opened and takes it
    over (`DraftStore.restart`). The link is part of it, so a code spent at one link opens no
    draft at another. A keyed hash: the id tells nothing of the link, the code or the browser
    to whoever lacks the key and the browser's cookie.
    """
    message = b"draft\0" + b"\0".join([link_token.encode(), _normalise(code), browser.encode()])
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:32]


def legacy_hash(code: str) -> str:
    """How codes were stored before keyed hashes; still accepted for cards already printed."""
    return hashlib.sha256(_normalise(code)).hexdigest()


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def create_codes(
    session: Session, link: DistributionLink, count: int, key: str
) -> tuple[str, list[str]]:
    """A batch of single-use codes for `link`: the codes are returned once, only hashes are kept."""
    if not 1 <= count <= MAX_CODES:
        raise CodeCountInvalid()
    batch = secrets.token_hex(4)
    codes: list[str] = []
    while len(codes) < count:
        code = new_code()
        digest = hash_code(code, key)
        if session.get(AccessCode, digest) is not None or code in codes:
            continue
        session.add(AccessCode(code_hash=digest, link_token=link.token, batch=batch, spent=False))
        codes.append(code)
    session.flush()
    return batch, codes


def spend_code(session: Executor, link_token: str, code: str, key: str) -> bool:
    """Mark the code spent, in the caller's transaction; False if unknown or already spent.

    The conditional UPDATE makes two simultaneous starts with one code race safely: only one
    of them changes the row.
    """
    for digest in (hash_code(code, key), legacy_hash(code)):
        result = session.execute(
            update(AccessCode)
            .where(
                AccessCode.code_hash == digest,
                AccessCode.link_token == link_token,
                AccessCode.spent.is_(False),
            )
            .values(spent=True)
        )
        if getattr(result, "rowcount", 0) == 1:
            return True
    return False
