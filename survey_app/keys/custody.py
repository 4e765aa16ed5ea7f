"""Custody of a programme's key ring: create, rotate, rewrap, verify, destroy, reseal, unlock.

Every cryptographic step is `sealing`'s; this module decides which keys, which rows and which
transaction. Each change to a ring is written to the audit log in the same transaction, naming
keys and counts, never a response.

A ring has at most one *current* key (new responses are sealed to it), any number of *retired*
keys (still readable) and *destroyed* keys (the server no longer holds the private half, so the
responses sealed to them are unreadable for good). A private key may instead be kept only in a
passphrase-protected key file off the server; the server then holds the public half alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..db import Database
from ..intake.responses import (
    MalformedPayload,
    current_key,
    decode_payload,
    stored_responses,
    wrapped_keys,
)
from ..messages import N_, DomainError
from ..models import InboxResponse, KeyStatus, Programme, ProgrammeKey, Response, SurveyAssignment
from ..staff import audit
from . import sealing


class CustodyError(DomainError):
    """Base class for every key-ring operation that cannot go ahead."""


class ProgrammeNotFound(CustodyError):
    def __init__(self, slug: str) -> None:
        super().__init__(N_("no programme '%(slug)s'; see `survey-app programmes list`"), slug=slug)


class KeyNotFound(CustodyError):
    def __init__(self, key_id: str, slug: str) -> None:
        super().__init__(
            N_("programme '%(slug)s' has no key '%(key)s'; see `survey-app keys list %(slug)s`"),
            slug=slug,
            key=key_id,
        )


class NoKeyToRotate(CustodyError):
    def __init__(self, slug: str) -> None:
        super().__init__(
            N_(
                "programme '%(slug)s' has no current key to rotate; create one with "
                "`survey-app keys create %(slug)s`"
            ),
            slug=slug,
        )


class KeyNotRetired(CustodyError):
    """Only a retired key may be destroyed."""


class PrivateKeyMissing(CustodyError):
    def __init__(self, slug: str) -> None:
        super().__init__(
            N_(
                "programme '%(slug)s' keeps no private key on the server; supply its key file "
                "(--key-file) to unlock"
            ),
            slug=slug,
        )


class ForeignKeyFile(CustodyError):
    """The key file holds a key that is not in this programme's ring."""


class KeyDestroyed(CustodyError):
    """The key was destroyed; the ring refuses to use it again, even from a key file."""


class KeyFileExists(CustodyError):
    def __init__(self, path: Path) -> None:
        super().__init__(N_("%(path)s already exists; choose another file name"), path=str(path))


def find_programme(session: Session, slug: str) -> Programme:
    programme = session.scalar(select(Programme).where(Programme.slug == slug))
    if programme is None:
        raise ProgrammeNotFound(slug)
    return programme


def ring(session: Session, programme_id: int) -> list[ProgrammeKey]:
    """The programme's keys, oldest first."""
    return list(
        session.scalars(
            select(ProgrammeKey)
            .where(ProgrammeKey.programme_id == programme_id)
            .order_by(ProgrammeKey.created_at, ProgrammeKey.key_id)
        )
    )


def find_key(session: Session, programme: Programme, key_id: str) -> ProgrammeKey:
    key = session.get(ProgrammeKey, key_id.strip().lower())
    if key is None or key.programme_id != programme.id:
        raise KeyNotFound(key_id, programme.slug)
    return key


def _as_wrapped(key: ProgrammeKey) -> sealing.WrappedKey | None:
    if key.wrapped_private_key is None:
        return None
    return sealing.WrappedKey(key.key_id, key.public_key, key.wrapped_private_key)


def response_counts(session: Session, programme_id: int) -> dict[str, int]:
    """How many responses each key of the programme seals."""
    stored = stored_responses()
    query = (
        select(stored.c.key_id, func.count())
        .join(ProgrammeKey, ProgrammeKey.key_id == stored.c.key_id)
        .where(ProgrammeKey.programme_id == programme_id)
        .group_by(stored.c.key_id)
    )
    return {key_id: count for key_id, count in session.execute(query)}


# --- adding keys ---------------------------------------------------------------------------


