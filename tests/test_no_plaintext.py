"""No answer is ever written anywhere unsealed: not to the database, its WAL, the instance
folder, a temporary file or a log line, not even while the respondent is still answering.

Sentinel answers go in through the web form, in free text and in "other" text; then every place
the server could have written them is scanned for them, in UTF-8, UTF-16, hex and base64.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, select

from survey_app.config import Settings
from survey_app.intake.drafts import FINISHED
from survey_app.intake.responses import OpenedResponse, open_responses, wrapped_keys
from survey_app.keys import sealing
from survey_app.models import Draft
from survey_app.state import app_state
from tests.support.apps import FIXTURES, PASSPHRASE, Deployment, make_settings
from tests.support.web import Respondent

SURVEY = "leak-scan"
LARGEST_FILE_SCANNED = 64 * 1024 * 1024


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, surveys_dir=str(FIXTURES / "leak_scan"))


def sentinel(label: str) -> str:
    return f"{label}{secrets.token_hex(8)}"


def _base64_cores(data: bytes) -> Iterator[bytes]:
    """The part of the base64 text that depends only on `data`, at each of the 3 alignments."""
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + data)
        start = -(-8 * offset // 6)
        end = 8 * (offset + len(data)) // 6
        core = encoded[start:end]
        yield core
        yield core.replace(b"+", b"-").replace(b"/", b"_")


def forms(secret: str) -> set[bytes]:
    """Every byte string that would betray `secret`."""
    utf8 = secret.encode("utf-8")
    found = {
        utf8,
        secret.encode("utf-16-le"),
        secret.encode("utf-16-be"),
        utf8.hex().encode(),
        secret.encode("unicode_escape"),  # as JSON with ensure_ascii writes non-ASCII text
        *_base64_cores(utf8),
    }
    return {form for form in found if form}


class Scanner:
    def __init__(self, secrets_: list[str]) -> None:
        self.forms = {secret: forms(secret) for secret in secrets_}

    def check(self, where: str, data: bytes) -> None:
        lowered = data.lower()
        for secret, betraying in self.forms.items():
            for form in betraying:
                # Hex may be upper or lower case; the rest must match exactly.
                haystack = lowered if form == secret.encode("utf-8").hex().encode() else data
                assert form not in haystack, f"{secret!r} found in {where} as {form!r}"

    def check_file(self, path: Path) -> None:
        try:
            # Sockets and pipes (another program's, in the shared temp folder) hold no file data.
            if not path.is_file() or path.stat().st_size > LARGEST_FILE_SCANNED:
                return
            self.check(str(path), path.read_bytes())
        except OSError:  # gone, unreadable, or not a regular file by the time it is read
            return

    def check_tree(self, root: Path, *, since: float | None = None) -> int:
        scanned = 0
        for folder, _dirs, files in os.walk(root):
            for name in files:
                path = Path(folder) / name
                try:
                    if since is not None and path.stat().st_mtime < since:
                        continue
                except OSError:
                    continue
                self.check_file(path)
                scanned += 1
        return scanned


def scan_everything(
    scanner: Scanner,
    app: Flask,
    client: FlaskClient,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    started: float,
) -> None:
    database = app_state(app).database
    if database.is_sqlite:
        main_file = Path(database.engine.url.database or "")
        files = [main_file, Path(f"{main_file}-wal"), Path(f"{main_file}-shm")]
        assert main_file.exists() and Path(f"{main_file}-wal").exists()
        for path in files:
            scanner.check_file(path)
    else:
        scan_postgres_tables(scanner, app)
    assert scanner.check_tree(settings.instance_path) >= 1  # at least the secret key file
    scanner.check_tree(Path(tempfile.gettempdir()), since=started)
    for record in caplog.records:
        text = f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
        scanner.check(f"log record from {record.name}", text.encode("utf-8"))
    scanner.check("captured log text", caplog.text.encode("utf-8"))
    for name in ("s", "f"):  # the session, the respondent's form cookie
        cookie = client.get_cookie(name)
        if cookie is not None:
            scanner.check(f"the cookie {name}", cookie.value.encode())


def scan_postgres_tables(scanner: Scanner, app: Flask) -> None:
    database = app_state(app).database
    tables = MetaData()
    tables.reflect(database.engine)
    assert "responses" in tables.tables and "drafts" in tables.tables
    with database.engine.connect() as connection:
        for table in tables.sorted_tables:
            for row in connection.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
                    scanner.check(f"{table.name}.{column.name}", data)


def post_page(tab: Respondent, number: int, data: dict[str, object]) -> int:
    reply = tab.submit(number, data)
    return int(reply.status_code)


def test_sentinel_answers_appear_nowhere_unsealed(
    app: Flask,
    client: FlaskClient,
    deployment: Deployment,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = time.time() - 1
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="survey_app")
    # Every SQL statement with its parameters, and every row read back.
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    called, place, help_other = sentinel("Nadia"), sentinel("Harbourside"), sentinel("Dentist")
    story = sentinel("قصتي لا يعرفها أحد ")
    scanner = Scanner([called, place, help_other, story])
    token = deployment.links[SURVEY]

    tab = Respondent(client, token)
    tab.start()
    assert post_page(tab, 1, {"consent": "yes"}) == 200
    about = {"called": called, "place": "other", "place_other": place}
    assert post_page(tab, 2, {**about, "help": ["legal", "other"], "help_other": help_other}) == 200
    # A rejected page keeps its text in the draft too.
    assert post_page(tab, 3, {"age": "not a number", "story": story}) == 422

    # Half way: the answers so far exist only in the draft, and only as ciphertext.
    with app_state(app).database.session() as session:
        assert len(session.scalars(select(Draft)).all()) == 1
    scan_everything(scanner, app, client, settings, caplog, started)

    assert post_page(tab, 3, {"age": "29", "story": story}) == 200
    scan_everything(scanner, app, client, settings, caplog, started)

    # And yet every answer is there, for the key holder.
    state = app_state(app)
    with (
        state.database.session() as session,
        sealing.UnlockedKeys.unlock(
            wrapped_keys(session, deployment.programme_id), PASSPHRASE
        ) as keys,
    ):
        (opened,) = list(open_responses(session, SURVEY, keys))
        assert isinstance(opened, OpenedResponse)
        assert opened.answers == {
            "consent": "yes",
            "called": called,
            "place": "other",
            "place_other": place,
            "help": ["legal", "other"],
            "help_other": help_other,
            "age": 29,
            "story": story,
        }
        assert session.scalars(select(Draft.ciphertext)).all() == [FINISHED]
    # The log scan saw what went to the database, so it would have caught plaintext there.
    assert any("INSERT INTO responses" in record.getMessage() for record in caplog.records)


def test_the_scanner_finds_what_it_looks_for() -> None:
    secret = sentinel("Check")
    scanner = Scanner([secret])
    for form in (
        secret.encode(),
        secret.encode("utf-16-le"),
        base64.b64encode(b"xy" + secret.encode() + b"z"),
        base64.b64encode(b"x" + secret.encode()),
        secret.encode().hex().upper().encode(),
    ):
        with pytest.raises(AssertionError):
            scanner.check("test data", b"prefix " + form + b" suffix")
    scanner.check("unrelated data", b"nothing to see here")
