"""Distribution links and single-use access codes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from .models import DistributionLink, Programme, Survey

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
