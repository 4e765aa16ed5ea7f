"""`survey-app keys ...` end to end, as an operator at a terminal or in a script uses it."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask import Flask
from sqlalchemy import select, update

from survey_app.config import Settings
from survey_app.models import AuditEvent, KeyStatus, ProgrammeKey
from survey_app.state import app_state
from tests.support.apps import PASSPHRASE, Deployment
from tests.support.cli import run
from tests.support.custody import (
    passphrase_file,
    replace_sealed,
    sealed_rows,
    snapshot,
    store,
)

NEW_PASSPHRASE = "a brand new passphrase"
KEY_ID = re.compile(r"key ([0-9a-f]{16}) is now")


def key_statuses(app: Flask) -> dict[str, KeyStatus]:
    with app_state(app).database.session() as session:
        return {key.key_id: key.status for key in session.scalars(select(ProgrammeKey))}


def rotate(settings: Settings, tmp_path: Path, *extra: str) -> str:
    result = run(
        settings,
        "keys",
        "rotate",
        "shelter",
        "--passphrase-file",
        str(passphrase_file(tmp_path)),
        *extra,
    )
    assert result.exit_code == 0, result.output
    match = KEY_ID.search(result.output)
    assert match, result.output
    return match.group(1)


def test_rotate_then_list(
    app: Flask, deployment: Deployment, settings: Settings, tmp_path: Path
) -> None:
    store(app, 2)
    new_key = rotate(settings, tmp_path)
    assert key_statuses(app) == {
        deployment.key_id: KeyStatus.RETIRED,
        new_key: KeyStatus.CURRENT,
    }
    listing = run(settings, "keys", "list", "shelter").output
    assert f"{deployment.key_id}\tretired\tserver (wrapped)\t2 responses" in listing
    assert f"{new_key}\tcurrent\tserver (wrapped)\t0 responses" in listing


def test_rotate_prompts_for_the_rings_passphrase(
    app: Flask, deployment: Deployment, settings: Settings
) -> None:
    result = run(settings, "keys", "rotate", "shelter", input=PASSPHRASE + "\n")
    assert result.exit_code == 0, result.output
    assert "Passphrase of shelter's keys" in result.output
    assert PASSPHRASE not in result.output


def test_wrong_passphrase_is_refused_audited_and_nothing_else_changes(
    app: Flask, deployment: Deployment, settings: Settings, tmp_path: Path
) -> None:
    store(app, 2)
    database = app_state(app).database
    wrong = passphrase_file(tmp_path, "not the passphrase at all", "wrong")
    before = snapshot(database)
    for command, purpose in (
        (["keys", "rotate", "shelter"], "keys rotate"),
        (["keys", "verify", "shelter"], "keys verify"),
        (["keys", "reseal", "shelter"], "keys reseal"),
        (
            ["keys", "change-passphrase", "shelter", "--new-passphrase-file", str(wrong)],
            "keys change-passphrase",
        ),
        (["report", "minimal"], "answer counts of minimal"),
    ):
        result = run(settings, *command, "--passphrase-file", str(wrong))
        assert result.exit_code == 1, (command, result.output)
        assert re.search(r"passphrase (does not open|opens none)", result.output), result.output
        assert "Traceback" not in result.output
        after = snapshot(database)
        unaudited = {table: rows for table, rows in after.items() if table != "audit_events"}
        assert unaudited == {t: r for t, r in before.items() if t != "audit_events"}, command
        assert len(after["audit_events"]) == len(before["audit_events"]) + 1, command
        with database.session() as session:
            newest = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
            assert newest is not None and newest.action == "key.unlock.refused", command
            assert newest.detail == f"wrong passphrase for {purpose}"
            assert newest.programme_id == deployment.programme_id
        before = after


def test_unknown_programme_and_key_id_are_clear_errors(
    app: Flask, deployment: Deployment, settings: Settings
) -> None:
    database = app_state(app).database
    before = snapshot(database)
    cases = [
        (["keys", "rotate", "nowhere"], "no programme 'nowhere'"),
        (["keys", "export-public", "shelter", "--key-id", "0123456789abcdef"], "no key"),
        (["keys", "destroy", "0123456789abcdef", "--yes"], "there is no key"),
    ]
    for command, message in cases:
        result = run(settings, *command, input=PASSPHRASE + "\n")
        assert result.exit_code == 1 and message in result.output, (command, result.output)
    assert snapshot(database) == before


def test_change_passphrase_from_files(
    app: Flask, deployment: Deployment, settings: Settings, tmp_path: Path
) -> None:
    store(app, 1)
    new_file = passphrase_file(tmp_path, NEW_PASSPHRASE, "new")
    result = run(
        settings,
        "keys",
        "change-passphrase",
        "shelter",
        "--passphrase-file",
        str(passphrase_file(tmp_path)),
        "--new-passphrase-file",
        str(new_file),
    )
    assert result.exit_code == 0, result.output
    assert deployment.key_id in result.output
    assert run(settings, "report", "minimal", input=PASSPHRASE + "\n").exit_code == 1
    report = run(settings, "report", "minimal", "--passphrase-file", str(new_file))
    assert report.exit_code == 0 and "minimal: 1 responses" in report.output


def test_change_passphrase_prompts_twice_for_the_new_one(
    app: Flask, deployment: Deployment, settings: Settings
) -> None:
    typed = f"{PASSPHRASE}\n{NEW_PASSPHRASE}\n{NEW_PASSPHRASE}\n"
    result = run(settings, "keys", "change-passphrase", "shelter", input=typed)
    assert result.exit_code == 0, result.output
    assert "Repeat the passphrase" in result.output


def test_export_public_to_stdout_and_file(
    app: Flask, deployment: Deployment, settings: Settings, tmp_path: Path
) -> None:
    result = run(settings, "keys", "export-public", "shelter")
    assert result.exit_code == 0
    with app_state(app).database.session() as session:
        raw = session.get(ProgrammeKey, deployment.key_id).public_key  # type: ignore[union-attr]
    assert load_pem_public_key(result.output.encode()).public_bytes_raw() == raw  # type: ignore[union-attr]
    target = tmp_path / "shelter.pem"
    result = run(settings, "keys", "export-public", "shelter", "--output", str(target))
    assert result.exit_code == 0
    assert target.read_text() == run(settings, "keys", "export-public", "shelter").output


def test_verify_reports_each_key_and_fails_on_a_bad_response(
    app: Flask, deployment: Deployment, settings: Settings, tmp_path: Path
) -> None:
    store(app, 3)
    secret = str(passphrase_file(tmp_path))
    result = run(settings, "keys", "verify", "shelter", "--passphrase-file", secret)
    assert result.exit_code == 0, result.output
    assert f"{deployment.key_id}\tcurrent\t3 responses\tsampled 3: 3 ok, 0 failed" in result.output
    victim, (_key, blob) = next(iter(sealed_rows(app_state(app).database).items()))
    altered = blob[:-1] + bytes([blob[-1] ^ 1])
    replace_sealed(app_state(app).database, victim, altered)
    result = run(settings, "keys", "verify", "shelter", "--passphrase-file", secret)
    assert result.exit_code == 1
    assert "sampled 3: 2 ok, 1 failed" in result.output
    assert f"{victim}: TamperedResponse" in result.output


def test_destroy_asks_naming_what_becomes_unreadable(
    app: Flask, deployment: Deployment, settings: Settings, tmp_path: Path
) -> None:
    store(app, 3)
    rotate(settings, tmp_path)
    database = app_state(app).database
    before = snapshot(database)
    result = run(settings, "keys", "destroy", deployment.key_id, input="n\n")
    assert result.exit_code == 1
    assert (
        f"Destroying key {deployment.key_id} of programme shelter makes "
        "3 responses (minimal: 3) unreadable forever" in result.output
    )
    assert "keys reseal shelter" in result.output
    assert snapshot(database) == before

    result = run(settings, "keys", "destroy", deployment.key_id, input="y\n")
    assert result.exit_code == 0, result.output
    assert key_statuses(app)[deployment.key_id] is KeyStatus.DESTROYED
    assert "Backups made before now still hold the key" in result.output
    listing = run(settings, "keys", "list", "shelter").output
    assert f"{deployment.key_id}\tdestroyed\tdestroyed\t3 responses" in listing


def test_destroy_refuses_the_current_key(
    app: Flask, deployment: Deployment, settings: Settings
) -> None:
    result = run(settings, "keys", "destroy", deployment.key_id, "--yes")
    assert result.exit_code == 1 and "current key" in result.output
    assert key_statuses(app)[deployment.key_id] is KeyStatus.CURRENT


def test_reseal_then_destroy_loses_nothing(
    app: Flask, deployment: Deployment, settings: Settings, tmp_path: Path
) -> None:
    store(app, 5)
    new_key = rotate(settings, tmp_path)
    secret = str(passphrase_file(tmp_path))
    result = run(
        settings, "keys", "reseal", "shelter", "--passphrase-file", secret, "--batch-size", "2"
    )
    assert result.exit_code == 0, result.output
    assert f"5 responses moved to key {new_key}" in result.output
    result = run(settings, "keys", "destroy", deployment.key_id, "--yes")
    assert result.exit_code == 0 and "no responses were sealed to it" in result.output
    report = run(settings, "report", "minimal", "--passphrase-file", secret)
    assert report.exit_code == 0 and "minimal: 5 responses" in report.output
    assert "could not be opened" not in report.output


def test_off_server_key_file_for_report_verify_and_reseal(
    app: Flask, deployment: Deployment, settings: Settings, tmp_path: Path
) -> None:
    store(app, 2)
    key_file = tmp_path / "offline.key"
    new_key = rotate(settings, tmp_path, "--key-file", str(key_file))
    store(app, 2)
    secret = str(passphrase_file(tmp_path))
    listing = run(settings, "keys", "list", "shelter").output
    assert f"{new_key}\tcurrent\toff-server key file" in listing

    # Without the file, the two newest responses are listed as unreadable, and why.
    report = run(settings, "report", "minimal", "--passphrase-file", secret)
    assert report.exit_code == 0, report.output
    assert "minimal: 2 responses" in report.output
    assert f"2 sealed to key {new_key} (kept off the server: pass its --key-file)" in report.output
    with_file = ["--passphrase-file", secret, "--key-file", str(key_file)]
    report = run(settings, "report", "minimal", *with_file)
    assert "minimal: 4 responses" in report.output

    result = run(settings, "keys", "verify", "shelter", *with_file)
    assert result.exit_code == 0, result.output
    assert f"{new_key}\tcurrent\t2 responses\tsampled 2: 2 ok" in result.output
    result = run(settings, "keys", "reseal", "shelter", *with_file)
    assert result.exit_code == 0 and "2 responses moved" in result.output
    assert {key for key, _ in sealed_rows(app_state(app).database).values()} == {new_key}


def test_programme_with_its_key_off_the_server_needs_the_file(
    app: Flask, deployment: Deployment, settings: Settings, tmp_path: Path
) -> None:
    with app_state(app).database.session() as session:
        session.execute(update(ProgrammeKey).values(wrapped_private_key=None))
    result = run(settings, "report", "minimal", input=PASSPHRASE + "\n")
    assert result.exit_code == 1
    assert "keeps no private key on the server" in result.output and "--key-file" in result.output
    missing = tmp_path / "missing.key"
    result = run(settings, "report", "minimal", "--key-file", str(missing))
    assert result.exit_code == 2 and "does not exist" in result.output


def test_change_passphrase_rewraps_the_key_file_in_place(
    app: Flask, deployment: Deployment, settings: Settings, tmp_path: Path
) -> None:
    key_file = tmp_path / "offline.key"
    rotate(settings, tmp_path, "--key-file", str(key_file))
    new_file = passphrase_file(tmp_path, NEW_PASSPHRASE, "new")
    result = run(
        settings,
        "keys",
        "change-passphrase",
        "shelter",
        "--key-file",
        str(key_file),
        "--passphrase-file",
        str(passphrase_file(tmp_path)),
        "--new-passphrase-file",
        str(new_file),
    )
    assert result.exit_code == 0, result.output
    assert "(key file)" in result.output
    assert key_file.stat().st_mode & 0o777 == 0o600
    result = run(
        settings,
        "keys",
        "verify",
        "shelter",
        "--key-file",
        str(key_file),
        "--passphrase-file",
        str(new_file),
    )
    assert result.exit_code == 0, result.output
    assert "NOT UNLOCKED" not in result.output


def test_create_with_a_key_file_keeps_the_private_key_off_the_server(
    app: Flask, settings: Settings, tmp_path: Path
) -> None:
    assert run(settings, "programmes", "create", "outreach", "--name", "Outreach").exit_code == 0
    key_file = tmp_path / "outreach.key"
    secret = str(passphrase_file(tmp_path))
    result = run(
        settings,
        "keys",
        "create",
        "outreach",
        "--key-file",
        str(key_file),
        "--passphrase-file",
        secret,
    )
    assert result.exit_code == 0, result.output
    assert f"in {key_file} only" in result.output
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with app_state(app).database.session() as session:
        (key,) = session.scalars(select(ProgrammeKey)).all()
        assert key.wrapped_private_key is None and key.key_id in key_file.read_text()
    again = run(settings, "keys", "create", "outreach", "--key-file", str(key_file))
    assert again.exit_code == 1 and "already exists" in again.output

    # Rotating a key the server cannot check asks for the new key's passphrase twice.
    new_file = tmp_path / "outreach-2.key"
    typed = f"{NEW_PASSPHRASE}\n{NEW_PASSPHRASE}\n"
    result = run(settings, "keys", "rotate", "outreach", "--key-file", str(new_file), input=typed)
    assert result.exit_code == 0, result.output
    assert "Repeat the passphrase" in result.output and new_file.exists()


def test_unlocks_and_key_changes_are_audited(
    app: Flask, deployment: Deployment, settings: Settings, tmp_path: Path
) -> None:
    store(app, 1)
    secret = str(passphrase_file(tmp_path))
    new_key = rotate(settings, tmp_path)
    assert run(settings, "keys", "verify", "shelter", "--passphrase-file", secret).exit_code == 0
    assert run(settings, "report", "minimal", "--passphrase-file", secret).exit_code == 0
    with app_state(app).database.session() as session:
        events = session.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.detail).order_by(AuditEvent.id)
        ).all()
    assert [action for _actor, action, _detail in events] == [
        "key.rotate",
        "key.unlock",
        "key.unlock",
    ]
    assert all(actor.startswith("cli:") for actor, _action, _detail in events)
    assert new_key in events[0][2]
    assert events[2][2] == "report on minimal: 1 opened, 0 not"