def add_key(
    session: Session, programme: Programme, wrapped: sealing.WrappedKey, *, keep_private: bool
) -> ProgrammeKey:
    """Make ``wrapped`` the programme's current key; the previous current key is retired."""
    previous = current_key(session, programme.id)
    if previous is not None:
        previous.status = KeyStatus.RETIRED
    row = ProgrammeKey(
        key_id=wrapped.key_id,
        programme_id=programme.id,
        public_key=wrapped.public_raw,
        wrapped_private_key=wrapped.wrapped_private if keep_private else None,
        status=KeyStatus.CURRENT,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return row


def write_new_key_file(path: Path, wrapped: sealing.WrappedKey) -> None:
    """Write a key file readable by its owner only; never overwrite one."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileExists(path) from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(sealing.write_key_file(wrapped))


def _install(
    session: Session,
    programme: Programme,
    passphrase: str,
    key_file: Path | None,
    kdf: sealing.ScryptParams,
) -> ProgrammeKey:
    wrapped = sealing.generate_key(passphrase, kdf=kdf)
    if key_file is not None:
        # The file first: if it cannot be written, the ring is left as it was.
        write_new_key_file(key_file, wrapped)
    return add_key(session, programme, wrapped, keep_private=key_file is None)


def create_key(
    session: Session,
    programme: Programme,
    passphrase: str,
    *,
    actor: str,
    key_file: Path | None = None,
    kdf: sealing.ScryptParams = sealing.DEFAULT_KDF,
) -> ProgrammeKey:
    """A new key pair for the programme, current from now on (any current key is retired)."""
    row = _install(session, programme, passphrase, key_file, kdf)
    where = "an off-server key file" if key_file else "the server, wrapped"
    audit.record(session, actor, "key.create", programme.id, f"key {row.key_id}, kept in {where}")
    return row


@dataclass(frozen=True)
class Rotation:
    new_key_id: str
    retired_key_id: str


def holds_private_key(key: ProgrammeKey) -> bool:
    return key.wrapped_private_key is not None


def rotate(
    session: Session,
    programme: Programme,
    passphrase: str,
    *,
    actor: str,
    key_file: Path | None = None,
    kdf: sealing.ScryptParams = sealing.DEFAULT_KDF,
) -> Rotation:
    """New responses go to a new key pair; the old current key is retired and stays readable.

    When the server holds the current private key, ``passphrase`` must open it, so the whole
    ring stays under one passphrase; the new key is wrapped with the same one.
    """
    previous = current_key(session, programme.id)
    if previous is None:
        raise NoKeyToRotate(programme.slug)
    wrapped_previous = _as_wrapped(previous)
    if wrapped_previous is not None and not sealing.verify_passphrase(wrapped_previous, passphrase):
        raise sealing.WrongPassphrase(
            N_(
                "the passphrase does not open %(slug)s's current key %(key)s; rotation keeps the "
                "ring under the passphrase it already has"
            ),
            slug=programme.slug,
            key=previous.key_id,
        )
    row = _install(session, programme, passphrase, key_file, kdf)
    audit.record(
        session,
        actor,
        "key.rotate",
        programme.id,
        f"key {row.key_id} is current; key {previous.key_id} retired",
    )
    return Rotation(new_key_id=row.key_id, retired_key_id=previous.key_id)


# --- passphrases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PassphraseChange:
    rewrapped: tuple[str, ...]
    # Wrapped keys the old passphrase does not open: left exactly as they were.
    untouched: tuple[str, ...]
    # The key file's new text, when a key file was given; the caller writes it back.
    key_file_text: str | None


def change_passphrase(
    session: Session,
    programme: Programme,
    old_passphrase: str,
    new_passphrase: str,
    *,
    actor: str,
    key_file_text: str | None = None,
    kdf: sealing.ScryptParams = sealing.DEFAULT_KDF,
) -> PassphraseChange:
    """Rewrap every key of the ring (and of the key file, if given) that the old passphrase opens."""
    rewrapped: list[str] = []
    untouched: list[str] = []
    for key in ring(session, programme.id):
        wrapped = _as_wrapped(key)
        if wrapped is None:
            continue
        try:
            renewed = sealing.rewrap(wrapped, old_passphrase, new_passphrase, kdf=kdf)
        except sealing.WrongPassphrase:
            untouched.append(key.key_id)
            continue
        key.wrapped_private_key = renewed.wrapped_private
        rewrapped.append(key.key_id)
    new_file_text = None
    if key_file_text is not None:
        from_file = _key_from_file(session, programme, key_file_text)
        renewed = sealing.rewrap(from_file, old_passphrase, new_passphrase, kdf=kdf)
        new_file_text = sealing.write_key_file(renewed)
        rewrapped.append(f"{renewed.key_id} (key file)")
    if not rewrapped:
        raise sealing.WrongPassphrase(
            N_("the old passphrase opens none of %(slug)s's keys; nothing was changed"),
            slug=programme.slug,
        )
    audit.record(
        session,
        actor,
        "key.passphrase",
        programme.id,
        f"rewrapped {', '.join(rewrapped)}",
    )
    return PassphraseChange(tuple(rewrapped), tuple(untouched), new_file_text)


# --- unlocking -----------------------------------------------------------------------------


def _key_from_file(
    session: Session, programme: Programme, key_file_text: str
) -> sealing.WrappedKey:
    from_file = sealing.read_key_file(key_file_text)
    row = session.get(ProgrammeKey, from_file.key_id)
    if row is None or row.programme_id != programme.id:
        raise ForeignKeyFile(
            N_(
                "the key file holds key %(key)s, which is not one of %(slug)s's keys; check you "
                "picked the right file"
            ),
            key=from_file.key_id,
            slug=programme.slug,
        )
    if row.status is KeyStatus.DESTROYED:
        raise KeyDestroyed(
            N_("key %(key)s was destroyed; its key file should have been deleted too"),
            key=row.key_id,
        )
    return from_file


def unlock_programme(
    session: Session, programme_id: int, passphrase: str, key_file_text: str | None = None
) -> sealing.UnlockedKeys:
    """Every key of the ring the passphrase opens, plus the off-server key file's, if given.

    Use it as a context manager, and close it as soon as the run that needed it ends.
    """
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise ProgrammeNotFound(str(programme_id))
    candidates = wrapped_keys(session, programme_id)
    if key_file_text is not None:
        candidates.append(_key_from_file(session, programme, key_file_text))
    if not candidates:
        raise PrivateKeyMissing(programme.slug)
    return sealing.UnlockedKeys.unlock(candidates, passphrase)


@contextmanager
def refusal_recorded(
    database: Database, programme_id: int, *, actor: str, purpose: str
) -> Iterator[None]:
    """A wrong passphrase given inside the block is written to the audit log, then raised.

    The refusal is recorded in a transaction of its own, as the caller's is rolled back. Every
    front end (web form or command) that takes a passphrase goes through here, so each refusal
    leaves the same row whichever way the passphrase came.
    """
    try:
        yield
    except sealing.WrongPassphrase:
        with database.session() as record:
            audit.record(
                record, actor, "key.unlock.refused", programme_id, f"wrong passphrase for {purpose}"
            )
        raise


def unlock_audited(
    database: Database,
    session: Session,
    programme_id: int,
    passphrase: str,
    key_file_text: str | None,
    *,
    actor: str,
    purpose: str,
) -> sealing.UnlockedKeys:
    """`unlock_programme`, with a wrong passphrase written to the audit log first."""
    with refusal_recorded(database, programme_id, actor=actor, purpose=purpose):
        return unlock_programme(session, programme_id, passphrase, key_file_text)


def keys_not_unlocked(
    session: Session, survey_id: str, keys: sealing.UnlockedKeys
) -> list[tuple[str, str, int]]:
    """(key id, why it is not unlocked, responses of the survey sealed to it), for a report."""
    survey = session.get(SurveyAssignment, survey_id)
    stored = stored_responses()
    query = (
        select(ProgrammeKey, func.count())
        .join(stored, stored.c.key_id == ProgrammeKey.key_id)
        .where(stored.c.survey_id == survey_id, ProgrammeKey.key_id.not_in(keys.key_ids))
        .group_by(ProgrammeKey.key_id)
        .order_by(ProgrammeKey.key_id)
    )
    missing = []
    for key, count in session.execute(query):
        if survey is None or key.programme_id != survey.programme_id:
            why = "a key of another programme"
        elif key.status is KeyStatus.DESTROYED:
            why = "destroyed"
        elif key.wrapped_private_key is None:
            why = "kept off the server: pass its --key-file"
        else:
            why = "not opened by this passphrase"
        missing.append((key.key_id, why, count))
    return missing


def export_public(session: Session, programme: Programme, key_id: str | None = None) -> str:
    """The PEM of the current key (or of ``key_id``), for sealing outside this server."""
    if key_id is None:
        key = current_key(session, programme.id)
        if key is None:
            raise NoKeyToRotate(programme.slug)
    else:
        key = find_key(session, programme, key_id)
    return sealing.public_key_pem(sealing.PublicKey(key.key_id, key.public_key))


# --- verifying -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyCheck:
    key_id: str
    status: KeyStatus
    responses: int
    unlocked: bool
    sampled: int = 0
    opened: int = 0
    # "response id: reason" for each sampled response that did not open.
    failures: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        if self.status is KeyStatus.DESTROYED:
            return True
        return not self.failures and (self.unlocked or self.responses == 0)


def _open_row(
    keys: sealing.UnlockedKeys, response_id: str, survey_id: str, version: str, blob: bytes
) -> bytes:
    binding = sealing.ResponseBinding(response_id, survey_id, version)
    return keys.open(blob, binding)


def verify(
    session: Session, programme: Programme, keys: sealing.UnlockedKeys, *, sample_size: int = 20
) -> list[KeyCheck]:
    """For each key of the ring: open a random sample of the responses sealed to it."""
    counts = response_counts(session, programme.id)
    checks = []
    for key in ring(session, programme.id):
        total = counts.get(key.key_id, 0)
        if key.key_id not in keys.key_ids:
            checks.append(KeyCheck(key.key_id, key.status, total, unlocked=False))
            continue
        stored = stored_responses()
        sample = session.execute(
            select(stored.c.id, stored.c.survey_id, stored.c.survey_version, stored.c.sealed)
            .where(stored.c.key_id == key.key_id)
            .order_by(func.random())
            .limit(sample_size)
        )
        opened = 0
        failures = []
        for response_id, survey_id, version, blob in sample:
            try:
                decode_payload(_open_row(keys, response_id, survey_id, version, blob))
            except (sealing.SealingError, MalformedPayload) as error:
                failures.append(f"{response_id}: {type(error).__name__}: {error}")
                continue
            opened += 1
        checks.append(
            KeyCheck(
                key.key_id,
                key.status,
                total,
                unlocked=True,
                sampled=opened + len(failures),
                opened=opened,
                failures=tuple(failures),
            )
        )
    return checks


def verify_ring(
    database: Database,
    programme: Programme,
    passphrase: str,
    key_file_text: str | None = None,
    *,
    actor: str,
    sample_size: int = 20,
) -> list[KeyCheck]:
    """Unlock the ring (a refusal is audited), `verify` it, and audit the unlock."""
    with database.session() as session:
        unlocking = unlock_audited(
            database,
            session,
            programme.id,
            passphrase,
            key_file_text,
            actor=actor,
            purpose="keys verify",
        )
        with unlocking as keys:
            checks = verify(session, programme, keys, sample_size=sample_size)
        audit.record(session, actor, "key.unlock", programme.id, "keys verify")
    return checks


# --- destroying ----------------------------------------------------------------------------


def destruction_impact(session: Session, programme: Programme, key_id: str) -> dict[str, int]:
    """Survey id -> how many of its responses become unreadable if ``key_id`` is destroyed.

    Raises if the key may not be destroyed at all.
    """
    key = find_key(session, programme, key_id)
    _check_destroyable(key, programme)
    stored = stored_responses()
    query = (
        select(stored.c.survey_id, func.count())
        .where(stored.c.key_id == key.key_id)
        .group_by(stored.c.survey_id)
        .order_by(stored.c.survey_id)
    )
    return {survey_id: count for survey_id, count in session.execute(query)}


def _check_destroyable(key: ProgrammeKey, programme: Programme) -> None:
    if key.status is KeyStatus.CURRENT:
        raise KeyNotRetired(
            N_(
                "key %(key)s is %(slug)s's current key; new responses are sealed to it. Rotate "
                "first (`survey-app keys rotate %(slug)s`)"
            ),
            key=key.key_id,
            slug=programme.slug,
        )
    if key.status is KeyStatus.DESTROYED:
        raise KeyNotRetired(N_("key %(key)s is already destroyed"), key=key.key_id)


@dataclass(frozen=True)
class Destruction:
    key_id: str
    unreadable: dict[str, int]
    was_off_server: bool


def describe_impact(unreadable: dict[str, int]) -> str:
    """How many responses of which surveys a destroyed key leaves unreadable, in words."""
    if not unreadable:
        return "no responses were sealed to it"
    total = sum(unreadable.values())
    parts = ", ".join(f"{survey_id}: {count}" for survey_id, count in unreadable.items())
    return f"{total} response{'s' if total != 1 else ''} ({parts}) can no longer be opened"


def destroy(session: Session, programme: Programme, key_id: str, *, actor: str) -> Destruction:
    """Drop a retired key's private half for good; what was sealed to it cannot be opened again."""
    unreadable = destruction_impact(session, programme, key_id)
    key = find_key(session, programme, key_id)
    was_off_server = key.wrapped_private_key is None
    key.wrapped_private_key = None
    key.status = KeyStatus.DESTROYED
    audit.record(
        session,
        actor,
        "key.destroy",
        programme.id,
        f"key {key.key_id} destroyed; {describe_impact(unreadable)}",
    )
    return Destruction(key.key_id, unreadable, was_off_server)


# --- resealing -----------------------------------------------------------------------------


@dataclass
class ResealProgress:
    target_key_id: str
    moved: int = 0
    batches: int = 0
    # "response id: reason" for each response that did not open; it is left as it was.
    unreadable: list[str] = field(default_factory=list)
    # Keys still sealing responses that could not be moved because they are not unlocked.
    left_on: dict[str, int] = field(default_factory=dict)


def reseal(
    database: Database,
    programme_id: int,
    keys: sealing.UnlockedKeys,
    *,
    actor: str,
    batch_size: int = 500,
    after_batch: Callable[[ResealProgress], None] | None = None,
) -> ResealProgress:
    """Move responses sealed to the programme's older keys onto its current key.

    Each batch is opened, sealed afresh (new ephemeral key and nonce, same row binding) and
    written in one transaction, so stopping at any moment leaves every row sealed either to
    its old key or to the current one, and a later run picks up where this one stopped.
    """
    with database.session() as session:
        programme = session.get(Programme, programme_id)
        if programme is None:
            raise ProgrammeNotFound(str(programme_id))
        target = current_key(session, programme_id)
        if target is None:
            raise NoKeyToRotate(programme.slug)
        target_public = sealing.PublicKey(target.key_id, target.public_key)
        sources = sorted(keys.key_ids - {target.key_id})
        audit.record(
            session,
            actor,
            "key.reseal.start",
            programme_id,
            f"moving responses from keys {', '.join(sources) or '(none)'} to key {target.key_id}",
        )
    progress = ResealProgress(target.key_id)
    # Released rows and rows still in the inbox alike; each batch goes in id order, so the
    # transactions of a reseal say nothing about when a response arrived.
    for table in (Response, InboxResponse):
        last_id = ""
        while sources:
            with database.session() as session:
                rows = session.execute(
                    select(table.id, table.survey_id, table.survey_version, table.sealed)
                    .join(SurveyAssignment, SurveyAssignment.id == table.survey_id)
                    .where(
                        SurveyAssignment.programme_id == programme_id,
                        table.key_id.in_(sources),
                        table.id > last_id,
                    )
                    .order_by(table.id)
                    .limit(batch_size)
                    .with_for_update(of=table)
                ).all()
                if not rows:
                    break
                changes = _reseal_batch(rows, keys, target_public, progress)
                if changes:
                    session.execute(update(table), changes)
                last_id = rows[-1].id
            progress.moved += len(changes)
            progress.batches += 1
            if after_batch is not None:
                after_batch(progress)
    with database.session() as session:
        counts = response_counts(session, programme_id)
        progress.left_on = {
            key_id: count for key_id, count in counts.items() if key_id != target.key_id and count
        }
        audit.record(
            session,
            actor,
            "key.reseal.finish",
            programme_id,
            f"{progress.moved} responses moved to key {target.key_id}; "
            f"{len(progress.unreadable)} could not be opened",
        )
    return progress


def _reseal_batch(
    rows: Iterable[tuple[str, str, str, bytes]],
    keys: sealing.UnlockedKeys,
    target: sealing.PublicKey,
    progress: ResealProgress,
) -> list[dict[str, object]]:
    changes: list[dict[str, object]] = []
    can_check = target.key_id in keys.key_ids
    for response_id, survey_id, version, blob in rows:
        binding = sealing.ResponseBinding(response_id, survey_id, version)
        try:
            payload = keys.open(blob, binding)
        except sealing.SealingError as error:
            progress.unreadable.append(f"{response_id}: {type(error).__name__}: {error}")
            continue
        fresh = sealing.seal(target, binding, payload)
        if can_check and keys.open(fresh, binding) != payload:
            raise sealing.SealingError(f"response {response_id} did not reseal faithfully")
        changes.append({"id": response_id, "sealed": fresh, "key_id": target.key_id})
    return changes
