"""The attacker with the disk and the logs: can a sealed response be tied to its hour, site,
language, code or answer? Responses go in through HTTP (self-completed on two links in two
languages, through single-use codes, by a caseworker, and one declined consent); the day ends
and the inbox is released; then everything the server keeps is searched, as an attacker would.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import MetaData, select, text

from survey_app import create_app, migrate
from survey_app.intake.distribution import create_codes, create_link
from survey_app.models import AccessCode, Programme, Role
from survey_app.state import app_state
from tests.support.apps import Deployment, deploy, make_settings, next_day, read_back
from tests.support.assisted import Interview
from tests.support.databases import fresh_database_url
from tests.support.staff import make_account, open_session
from tests.support.web import Respondent

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

SECOND_SITE = "Riverside shelter and legal aid office"
ANSWERS = ("yes", "partly", "no", "_pnts")


@dataclass(frozen=True)
class Sent:
    """What the test knows of one response: the attacker's target."""

    number: int  # the order of sending, also sent as the age so that it can be checked
    site: str
    language: str
    channel: str
    felt_safe: str
    code: str | None


@pytest.fixture(params=["sqlite", "postgresql"])
def linked_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    for url in fresh_database_url(request.param, tmp_path):
        app = create_app(
            make_settings(
                tmp_path,
                url,
                respondent={
                    "submissions_per_minute": 1000,
                    "submissions_per_client_per_minute": 999,
                },
            )
        )
        migrate.upgrade(app_state(app).database)
        yield app
        app_state(app).database.dispose()


