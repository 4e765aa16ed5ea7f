"""Key custody: a programme's ring changes without ever losing a readable response."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from survey_app.db import Database
from survey_app.keys import custody, sealing
from survey_app.models import AuditEvent, KeyStatus, Programme, ProgrammeKey
from survey_app.operations.erasure import flush_deleted
from survey_app.state import app_state
from tests.support.apps import FAST_KDF, PASSPHRASE, Deployment
from tests.support.custody import open_all, replace_sealed, sealed_rows, snapshot, store

OTHER_PASSPHRASE = "a different passphrase entirely"
ACTOR = "cli:tester"


def database_of(app: Flask) -> Database:
    return app_state(app).database


def programme_of(app: Flask, deployment: Deployment) -> Programme:
    with database_of(app).session() as session:
        programme = session.get(Programme, deployment.programme_id)
        assert programme is not None
        return programme


def rotate(app: Flask, deployment: Deployment, key_file: Path | None = None) -> custody.Rotation:
    with database_of(app).session() as session:
        programme = custody.find_programme(session, "shelter")
        return custody.rotate(
            session, programme, PASSPHRASE, actor=ACTOR, kdf=FAST_KDF, key_file=key_file
        )


def unlock(app: Flask, deployment: Deployment, secret: str = PASSPHRASE) -> sealing.UnlockedKeys:
    with database_of(app).session() as session:
        return custody.unlock_programme(session, deployment.programme_id, secret)


def statuses(app: Flask) -> dict[str, KeyStatus]:
    with database_of(app).session() as session:
        return {key.key_id: key.status for key in session.scalars(select(ProgrammeKey))}


def audit_actions(app: Flask) -> list[str]:
    with database_of(app).session() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# --- rotation ------------------------------------------------------------------------------


def test_rotation_sends_new_responses_to_the_new_key_and_keeps_old_ones_readable(
    app: Flask, deployment: Deployment
) -> None:
    store(app, 3)
    rotation = rotate(app, deployment)
    store(app, 2)
    assert rotation.retired_key_id == deployment.key_id
    assert statuses(app) == {
        deployment.key_id: KeyStatus.RETIRED,
        rotation.new_key_id: KeyStatus.CURRENT,
    }
    by_key = [key_id for key_id, _blob in sealed_rows(database_of(app)).values()]
    assert sorted(by_key).count(rotation.new_key_id) == 2
    with unlock(app, deployment) as keys:
        assert keys.key_ids == {deployment.key_id, rotation.new_key_id}
        assert len(open_all(database_of(app), keys)) == 5
    assert audit_actions(app) == ["key.rotate"]


def test_rotation_needs_the_rings_passphrase(app: Flask, deployment: Deployment) -> None:
    before = snapshot(database_of(app))
    with database_of(app).session() as session, pytest.raises(sealing.WrongPassphrase):
        programme = custody.find_programme(session, "shelter")
        custody.rotate(session, programme, OTHER_PASSPHRASE, actor=ACTOR, kdf=FAST_KDF)
    assert snapshot(database_of(app)) == before


def test_rotating_to_an_off_server_key_file(
    app: Flask, deployment: Deployment, tmp_path: Path
) -> None:
    key_file = tmp_path / "shelter.key"
    rotation = rotate(app, deployment, key_file=key_file)
    assert key_file.stat().st_mode & 0o777 == 0o600
    store(app, 1)
    with database_of(app).session() as session:
        new_key = session.get(ProgrammeKey, rotation.new_key_id)
        assert new_key is not None and new_key.wrapped_private_key is None
    # The passphrase alone opens only the old key; with the file, everything opens.
    with unlock(app, deployment) as keys:
        assert keys.key_ids == {deployment.key_id}
    with (
        database_of(app).session() as session,
        custody.unlock_programme(
            session, deployment.programme_id, PASSPHRASE, key_file.read_text()
        ) as keys,
    ):
        assert len(open_all(database_of(app), keys)) == 1


def test_existing_key_file_is_never_overwritten(
    app: Flask, deployment: Deployment, tmp_path: Path
) -> None:
    key_file = tmp_path / "taken.key"
    key_file.write_text("precious")
    before = snapshot(database_of(app))
    with pytest.raises(custody.KeyFileExists):
        rotate(app, deployment, key_file=key_file)
    assert key_file.read_text() == "precious"
    assert snapshot(database_of(app)) == before


# --- passphrases and unlocking -------------------------------------------------------------


def test_change_passphrase_rewraps_the_keys_the_old_one_opens(
    app: Flask, deployment: Deployment
) -> None:
    store(app, 2)
    rotation = rotate(app, deployment)
    # A key under some other passphrase is left exactly as it is.
    stray = sealing.generate_key(OTHER_PASSPHRASE, kdf=FAST_KDF)
    with database_of(app).session() as session:
        session.add(
            ProgrammeKey(
                key_id=stray.key_id,
                programme_id=deployment.programme_id,
                public_key=stray.public_raw,
                wrapped_private_key=stray.wrapped_private,
                status=KeyStatus.RETIRED,
                created_at=datetime.now(UTC),
            )
        )
    new_secret = "the new passphrase for the ring"
    with database_of(app).session() as session:
        programme = custody.find_programme(session, "shelter")
        change = custody.change_passphrase(
            session, programme, PASSPHRASE, new_secret, actor=ACTOR, kdf=FAST_KDF
        )
    assert sorted(change.rewrapped) == sorted([deployment.key_id, rotation.new_key_id])
    assert change.untouched == (stray.key_id,)
    with database_of(app).session() as session:
        stored = session.get(ProgrammeKey, stray.key_id)
        assert stored is not None and stored.wrapped_private_key == stray.wrapped_private
    with pytest.raises(sealing.WrongPassphrase):
        unlock(app, deployment, PASSPHRASE)
    with unlock(app, deployment, new_secret) as keys:
        assert len(open_all(database_of(app), keys)) == 2


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        (OTHER_PASSPHRASE + "!", "the new passphrase for the ring", sealing.WrongPassphrase),
        (PASSPHRASE, "short", sealing.WeakPassphrase),
    ],
)
def test_failed_passphrase_change_changes_nothing(
    app: Flask, deployment: Deployment, old: str, new: str, error: type[Exception]
) -> None:
    before = snapshot(database_of(app))
    with database_of(app).session() as session, pytest.raises(error):
        programme = custody.find_programme(session, "shelter")
        custody.change_passphrase(session, programme, old, new, actor=ACTOR, kdf=FAST_KDF)
    assert snapshot(database_of(app)) == before


def test_unlocking_a_programme_that_keeps_its_key_off_the_server(
    app: Flask, deployment: Deployment, tmp_path: Path
) -> None:
    wrapped = sealing.generate_key(PASSPHRASE, kdf=FAST_KDF)
    with database_of(app).session() as session:
        programme = Programme(slug="offline", name="Offline", retention_days=30, help_contacts={})
        session.add(programme)
        session.flush()
        custody.add_key(session, programme, wrapped, keep_private=False)
        offline_id = programme.id
    with database_of(app).session() as session:
        with pytest.raises(custody.PrivateKeyMissing, match="--key-file"):
            custody.unlock_programme(session, offline_id, PASSPHRASE)
        key_file = sealing.write_key_file(wrapped)
        with custody.unlock_programme(session, offline_id, PASSPHRASE, key_file) as keys:
            assert keys.key_ids == {wrapped.key_id}
        # The shelter's key file does not unlock another programme, and vice versa.
        with pytest.raises(custody.ForeignKeyFile):
            custody.unlock_programme(session, deployment.programme_id, PASSPHRASE, key_file)


def test_unknown_programme_and_key_are_named(app: Flask, deployment: Deployment) -> None:
    with database_of(app).session() as session:
        with pytest.raises(custody.ProgrammeNotFound, match="no programme 'nowhere'"):
            custody.find_programme(session, "nowhere")
        programme = custody.find_programme(session, "shelter")
        with pytest.raises(custody.KeyNotFound, match="no key 'feedfeedfeedfeed'"):
            custody.export_public(session, programme, "feedfeedfeedfeed")


def test_export_public_is_the_current_keys_pem(app: Flask, deployment: Deployment) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    with database_of(app).session() as session:
        programme = custody.find_programme(session, "shelter")
        pem = custody.export_public(session, programme)
        key = session.get(ProgrammeKey, deployment.key_id)
        assert key is not None
    loaded = load_pem_public_key(pem.encode())
    assert loaded.public_bytes_raw() == key.public_key  # type: ignore[union-attr]


# --- verifying -----------------------------------------------------------------------------


def test_verify_samples_each_key_and_counts_failures(app: Flask, deployment: Deployment) -> None:
    store(app, 4)
    rotation = rotate(app, deployment)
    store(app, 3)
    database = database_of(app)
    victim = next(r for r, (k, _b) in sealed_rows(database).items() if k == deployment.key_id)
    blob = sealed_rows(database)[victim][1]
    replace_sealed(database, victim, blob[:-1] + b"\x00")
    with database.session() as session, unlock(app, deployment) as keys:
        programme = custody.find_programme(session, "shelter")
        checks = {c.key_id: c for c in custody.verify(session, programme, keys, sample_size=50)}
    old, new = checks[deployment.key_id], checks[rotation.new_key_id]
    assert (old.responses, old.sampled, old.opened, len(old.failures)) == (4, 4, 3, 1)
    assert victim in old.failures[0] and "TamperedResponse" in old.failures[0]
    assert not old.healthy
    assert (new.responses, new.sampled, new.opened, new.healthy) == (3, 3, 3, True)


def test_verify_takes_a_sample_only(app: Flask, deployment: Deployment) -> None:
    store(app, 6)
    with database_of(app).session() as session, unlock(app, deployment) as keys:
        programme = custody.find_programme(session, "shelter")
        (check,) = custody.verify(session, programme, keys, sample_size=2)
    assert (check.responses, check.sampled, check.opened) == (6, 2, 2)


# --- destroying ----------------------------------------------------------------------------


def test_only_a_retired_key_can_be_destroyed(app: Flask, deployment: Deployment) -> None:
    with (
        database_of(app).session() as session,
        pytest.raises(custody.KeyNotRetired, match="rotate"),
    ):
        programme = custody.find_programme(session, "shelter")
        custody.destroy(session, programme, deployment.key_id, actor=ACTOR)


def test_destroying_a_key_makes_its_responses_unreadable_for_good(
    app: Flask, deployment: Deployment
) -> None:
    database = database_of(app)
    store(app, 3)
    with database.session() as session:
        old_wrapped = session.get(ProgrammeKey, deployment.key_id).wrapped_private_key  # type: ignore[union-attr]
    assert old_wrapped is not None
    rotation = rotate(app, deployment)
    store(app, 1)
    with database.session() as session:
        programme = custody.find_programme(session, "shelter")
        assert custody.destruction_impact(session, programme, deployment.key_id) == {"minimal": 3}
        destruction = custody.destroy(session, programme, deployment.key_id, actor=ACTOR)
    flush_deleted(database, "programme_keys", rewrite=True)
    assert destruction.unreadable == {"minimal": 3}
    with database.session() as session:
        key = session.get(ProgrammeKey, deployment.key_id)
        assert key is not None and key.status is KeyStatus.DESTROYED
        assert key.wrapped_private_key is None
        detail = session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "key.destroy"))
        assert (
            detail
            == f"key {deployment.key_id} destroyed; 3 responses (minimal: 3) can no longer be opened"
        )
    with unlock(app, deployment) as keys:
        assert keys.key_ids == {rotation.new_key_id}
        with pytest.raises(sealing.UnknownKeyId):
            open_all(database, keys)
    if database.is_sqlite:
        # Not even the wrapped form is left in the database files.
        path = Path(database.engine.url.database or "")
        for name in (path, Path(f"{path}-wal")):
            if name.exists():
                assert old_wrapped not in name.read_bytes()
    with database.session() as session, pytest.raises(custody.KeyNotRetired, match="already"):
        custody.destroy(
            session, custody.find_programme(session, "shelter"), deployment.key_id, actor=ACTOR
        )


# --- resealing -----------------------------------------------------------------------------


def test_reseal_moves_every_response_to_the_current_key(app: Flask, deployment: Deployment) -> None:
    database = database_of(app)
    store(app, 7)
    before = sealed_rows(database)
    with unlock(app, deployment) as keys:
        original = open_all(database, keys)
    rotation = rotate(app, deployment)
    with unlock(app, deployment) as keys:
        progress = custody.reseal(
            database, deployment.programme_id, keys, actor=ACTOR, batch_size=3
        )
        assert (progress.moved, progress.batches, progress.unreadable) == (7, 3, [])
        assert progress.left_on == {}
        after = sealed_rows(database)
        assert after.keys() == before.keys()
        for response_id, (key_id, blob) in after.items():
            assert key_id == rotation.new_key_id
            assert sealing.envelope_key_id(blob) == rotation.new_key_id
            assert blob[9:53] != before[response_id][1][9:53]  # fresh ephemeral key and nonce
        assert open_all(database, keys) == original
    assert audit_actions(app)[-2:] == ["key.reseal.start", "key.reseal.finish"]


class Interrupted(Exception):
    pass


def interrupt_sealing_after(monkeypatch: pytest.MonkeyPatch, calls: int) -> None:
    real_seal = sealing.seal
    count = [0]

    def failing_seal(*args: object) -> bytes:
        count[0] += 1
        if count[0] > calls:
            raise Interrupted("power cut")
        return real_seal(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(sealing, "seal", failing_seal)


@pytest.mark.parametrize("where", ["mid-batch", "between batches"])
def test_interrupted_reseal_leaves_every_row_readable_and_can_resume(
    app: Flask, deployment: Deployment, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    database = database_of(app)
    store(app, 10)
    with unlock(app, deployment) as keys:
        original = open_all(database, keys)
    rotation = rotate(app, deployment)

    def stop_after_first_batch(progress: custody.ResealProgress) -> None:
        raise Interrupted("Ctrl-C")

    with unlock(app, deployment) as keys:
        if where == "mid-batch":
            interrupt_sealing_after(monkeypatch, 6)  # batch 1 commits, batch 2 dies half way
            after_batch = None
        else:
            after_batch = stop_after_first_batch
        with pytest.raises(Interrupted):
            custody.reseal(
                database,
                deployment.programme_id,
                keys,
                actor=ACTOR,
                batch_size=4,
                after_batch=after_batch,
            )
        monkeypatch.undo()
        on_keys = [key_id for key_id, _ in sealed_rows(database).values()]
        assert on_keys.count(rotation.new_key_id) == 4  # exactly the committed batch
        assert on_keys.count(deployment.key_id) == 6
        assert open_all(database, keys) == original  # every row opens, by one key or the other

        progress = custody.reseal(database, deployment.programme_id, keys, actor=ACTOR)
        assert progress.moved == 6
        assert {k for k, _ in sealed_rows(database).values()} == {rotation.new_key_id}
        assert open_all(database, keys) == original


def test_reseal_leaves_rows_it_cannot_open_and_reports_them(
    app: Flask, deployment: Deployment
) -> None:
    database = database_of(app)
    store(app, 3)
    victim = sorted(sealed_rows(database))[1]
    blob = sealed_rows(database)[victim][1]
    replace_sealed(database, victim, blob[:60] + b"!" + blob[61:])
    rotate(app, deployment)
    with unlock(app, deployment) as keys:
        progress = custody.reseal(database, deployment.programme_id, keys, actor=ACTOR)
    assert progress.moved == 2
    assert len(progress.unreadable) == 1 and progress.unreadable[0].startswith(victim)
    assert progress.left_on == {deployment.key_id: 1}
    assert sealed_rows(database)[victim] == (deployment.key_id, blob[:60] + b"!" + blob[61:])
