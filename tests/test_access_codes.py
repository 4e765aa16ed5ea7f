"""Single-use access codes and submission rate limits on the respondent side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey_app import create_app, migrate
from survey_app.intake.distribution import create_codes, create_link
from survey_app.models import AccessCode, DistributionLink, InboxResponse, Programme
from survey_app.state import app_state
from tests.support.apps import Deployment, deploy, make_settings
from tests.support.web import Respondent, csrf_token


def coded_link(app: Flask, deployment: Deployment, count: int = 2) -> tuple[str, list[str]]:
    with app_state(app).database.session() as session:
        programme = session.get(Programme, deployment.programme_id)
        assert programme is not None
        link = create_link(session, programme, "minimal", "Clinic", requires_code=True)
        _batch, codes = create_codes(session, link, count, app_state(app).code_key)
        return link.token, codes


TABS: dict[tuple[int, str], Respondent] = {}


def start_with_code(client: FlaskClient, token: str, code: str) -> Any:
    tab = TABS[id(client), token] = Respondent(client, token)
    return tab.start(code=code)


def finish(client: FlaskClient, token: str) -> Any:
    respondent = TABS.pop((id(client), token))
    respondent.submit(1, {"consent": "yes"})
    return respondent.submit(2, {"felt_safe": "yes"})


def test_a_code_is_spent_when_the_respondent_starts_and_cannot_be_reused(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token, (code, _other) = coded_link(app, deployment)
    assert start_with_code(client, token, code.lower().replace("-", " ")).status_code == 200

    def spent() -> int:
        with app_state(app).database.session() as session:
            return len(session.scalars(select(AccessCode).where(AccessCode.spent.is_(True))).all())

    # Spent at the start: the transaction that stores the response never touches a code.
    assert spent() == 1
    assert finish(client, token).status_code == 200
    assert spent() == 1
    with app_state(app).database.session() as session:
        # Nothing in the code's row or the response's row points at the other.
        assert set(AccessCode.__table__.columns.keys()) == {
            "code_hash",
            "link_token",
            "batch",
            "spent",
        }
        assert len(session.scalars(select(InboxResponse)).all()) == 1
    again = start_with_code(app.test_client(), token, code)
    assert again.status_code == 403
    assert "not valid or has already been used" in again.get_data(as_text=True)


def test_one_code_started_twice_at_once_lets_only_one_in(
    app: Flask, deployment: Deployment
) -> None:
    token, (code, _other) = coded_link(app, deployment)
    first, second = app.test_client(), app.test_client()
    assert start_with_code(first, token, code).status_code == 200
    assert start_with_code(second, token, code).status_code == 403
    assert finish(first, token).status_code == 200
    with app_state(app).database.session() as session:
        assert len(session.scalars(select(InboxResponse)).all()) == 1


def test_a_start_sent_twice_gives_the_browser_its_page_and_spends_the_code_once(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    """A double tap on Start: the second start finds the code spent by this very browser a
    moment ago, and gives the page back (empty) instead of "already used"."""
    token, (code, _other) = coded_link(app, deployment)
    first_reply, shown = Respondent(client, token), Respondent(client, token)
    assert first_reply.start(code=code).status_code == 200
    assert shown.start(code=code).status_code == 200
    assert shown.page == 1 and "already been used" not in shown.html
    # The browser shows the second reply; the key in the first opens nothing now.
    assert first_reply.submit(1, {"consent": "yes"}).status_code == 410
    shown.submit(1, {"consent": "yes"})
    assert shown.submit(2, {"felt_safe": "yes"}).status_code == 200
    with app_state(app).database.session() as session:
        assert len(session.scalars(select(InboxResponse)).all()) == 1
        assert session.scalars(select(AccessCode.spent)).all().count(True) == 1
    # Finished: the code opens nothing more, in this browser either.
    assert Respondent(client, token).start(code=code).status_code == 403


def test_once_a_page_was_sent_the_code_does_not_start_again_even_in_the_same_browser(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token, (code, _other) = coded_link(app, deployment)
    answering = Respondent(client, token)
    assert answering.start(code=code).status_code == 200
    assert answering.submit(1, {"consent": "yes"}).status_code == 200
    again = Respondent(client, token).start(code=code)
    assert again.status_code == 403 and "already been used" in again.get_data(as_text=True)
    # The answers in progress were not touched.
    assert answering.submit(2, {"felt_safe": "no"}).status_code == 200
    # Nor does a quick exit before any page was sent free the code (the browser forgets it).
    token_b, (code_b,) = coded_link(app, deployment, count=1)
    leaving = Respondent(client, token_b)
    assert leaving.start(code=code_b).status_code == 200
    client.post("/exit", data={"draft": leaving.draft})
    assert Respondent(client, token_b).start(code=code_b).status_code == 403


def test_a_coded_page_that_can_no_longer_be_opened_says_whom_to_ask_for_a_new_code(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    """Starting again needs a new code once a page was sent: the "Please start again" page of
    a coded link says so; an open link's does not."""
    hint = "ask the person who gave you the card for a new one"
    token, (code, _other) = coded_link(app, deployment)
    tab = Respondent(client, token)
    tab.start(code=code)
    page_one = tab.form({"consent": "yes"}, action="next")
    assert client.post(f"/s/{token}", data=page_one).status_code == 200
    again = client.post(f"/s/{token}", data=page_one)  # the same page re-sent: moved on
    assert again.status_code == 410 and hint in again.get_data(as_text=True)
    open_tab = Respondent(app.test_client(), deployment.links["minimal"])
    open_tab.start()
    form = open_tab.form({"consent": "yes"}, action="next")
    assert open_tab.client.post(open_tab.url, data=form).status_code == 200
    gone = open_tab.client.post(open_tab.url, data=form)
    assert gone.status_code == 410 and hint not in gone.get_data(as_text=True)


