"""Answers in progress, held on the server under a key that only the open page holds.

The page the respondent is looking at carries a random draft id and a random 256-bit key in a
hidden form field (never a cookie, never a URL); the server keeps only AES-GCM ciphertext, bound
to the draft id, that expires after a period of idleness. Neither side alone can read a draft.

Every page sent replaces the draft with a new id and a new key (`DraftStore.rotate`), so the
field in any earlier page - one kept in the browser's history, or re-sent by "Confirm form
resubmission" in a reopened tab - opens nothing. Leaving deletes the draft;
finishing drops its answers (the row stays, empty, until its expiry, so that a second copy of
the last page can be told the answers were received); an expired draft is purged. See docs/respondent-safety.md.

The expiry time is kept only to a 15-minute step (`EXPIRY_STEP`), rounded up: a database copy
shows which quarter-hour a respondent was last active, never the minute or second.
"""

from __future__ import annotations

import functools
import json
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Executable, Table, bindparam, delete, insert, select, update

from ..db import Executor, dialect_name
from ..models import Draft

NONCE_BYTES = 12
# Every stored expiry is a multiple of this step (counted from the Unix epoch).
EXPIRY_STEP = timedelta(minutes=15)


# A finished draft's row keeps no ciphertext, only the fact that it was finished, until it
# expires as it would have anyway (its expiry is left as the last page saved set it, so the row
# tells no time the draft did not already tell): a second copy of the last page (a double tap)
# can then be told, truthfully, that its answers were already received.
FINISHED = b""


class DraftExpired(Exception):
    """The draft is gone: finished, left, idle too long, or replaced by a later page."""

    def __init__(self) -> None:
        super().__init__(
            "these answers can no longer be opened: they were cleared after a period without "
            "activity, or a later page replaced them"
        )


class DraftFinished(Exception):
    """The draft's answers were already stored, by this request's twin or an earlier one."""

    def __init__(self) -> None:
        super().__init__("these answers were already received")


@dataclass
class DraftState:
    """What a respondent has answered so far, and where they are."""

    link_token: str
    language: str
    survey_version: str
    answers: dict[str, Any] = field(default_factory=dict)
    # Pages visited in order, so "Back" returns to the page actually seen before.
    history: list[int] = field(default_factory=list)
    # The page the respondent is on: a re-sent or forged page number cannot move them.
    current: int = 1
    # Assisted entry only: the site of the interview (a respondent's site is their link's).
    site: str | None = None

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> DraftState:
        return cls(**json.loads(raw))


@dataclass(frozen=True)
class DraftHandle:
    """What the page keeps: opaque, useless without the server's row and vice versa."""

    draft_id: str
    key: bytes

    def to_field(self) -> str:
        return f"{self.draft_id}.{self.key.hex()}"

    @classmethod
    def from_field(cls, value: object) -> DraftHandle | None:
        if not isinstance(value, str) or value.count(".") != 1:
            return None
        draft_id, key_hex = value.split(".")
        try:
            key = bytes.fromhex(key_hex)
        except ValueError:
            return None
        if len(draft_id) != 32 or len(key) != 32:
            return None
        return cls(draft_id, key)


@dataclass(frozen=True)
class StoredDraft:
    """A draft's row as read: still sealed to the key that only the page holds."""

    ciphertext: bytes
    expires_at: datetime


