"""Distribution links and single-use access codes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import AccessCode, DistributionLink, Programme, Survey

# Unambiguous on a printed card: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


class DistributionError(Exception):
    """A link or code request that cannot be carried out; the message says why."""


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
        raise DistributionError(
            f"survey {survey_id!r} does not belong to programme {programme.slug!r}; "
            f"assign it with `survey-app surveys assign {survey_id} {programme.slug}`"
        )
    site = site.strip()
    if not site or len(site) > 100:
        raise DistributionError("site: give a short site name (1 to 100 characters)")
    link = DistributionLink(
        token=secrets.token_urlsafe(12),
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


def hash_code(code: str) -> str:
    normalised = code.strip().upper().replace("-", "").replace(" ", "")
    return hashlib.sha256(normalised.encode()).hexdigest()


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def create_codes(session: Session, link: DistributionLink, count: int) -> tuple[str, list[str]]:
    """A batch of single-use codes for `link`: the codes are returned once, only hashes are kept."""
    if not 1 <= count <= 5000:
        raise DistributionError("count: make between 1 and 5000 codes at a time")
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
