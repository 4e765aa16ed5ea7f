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
from ..intake.drafts import StoredDraft
from ..models import DistributionLink, Draft, Programme


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
_DRAFTS = cast(Table, Draft.__table__)
_COLUMNS = (
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
_LINK_AND_PROGRAMME = _LINKS.join(_PROGRAMMES, _PROGRAMMES.c.id == _LINKS.c.programme_id)
_FIND = (
    select(*_COLUMNS).select_from(_LINK_AND_PROGRAMME).where(_LINKS.c.token == bindparam("token"))
)
# A page sent with a draft: the draft's row comes with the link, in the same statement.
_FIND_WITH_DRAFT = (
    select(*_COLUMNS, _DRAFTS.c.id.label("draft_id"), _DRAFTS.c.ciphertext, _DRAFTS.c.expires_at)
    .select_from(_LINK_AND_PROGRAMME.outerjoin(_DRAFTS, _DRAFTS.c.id == bindparam("draft_id")))
    .where(_LINKS.c.token == bindparam("token"))
)


def find_link(session: Executor, token: str) -> ServedLink | None:
    row: Any = session.execute(_FIND, {"token": token}).first()
    return None if row is None else _link(row)


def find_link_and_draft(
    session: Executor, token: str, draft_id: str
) -> tuple[ServedLink | None, StoredDraft | None]:
    """The link, and the draft's row if there is one with this id (one statement)."""
    row: Any = session.execute(_FIND_WITH_DRAFT, {"token": token, "draft_id": draft_id}).first()
    if row is None:
        return None, None
    draft = None if row.draft_id is None else StoredDraft(row.ciphertext, row.expires_at)
    return _link(row), draft


def _link(row: Any) -> ServedLink:
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