def test_a_code_spent_at_one_link_opens_no_other_even_in_the_same_browser(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token_a, (code_a, _other) = coded_link(app, deployment)
    token_b, _codes_b = coded_link(app, deployment)
    assert Respondent(client, token_a).start(code=code_a).status_code == 200
    # The draft code_a opened at A, with no page sent yet, is not B's to take over.
    elsewhere = Respondent(client, token_b)
    reply = elsewhere.start(code=code_a)
    assert reply.status_code == 403 and elsewhere.draft is None


def test_codes_are_stored_under_a_key_that_is_not_in_the_database(
    app: Flask, deployment: Deployment
) -> None:
    import hashlib

    _token, codes = coded_link(app, deployment)
    with app_state(app).database.session() as session:
        stored = set(session.scalars(select(AccessCode.code_hash)))
    # Plain hashes of the codes (what a copy could be searched for) are not what is kept.
    plain = {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}
    assert stored.isdisjoint(plain)
    # The key is a file in the instance folder, readable by its owner only.
    key_file = app_state(app).settings.instance_path / "code_key"
    assert key_file.read_text().strip() == app_state(app).code_key
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_a_card_printed_before_keyed_hashes_still_opens_its_link(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    from survey_app.intake.distribution import legacy_hash

    token, _codes = coded_link(app, deployment)
    with app_state(app).database.session() as session:
        session.add(
            AccessCode(
                code_hash=legacy_hash("ABCD-EFGH"), link_token=token, batch="old", spent=False
            )
        )
    assert start_with_code(client, token, "abcd efgh").status_code == 200
    assert start_with_code(app.test_client(), token, "ABCD-EFGH").status_code == 403


def test_a_wrong_code_keeps_the_entry_and_shows_an_error_summary(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token, _codes = coded_link(app, deployment)
    reply = start_with_code(client, token, "WXYZ-2345")
    assert reply.status_code == 403
    body = reply.get_data(as_text=True)
    assert 'value="WXYZ-2345"' in body  # the entry is kept to correct
    assert 'id="error-summary" autofocus' in body and 'href="#code"' in body
    assert 'aria-invalid="true"' in body


def test_unknown_or_missing_code_is_refused(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token, _codes = coded_link(app, deployment)
    assert start_with_code(client, token, "ZZZZ-ZZZZ").status_code == 403
    assert start_with_code(client, token, "").status_code == 403
    # A code from another link does not open this one.
    _other_token, (other_code,) = coded_link(app, deployment, count=1)
    assert start_with_code(client, token, other_code).status_code == 403


def test_rate_limit_answers_429_and_keeps_no_address(tmp_path: Path, database_url: str) -> None:
    app = create_app(
        make_settings(
            tmp_path,
            database_url,
            respondent={"submissions_per_client_per_minute": 2, "submissions_per_minute": 10},
        )
    )
    migrate.upgrade(app_state(app).database)
    deployment = deploy(app)
    client = app.test_client()
    token = deployment.links["minimal"]
    statuses = []
    for _ in range(3):
        landing = client.get(f"/s/{token}", environ_base={"REMOTE_ADDR": "198.51.100.9"})
        reply = client.post(
            f"/s/{token}",
            environ_base={"REMOTE_ADDR": "198.51.100.9"},
            data={"lang": "en", "csrf_token": csrf_token(landing.get_data(as_text=True))},
        )
        statuses.append(reply.status_code)
    assert statuses == [200, 200, 429]
    assert 1 <= int(reply.headers["Retry-After"]) <= 60
    storage = app_state(app).limiter.storage
    assert storage.storage and not any("198.51.100.9" in key for key in storage.storage)
    with app_state(app).database.session() as session:
        assert session.scalars(select(DistributionLink)).all()
    app_state(app).database.dispose()


def test_a_code_is_not_spent_when_its_draft_cannot_be_stored(
    app: Flask, client: FlaskClient, deployment: Deployment, monkeypatch: Any
) -> None:
    """The code is spent with the draft it opens, or not at all: a start that fails after
    spending it leaves the card usable."""
    from sqlalchemy import text

    from survey_app.intake.drafts import DraftStore

    def failing_create(self: DraftStore, state: object, draft_id: object = None) -> None:
        self.session.execute(text("INSERT INTO no_such_table VALUES (1)"))

    token, (code, _other) = coded_link(app, deployment)
    with monkeypatch.context() as patch:
        patch.setattr(DraftStore, "create", failing_create)
        assert start_with_code(client, token, code).status_code >= 500
    assert start_with_code(app.test_client(), token, code).status_code == 200
