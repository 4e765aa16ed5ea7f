"""Staff preview: a survey tried as a respondent sees it, marked as a preview on every page, and
nothing of it stored: the whole database is the same before and after a run-through."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, select

from survey_app.models import Role
from survey_app.state import app_state
from tests.support.apps import Deployment
from tests.support.staff import make_account, open_session
from tests.support.web import csrf_token

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

BANNER = "Preview: you see the survey as respondents do. Nothing you enter is stored."
PREVIEW = "/staff/preview/minimal"


def whole_database(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    database = app_state(app).database
    metadata = MetaData()
    metadata.reflect(database.engine)
    with database.engine.connect() as connection:
        return {
            name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
            for name, table in sorted(metadata.tables.items())
        }


def staff_client(app: Flask, deployment: Deployment, role: Role, name: str) -> FlaskClient:
    account = make_account(
        app, name, role=role, programme_id=deployment.programme_id, totp=role is Role.ADMIN
    )
    client = app.test_client()
    open_session(app, client, account.id)
    return client


def send(client: FlaskClient, url: str, data: dict[str, str], *, to: str | None = None) -> Any:
    """Open the page at `url` (marked as a preview) and send its form, to `to` if given."""
    page = client.get(url)
    assert page.status_code == 200, f"{url}: {page.status_code}"
    assert BANNER in page.get_data(as_text=True), url
    token = csrf_token(page.get_data(as_text=True))
    return client.post(to or url, data={**data, "csrf_token": token})


def run_through(client: FlaskClient) -> str:
    started = send(client, PREVIEW, {"lang": "en"}, to=f"{PREVIEW}/start")
    assert started.status_code == 303
    page_one = started.headers["Location"]
    agreed = send(client, page_one, {"consent": "yes"})
    assert agreed.status_code == 303
    page_two = agreed.headers["Location"]
    invalid = send(client, page_two, {"felt_safe": "yes", "age": "7"})
    assert invalid.status_code == 422 and BANNER in invalid.get_data(as_text=True)
    finished = send(client, page_two, {"felt_safe": "partly", "age": "34", "comment": "fine"})
    assert finished.status_code == 200
    return str(finished.get_data(as_text=True))


def test_a_previewed_run_through_stores_nothing(app: Flask, deployment: Deployment) -> None:
    caseworker = staff_client(app, deployment, Role.CASEWORKER, "cas")
    before = whole_database(app)

    end = run_through(caseworker)

    assert BANNER in end and "End of the preview" in end
    assert "partly" in end and "34" in end  # what would have been sealed, shown to the staff
    assert whole_database(app) == before
    with caseworker.session_transaction() as session:
        assert "preview" not in session  # nothing of the answers kept in the cookie either


def test_the_respondent_path_does_store_so_the_comparison_can_see_a_change(
    app: Flask, deployment: Deployment
) -> None:
    """The same comparison notices a real response (guards against a comparison that is blind)."""
    from tests.support.web import Respondent

    before = whole_database(app)
    respondent = Respondent(app.test_client(), deployment.links["minimal"])
    reply = respondent.complete({"consent": "yes"}, {"felt_safe": "yes", "age": "30"})
    assert reply.status_code == 200 and "Thank you" in reply.get_data(as_text=True)
    assert whole_database(app) != before


def test_preview_is_for_staff_who_work_with_respondents(app: Flask, deployment: Deployment) -> None:
    assert app.test_client().get(PREVIEW).status_code == 302  # to sign-in
    viewer = staff_client(app, deployment, Role.VIEWER, "vic")
    assert viewer.get(PREVIEW).status_code == 403
    admin = staff_client(app, deployment, Role.ADMIN, "ada")
    assert BANNER in admin.get(PREVIEW).get_data(as_text=True)


def test_a_page_cannot_be_reached_before_the_ones_before_it(
    app: Flask, deployment: Deployment
) -> None:
    caseworker = staff_client(app, deployment, Role.CASEWORKER, "cas")
    assert caseworker.get(f"{PREVIEW}/p/2").headers["Location"].endswith(PREVIEW)
    send(caseworker, PREVIEW, {"lang": "en"}, to=f"{PREVIEW}/start")
    assert caseworker.get(f"{PREVIEW}/p/2").headers["Location"].endswith(f"{PREVIEW}/p/1")