def send_everything(app: Flask, deployment: Deployment) -> tuple[list[Sent], dict[str, str]]:
    state = app_state(app)
    with state.database.session() as session:
        programme = session.get(Programme, deployment.programme_id)
        assert programme is not None
        second = create_link(session, programme, "minimal", SECOND_SITE).token
        coded = create_link(session, programme, "minimal", "North", requires_code=True)
        _batch, codes = create_codes(session, coded, 6, state.code_key)
        coded_token = coded.token
    tokens = {"North": deployment.links["minimal"], SECOND_SITE: second, "coded": coded_token}
    account = make_account(app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    caseworker = app.test_client()
    open_session(app, caseworker, account.id)
    sent: list[Sent] = []
    for number in range(24):
        site = "North" if number % 3 else SECOND_SITE
        language = "ar" if number % 4 == 1 else "en"
        felt_safe = ANSWERS[(number * 7) % 4]
        age = str(20 + number)
        if number % 6 == 5:  # a caseworker enters it
            interview = Interview(caseworker, "minimal", site=site)
            reply = interview.enter(
                {"consent": "yes"}, {"felt_safe": felt_safe, "age": age}, lang=language
            )
            assert reply.status_code == 303, reply.status_code
            sent.append(Sent(number, site, language, "assisted", felt_safe, None))
            continue
        code = codes.pop() if number % 6 == 2 else None
        token = tokens["coded"] if code else tokens[site]
        respondent = Respondent(app.test_client(), token)
        assert respondent.start(language, code=code).status_code == 200
        respondent.submit(1, {"consent": "yes"})
        reply = respondent.submit(2, {"felt_safe": felt_safe, "age": age})
        assert reply.status_code == 200 and respondent.draft is None
        sent.append(Sent(number, "North" if code else site, language, "self", felt_safe, code))
    declined = Respondent(app.test_client(), tokens["North"])
    declined.start("ar")
    assert declined.submit(1, {"consent": "no"}).status_code == 200
    return sent, {**tokens, **{f"code {c}": c for c in codes}}


def end_the_day(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    next_day(monkeypatch)
    # The first respondent of the next day releases the inbox; they go no further.
    Respondent(app.test_client(), next(iter(_links(app)))).start()


def _links(app: Flask) -> list[str]:
    from survey_app.models import DistributionLink

    with app_state(app).database.session() as session:
        return list(
            session.scalars(select(DistributionLink.token).where(~DistributionLink.requires_code))
        )


def disk_bytes(app: Flask) -> bytes:
    """The instance folder, every file in it (the SQLite database with its WAL included)."""
    instance = app_state(app).settings.instance_path
    return b"".join(path.read_bytes() for path in sorted(instance.rglob("*")) if path.is_file())


def physical_order(app: Flask) -> list[str]:
    """The response ids in the order the database keeps them (no ORDER BY: storage order)."""
    with app_state(app).database.session() as session:
        return list(session.scalars(text("SELECT id FROM responses")))


def exact_position_hits(order: list[str], by_id: dict[str, Sent]) -> int:
    """How many responses sit at the position of their sending, were storage order arrival."""
    return sum(1 for place, rid in enumerate(order) if by_id[rid].number == place)


def test_nothing_ties_a_response_to_its_time_place_code_or_answer(
    linked_app: Flask, log_text: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = linked_app
    deployment = deploy(app)
    sent, secrets_of_respondents = send_everything(app, deployment)
    end_the_day(app, monkeypatch)
    database = app_state(app).database

    # Ground truth, read with the key the attacker does not have.
    opened = read_back(app, deployment.programme_id, "minimal")
    assert len(opened) == len(sent)
    by_id = {r.response_id: sent[int(r.answers["age"]) - 20] for r in opened}
    for rid, truth in by_id.items():
        response = next(r for r in opened if r.response_id == rid)
        assert (response.meta.site, response.meta.language, response.meta.channel) == (
            truth.site,
            truth.language,
            truth.channel,
        )

    # 1. Storage order: the released table is in random-id order, never in arrival order.
    order = physical_order(app)
    assert sorted(order) == sorted(by_id) and order == sorted(order)
    assert exact_position_hits(order, by_id) <= 5  # chance expects 1
    with database.session() as session:
        assert session.scalar(text("SELECT count(*) FROM response_inbox")) == 0
        if not database.is_sqlite:
            # One release, one transaction: every row has the same xmin.
            xmins = set(session.scalars(text("SELECT xmin::text FROM responses")))
            code_xmins = set(session.scalars(text("SELECT xmin::text FROM access_codes")))
            assert len(xmins) == 1 and not xmins & code_xmins
    if database.is_sqlite:
        # Every copy of a response id in the files (tables, index, WAL) is in id order too.
        data = disk_bytes(app)
        first_seen = sorted(order, key=lambda rid: data.find(rid.encode()))
        assert first_seen == sorted(order)

    # 2. Lengths: one length for every response (no free text was given).
    with database.session() as session:
        lengths = set(session.scalars(text("SELECT length(sealed) FROM responses")))
    assert len(lengths) == 1, lengths

    # 3. Clear values: nothing but the coarse period, and no column shared with a code.
    metadata = MetaData()
    metadata.reflect(database.engine)
    with database.session() as session:
        cells = [
            str(value)
            for table in metadata.sorted_tables
            for row in session.execute(select(table))
            for value in row
        ]
        spent = session.scalars(select(AccessCode.code_hash).where(AccessCode.spent)).all()
    assert len(spent) == 4
    clock = re.compile(r"\d{2}:\d{2}:\d{2}")
    fine_times = [c for c in cells if clock.search(c) and not re.search(r":(00|15|30|45):00", c)]
    # Only the audit log and staff accounts keep exact times, and they are about staff.
    with database.session() as session:
        staff_times = (
            {str(v) for v in session.scalars(text("SELECT at FROM audit_events"))}
            | {str(v) for v in session.scalars(text("SELECT created_at FROM programme_keys"))}
            | {str(v) for v in session.scalars(text("SELECT created_at FROM distribution_links"))}
        )
    assert set(fine_times) <= staff_times, set(fine_times) - staff_times

    # 4. Logs: not one line about a respondent, by token, code, language or route.
    assert log_findings(log_text.getvalue(), list(secrets_of_respondents.values())) == []


def log_findings(lines: str, secrets: list[str]) -> list[str]:
    """What the log gives away about respondents: their secrets, or lines that follow them
    (whose order and times alone order completions, whatever the path shows)."""
    found = [f"secret {secret!r}" for secret in secrets if secret in lines]
    found += [
        line
        for line in lines.splitlines()
        if "/s/" in line or "/assist/" in line or "/done/" in line
    ]
    found += re.findall(r"\b(?:ar|en)\b", lines.replace("survey_app", ""))
    return found


def test_the_wal_never_holds_two_stored_responses_in_order(linked_app: Flask) -> None:
    """A copy of the disk taken between any two requests: the SQLite WAL, whose frames keep
    their transactions in the order they were written, holds at most one transaction that
    wrote a response or spent a code (the WAL is checkpointed after every commit)."""
    app = linked_app
    database = app_state(app).database
    if not database.is_sqlite:
        pytest.skip("PostgreSQL's WAL is the server's (see README, What is kept)")
    wal = Path(f"{database.engine.url.database}-wal")
    seen: list[int] = []
    inner = app.wsgi_app

    def copy_after_each_request(environ: Any, start_response: Any) -> Any:
        body = list(inner(environ, start_response))
        watched = watched_pages(database)
        seen.append(sum(1 for pages in wal_transactions(wal) if pages & watched))
        return body

    app.wsgi_app = copy_after_each_request  # type: ignore[method-assign]
    sent, _secrets = send_everything(app, deploy(app))
    assert len(sent) == 24 and len(seen) > 100
    assert max(seen) == 1, seen


def wal_transactions(wal: Path) -> list[set[int]]:
    """The pages each committed transaction in a WAL file wrote, oldest first.

    The file format (sqlite.org/fileformat2.html#walformat): a 32-byte header whose salts every
    current frame repeats, then frames of a 24-byte header (page number, and for the last frame
    of a transaction the database size after it) and one page. Frames with other salts are
    left from before the WAL last restarted; frames after the last commit are not committed.
    """
    data = wal.read_bytes() if wal.exists() else b""
    if len(data) < 32:
        return []
    page_size = struct.unpack(">I", data[8:12])[0]
    salts = data[16:24]
    transactions: list[set[int]] = []
    pages: set[int] = set()
    for start in range(32, len(data) - 24 - page_size + 1, 24 + page_size):
        page, size_after_commit = struct.unpack(">II", data[start : start + 8])
        if data[start + 8 : start + 16] != salts:
            break
        pages.add(page)
        if size_after_commit:
            transactions.append(pages)
            pages = set()
    return transactions


def watched_pages(database: Any) -> set[int]:
    """The database pages that hold responses (inbox and released) and codes, with their
    indexes, now."""
    with database.engine.connect() as connection:
        return set(
            connection.exec_driver_sql(
                "SELECT pageno FROM dbstat JOIN sqlite_master USING (name) "
                "WHERE tbl_name IN ('response_inbox', 'responses', 'access_codes')"
            ).scalars()
        )


def test_the_attack_finds_a_planted_leak(
    app: Flask, deployment: Deployment, log_text: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Respondent requests logged one line each, as the first version did, are caught (the
    formatter cuts the token from each path, but the lines still order the completions)."""
    monkeypatch.setattr("survey_app.web.security.is_staff_page", lambda path: True)
    token = deployment.links["minimal"]
    Respondent(app.test_client(), token).complete({"consent": "yes"}, {"felt_safe": "yes"})
    assert log_findings(log_text.getvalue(), [token]) != []
