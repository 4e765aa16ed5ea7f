"""Helpers shared by the key custody, tampering, backup and retention tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import MetaData, select, update

from survey_app.db import Database
from survey_app.intake.responses import (
    ResponseMeta,
    decode_payload,
    store_response,
    stored_responses,
)
from survey_app.keys import sealing
from survey_app.models import InboxResponse, Response
from survey_app.state import app_state
from tests.support.apps import PASSPHRASE


def passphrase_file(tmp_path: Path, secret: str = PASSPHRASE, name: str = "passphrase") -> Path:
    path = tmp_path / name
    path.write_text(secret + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def store(
    app: Flask,
    count: int,
    *,
    survey_id: str = "minimal",
    version: str = "v1",
    day: date = date(2026, 3, 4),
    comment: str = "text",
) -> None:
    """Seal `count` responses to the survey's programme's current key, as the web form would."""
    with app_state(app).database.session() as session:
        for number in range(count):
            store_response(
                session,
                survey_id=survey_id,
                survey_version=version,
                definition="{}",
                answers={"consent": "yes", "felt_safe": "yes", "comment": f"{comment} {number}"},
                meta=ResponseMeta("North", "self", "en", day),
                period_granularity="week",
            )


def sealed_rows(database: Database) -> dict[str, tuple[str, bytes]]:
    """Response id -> (key id, sealed blob)."""
    with database.session() as session:
        stored = stored_responses()
        rows = session.execute(select(stored.c.id, stored.c.key_id, stored.c.sealed))
        return {response_id: (key_id, blob) for response_id, key_id, blob in rows}


def open_all(database: Database, keys: sealing.UnlockedKeys) -> dict[str, dict[str, Any]]:
    """Response id -> answers, opening every row; raises if any row does not open."""
    opened = {}
    with database.session() as session:
        stored = stored_responses()
        rows = session.execute(
            select(stored.c.id, stored.c.survey_id, stored.c.survey_version, stored.c.sealed)
        )
        for response_id, survey_id, version, blob in rows:
            binding = sealing.ResponseBinding(response_id, survey_id, version)
            answers, _meta = decode_payload(keys.open(blob, binding))
            opened[response_id] = answers
    return opened


def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show that a refused command changed nothing."""
    tables = MetaData()
    tables.reflect(database.engine)
    contents = {}
    with database.engine.connect() as connection:
        for table in tables.sorted_tables:
            rows = connection.execute(select(table)).all()
            contents[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return contents


def replace_sealed(database: Database, response_id: str, blob: bytes) -> None:
    """Put `blob` in the row of `response_id`, released or still in the inbox (an attacker's edit)."""
    with database.session() as session:
        for table in (Response, InboxResponse):
            session.execute(update(table).where(table.id == response_id).values(sealed=blob))
