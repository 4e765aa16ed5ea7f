"""What a respondent's request reads of its link and the link's programme.

One query with a statement built once, read into plain frozen values: every respondent request
runs it, and loading ORM objects for it cost more than the query. Nothing here is ever written
back; staff pages keep using the ORM models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select

from ..db import Executor
from ..models import DistributionLink, Programme


@dataclass(frozen=True)
class ServedProgramme:
    """The programme as its respondents see it: the title and whom to call for help."""

    id: int
    public_title: str
    help_contacts: dict[str, list[dict[str, str]]]
    results_page: bool = False  # its "What you told us" page is public


@dataclass(frozen=True)
class ServedLink:
    token: str
    survey_id: str
    site: str
    requires_code: bool
    active: bool
    programme: ServedProgramme


_LINKS = cast(Table, DistributionLink.__table__)
_PROGRAMMES = cast(Table, Programme.__table__)
_FIND = (
    select(
        _LINKS.c.token,
        _LINKS.c.survey_id,
        _LINKS.c.site,
        _LINKS.c.requires_code,
        _LINKS.c.active,
        _PROGRAMMES.c.id,
        _PROGRAMMES.c.public_title,
        _PROGRAMMES.c.help_contacts,
        _PROGRAMMES.c.results_page_published,
    )
    .join(_PROGRAMMES, _PROGRAMMES.c.id == _LINKS.c.programme_id)
    .where(_LINKS.c.token == bindparam("token"))
)


def find_link(session: Executor, token: str) -> ServedLink | None:
    row: Any = session.execute(_FIND, {"token": token}).first()
    if row is None:
        return None
    return ServedLink(
        token=row.token,
        survey_id=row.survey_id,
        site=row.site,
        requires_code=bool(row.requires_code),
        active=bool(row.active),
        programme=ServedProgramme(
            id=row.id,
            public_title=row.public_title,
            help_contacts=row.help_contacts or {},
            results_page=bool(row.results_page_published),
        ),
    )