_DRAFTS = cast(Table, Draft.__table__)
# Built once, as plain table statements: every respondent request runs one or two of them, and
# building a statement, or going through the ORM's unit of work, cost more than running it.
_LOAD = select(_DRAFTS.c.ciphertext, _DRAFTS.c.expires_at).where(
    _DRAFTS.c.id == bindparam("draft_id")
)
_CREATE = insert(_DRAFTS)
_ROTATE = (
    update(_DRAFTS)
    .where(_DRAFTS.c.id == bindparam("old_id"), _DRAFTS.c.ciphertext != FINISHED)
    .values(
        id=bindparam("new_id"),
        ciphertext=bindparam("new_ciphertext"),
        expires_at=bindparam("new_expires_at"),
    )
)
_RESTART = (
    update(_DRAFTS)
    .where(
        _DRAFTS.c.id == bindparam("draft_id"),
        _DRAFTS.c.ciphertext != FINISHED,
        _DRAFTS.c.expires_at > bindparam("now"),
    )
    .values(ciphertext=bindparam("new_ciphertext"), expires_at=bindparam("new_expires_at"))
)
_DISCARD = delete(_DRAFTS).where(_DRAFTS.c.id == bindparam("draft_id"))
_FINISH = (
    update(_DRAFTS)
    .where(_DRAFTS.c.id == bindparam("draft_id"), _DRAFTS.c.ciphertext != FINISHED)
    .values(ciphertext=FINISHED)
)
_PURGE = delete(_DRAFTS).where(_DRAFTS.c.expires_at <= bindparam("now"))


class DraftStore:
    def __init__(self, session: Executor, idle: timedelta) -> None:
        self.session = session
        self.idle = idle

    def create(self, state: DraftState, draft_id: str | None = None) -> DraftHandle:
        """A new draft holding `state`, under `draft_id` if given (see `restart`), else a
        random id."""
        handle = _new_handle(draft_id)
        self.session.execute(
            _CREATE,
            {
                "id": handle.draft_id,
                "ciphertext": self._encrypt(handle, state),
                "expires_at": self._expiry(),
            },
        )
        return handle

    def load(self, handle: DraftHandle) -> DraftState:
        row = self.session.execute(_LOAD, {"draft_id": handle.draft_id}).first()
        return self.open(
            handle, None if row is None else StoredDraft(row.ciphertext, row.expires_at)
        )

    def open(self, handle: DraftHandle, draft: StoredDraft | None) -> DraftState:
        """The answers in `draft`, the handle's row as read (None: no such row) in this
        transaction, e.g. with the request's link (`survey_app.web.served_links`)."""
        if draft is None or draft.expires_at <= now():
            raise DraftExpired()
        if draft.ciphertext == FINISHED:
            raise DraftFinished()
        try:
            raw = AESGCM(handle.key).decrypt(
                draft.ciphertext[:NONCE_BYTES],
                draft.ciphertext[NONCE_BYTES:],
                handle.draft_id.encode(),
            )
        except InvalidTag:
            raise DraftExpired() from None
        return DraftState.from_json(raw)

    def rotate(self, handle: DraftHandle, state: DraftState) -> DraftHandle:
        """Store `state` under a new id and key; the old handle opens nothing from now on.

        One conditional UPDATE replaces the row's id, ciphertext and expiry, so of two requests
        sent in parallel with the same handle only one gets a new draft; the other raises
        DraftExpired.
        """
        new = _new_handle()
        result = self.session.execute(
            _ROTATE,
            {
                "old_id": handle.draft_id,
                "new_id": new.draft_id,
                "new_ciphertext": self._encrypt(new, state),
                "new_expires_at": self._expiry(),
            },
        )
        if _rowcount(result) != 1:
            raise DraftExpired()
        return new

    def restart(self, draft_id: str, state: DraftState) -> DraftHandle | None:
        """Put `state` in the live draft `draft_id` under a new key; None if there is none.

        For a draft whose id its starter can work out again (an access code's, see
        `survey_app.intake.distribution.code_draft_id`): while it still has that id - no page
        was sent from it, since sending one moves a draft to a new id - starting again gives
        the same browser the draft back, empty, and the page that held the old key opens
        nothing.
        """
        handle = _new_handle(draft_id)
        result = self.session.execute(
            _RESTART,
            {
                "draft_id": draft_id,
                "now": now(),
                "new_ciphertext": self._encrypt(handle, state),
                "new_expires_at": self._expiry(),
            },
        )
        return handle if _rowcount(result) == 1 else None

    def discard(self, handle: DraftHandle) -> None:
        self.session.execute(_DISCARD, {"draft_id": handle.draft_id})

    def finish(self, handle: DraftHandle) -> bool:
        """Mark the draft finished, dropping its answers; False if another request did first.

        The conditional UPDATE decides: when one draft is sent twice at once (a double tap),
        the database lets exactly one request change the row, and only that one stores the
        answers, in the same transaction.
        """
        return _rowcount(self.session.execute(_FINISH, {"draft_id": handle.draft_id})) == 1

    def finish_with(self, handle: DraftHandle, table: Table, row: Mapping[str, Any]) -> bool:
        """Mark the draft finished and add `row` (every column of `table`) to `table`, both or
        neither; False, and nothing written, if another request finished the draft first.

        On PostgreSQL this is one statement (the UPDATE in a WITH that the INSERT reads from),
        which holds the two together with no BEGIN and COMMIT to send. SQLite has no such
        statement: there the two run one after the other in the caller's transaction, which
        must hold them together (a respondent's request is one transaction on SQLite).
        """
        if dialect_name(self.session) == "postgresql":
            values = {f"{_ROW}{name}": value for name, value in row.items()}
            result = self.session.execute(
                _finish_and_insert(table), {**values, "draft_id": handle.draft_id}
            )
            return _rowcount(result) == 1
        if not self.finish(handle):
            return False
        self.session.execute(_insert(table), dict(row))
        return True

    def is_finished(self, handle: DraftHandle) -> bool:
        """Whether the handle's draft was finished: its answers were stored."""
        row = self.session.execute(_LOAD, {"draft_id": handle.draft_id}).first()
        return row is not None and row.ciphertext == FINISHED

    def purge_expired(self, moment: datetime | None = None) -> int:
        """Delete every draft expired at `moment` (default: now); how many."""
        return _rowcount(self.session.execute(_PURGE, {"now": moment or now()}))

    def _encrypt(self, handle: DraftHandle, state: DraftState) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + AESGCM(handle.key).encrypt(nonce, state.to_json(), handle.draft_id.encode())

    def _expiry(self) -> datetime:
        return coarse_expiry(now() + self.idle)


