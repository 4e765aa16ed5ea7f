"""A report counts and lists every response it cannot open, says why, and carries on."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from survey_app.config import Settings
from survey_app.intake.responses import stored_responses
from survey_app.keys import custody, sealing
from survey_app.models import Programme, Response
from survey_app.state import app_state
from tests.support.apps import FAST_KDF, PASSPHRASE, Deployment
from tests.support.cli import run
from tests.support.custody import passphrase_file, replace_sealed, sealed_rows, store


def set_blob(app: Flask, response_id: str, blob: bytes) -> None:
    replace_sealed(app_state(app).database, response_id, blob)


def add_response_sealed_to_another_programmes_key(app: Flask) -> str:
    database = app_state(app).database
    foreign = sealing.generate_key(PASSPHRASE, kdf=FAST_KDF)
    response_id = secrets.token_hex(16)
    with database.session() as session:
        other = Programme(slug="elsewhere", name="Elsewhere", retention_days=30, help_contacts={})
        session.add(other)
        session.flush()
        custody.add_key(session, other, foreign, keep_private=True)
        version = session.scalar(select(stored_responses().c.survey_version).limit(1))
        assert version is not None
        blob = sealing.seal(
            foreign.public,
            sealing.ResponseBinding(response_id, "minimal", version),
            b'{"answers":{},"format":1,"meta":{}}',
        )
        session.add(
            Response(
                id=response_id,
                survey_id="minimal",
                survey_version=version,
                period="2026-W10",
                key_id=foreign.key_id,
                sealed=blob,
            )
        )
    return response_id


def test_report_lists_altered_moved_foreign_and_destroyed_rows_and_counts_the_rest(
    app: Flask, deployment: Deployment, settings: Settings, tmp_path: Path
) -> None:
    database = app_state(app).database
    store(app, 2)  # sealed to the first key, destroyed below
    with database.session() as session:
        programme = custody.find_programme(session, "shelter")
        custody.rotate(session, programme, PASSPHRASE, actor="cli:t", kdf=FAST_KDF)
    with database.session() as session:
        custody.destroy(
            session, custody.find_programme(session, "shelter"), deployment.key_id, actor="cli:t"
        )
    destroyed = set(sealed_rows(database))
    store(app, 5)
    fresh = sorted(set(sealed_rows(database)) - destroyed)
    altered, moved, truncated = fresh[0], fresh[1], fresh[2]
    blobs = {response_id: blob for response_id, (_key, blob) in sealed_rows(database).items()}
    set_blob(
        app, altered, blobs[altered][:70] + bytes([blobs[altered][70] ^ 0x40]) + blobs[altered][71:]
    )
    set_blob(app, moved, blobs[fresh[3]])  # a valid blob, copied from another row
    set_blob(app, truncated, blobs[truncated][:40])
    foreign = add_response_sealed_to_another_programmes_key(app)

    result = run(settings, "report", "minimal", "--passphrase-file", str(passphrase_file(tmp_path)))

    assert result.exit_code == 0, result.output
    output = result.output
    assert "minimal: 2 responses" in output  # fresh[3] and fresh[4]
    assert "6 responses could not be opened:" in output
    assert f"  2 sealed to key {deployment.key_id} (destroyed)" in output
    assert "  1 sealed to key " in output and "(a key of another programme)" in output
    lines = {
        line.split(" ")[2]: line
        for line in output.splitlines()
        if line.startswith("  ") and "(version" in line
    }
    assert (
        "TamperedResponse" in lines[altered]
        and "altered or belongs to another row" in lines[altered]
    )
    assert "TamperedResponse" in lines[moved]
    assert "MalformedEnvelope" in lines[truncated] and "truncated" in lines[truncated]
    assert "UnknownKeyId" in lines[foreign]
    for response_id in destroyed:
        assert "UnknownKeyId" in lines[response_id] and deployment.key_id in lines[response_id]
    # The readable rows were still counted, answer by answer.
    assert "felt_safe: Did you feel safe?" in output and "  yes: 2" in output