_ROW = "row_"


@functools.cache
def _insert(table: Table) -> Executable:
    return insert(table)


@functools.cache
def _finish_and_insert(table: Table) -> Executable:
    finished = _FINISH.returning(_DRAFTS.c.id).cte("finished_draft")
    columns = list(table.c)
    # Named apart from the draft's columns: a parameter named like one (`id`) would be taken
    # as a value the UPDATE sets.
    values = select(*[bindparam(_ROW + column.name, type_=column.type) for column in columns])
    statement = insert(table).from_select(
        [column.name for column in columns], values.select_from(finished)
    )
    # Without it an INSERT's row count reads -1 on PostgreSQL (psycopg).
    return statement.execution_options(preserve_rowcount=True)


def _new_handle(draft_id: str | None = None) -> DraftHandle:
    return DraftHandle(draft_id or secrets.token_hex(16), AESGCM.generate_key(bit_length=256))


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def now() -> datetime:
    """The time drafts expire by (a function, so that tests can move it on)."""
    return datetime.now(UTC)


def expiry_step(moment: datetime) -> int:
    """The number of the EXPIRY_STEP `moment` falls in.

    Every stored expiry is a multiple of the step, later than the moment it was set. So after
    a purge, no draft expires until the next step begins, and another purge in the same step
    would find nothing: a server purges once per step, not once per respondent (and again
    whenever the step number changes, the clock set back included).
    """
    return math.floor(moment.timestamp() / EXPIRY_STEP.total_seconds())


def coarse_expiry(moment: datetime) -> datetime:
    """`moment` rounded up to the next `EXPIRY_STEP`, so the idle time is never cut short."""
    step = EXPIRY_STEP.total_seconds()
    return datetime.fromtimestamp(math.ceil(moment.timestamp() / step) * step, UTC)
