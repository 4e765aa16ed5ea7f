"""Help on every respondent page, errors included; contacts edited on the programme's page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from survey_app import create_app, migrate
from survey_app.cli import main
from survey_app.config import ConfigError, Settings
from survey_app.models import AuditEvent, DistributionLink, Programme
from survey_app.state import app_state
from tests.support.apps import Deployment, deploy, make_settings
from tests.support.cli import environment
from tests.support.staff import Account, make_account, open_session, post
from tests.support.web import Respondent, csrf_token

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

DEFAULT_HELP = """
[[en]]
name = "National helpline"
phone = "+44 800 1111"

[[ar]]
name = "خط المساعدة الوطني"
phone = "+44 800 1111"
"""


def text(reply: object) -> str:
    return str(reply.get_data(as_text=True))  # type: ignore[attr-defined]


@pytest.fixture
def default_file(tmp_path: Path) -> Path:
    path = tmp_path / "default-help.toml"
    path.write_text(DEFAULT_HELP, encoding="utf-8")
    return path


@pytest.fixture
def with_default(
    tmp_path: Path, database_url: str, default_file: Path
) -> Iterator[tuple[Flask, Deployment]]:
    app = create_app(
        make_settings(
            tmp_path,
            database_url,
            respondent={
                "default_help_file": str(default_file),
                "submissions_per_minute": 2,
                "submissions_per_client_per_minute": 1,
            },
        )
    )
    migrate.upgrade(app_state(app).database)
    deployment = deploy(app)
    yield app, deployment
    app_state(app).database.dispose()


def without_contacts(app: Flask, deployment: Deployment) -> None:
    with app_state(app).database.session() as session:
        session.execute(
            update(Programme)
            .where(Programme.id == deployment.programme_id)
            .values(help_contacts={})
        )


def test_every_error_page_shows_the_programmes_help(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    landing = client.get(f"/s/{token}")
    pages: dict[str, object] = {
        "bad language": client.post(
            f"/s/{token}", data={"lang": "xx", "csrf_token": csrf_token(text(landing))}
        ),
        "stale page": client.post(
            f"/s/{token}",
            data={"draft": "0" * 32 + "." + "0" * 64, "csrf_token": csrf_token(text(landing))},
        ),
        "expired form": client.post(f"/s/{token}", data={"lang": "en"}),
    }
    tab = Respondent(client, token)
    tab.start()
    pages["declined"] = tab.submit(1, {"consent": "no"})
    for name, reply in pages.items():
        body = text(reply)
        assert "If you need help" in body and "+1 555 0100" in body, name


def test_a_programme_without_contacts_shows_the_deployment_default_everywhere(
    with_default: tuple[Flask, Deployment],
) -> None:
    app, deployment = with_default
    without_contacts(app, deployment)
    client = app.test_client()
    token = deployment.links["minimal"]
    assert "National helpline" in text(client.get(f"/s/{token}"))
    assert "National helpline" in text(client.get("/s/no-such-link"))  # no programme known
    tab = Respondent(client, token)
    tab.start(lang="ar")
    assert "خط المساعدة الوطني" in tab.html  # in the respondent's language
    # The 429 page too: it says when to try again.
    second = Respondent(app.test_client(), token).start()
    assert second.status_code == 429
    assert "Please wait 1 minute" in text(second) and "National helpline" in text(second)
    assert int(second.headers["Retry-After"]) <= 60
    # A switched-off link says the survey closed, with the same help.
    with app_state(app).database.session() as session:
        session.execute(update(DistributionLink).values(active=False))
    closed = client.get(f"/s/{token}")
    assert closed.status_code == 410 and "National helpline" in text(closed)


def test_a_programmes_own_contacts_come_before_the_default(
    with_default: tuple[Flask, Deployment],
) -> None:
    app, deployment = with_default
    page = text(app.test_client().get(f"/s/{deployment.links['minimal']}"))
    assert "+1 555 0100" in page and "National helpline" not in page


def test_an_unreadable_default_file_stops_the_app_saying_why(
    tmp_path: Path, database_url: str
) -> None:
    bad = tmp_path / "help.toml"
    bad.write_text("[[english]]\nname = 'x'\n", encoding="utf-8")
    for path, says in ((bad, "not a language code"), (tmp_path / "missing.toml", "cannot read")):
        with pytest.raises(ConfigError, match=says):
            create_app(
                make_settings(tmp_path, database_url, respondent={"default_help_file": str(path)})
            )


@pytest.fixture
def admin(app: Flask, client: FlaskClient, deployment: Deployment) -> FlaskClient:
    root: Account = make_account(app, "root", superadmin=True, totp=True)
    open_session(app, client, root.id)
    return client


def test_help_contacts_are_edited_on_the_programmes_page(
    app: Flask, admin: FlaskClient, deployment: Deployment
) -> None:
    page = f"/admin/programmes/{deployment.programme_id}"
    shown = text(admin.get(page))
    assert "+1 555 0100" in shown  # today's contacts, ready to edit
    new = '[[en]]\nname = "Shelter line"\nphone = "+1 555 0199"\n\n[[fr]]\nname = "Ligne"\n'
    reply = post(admin, f"{page}/help", {"contacts": new}, page_url=page)
    assert reply.status_code == 303
    respondent = app.test_client()
    assert "Shelter line" in text(respondent.get(f"/s/{deployment.links['minimal']}"))
    with app_state(app).database.session() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
        assert "programme.help" in actions
    # A mistake is named and changes nothing.
    wrong = post(admin, f"{page}/help", {"contacts": "[[en]]\nphone = '1'\n"}, page_url=page)
    assert wrong.status_code == 422 and "en contact 1: needs a name" in text(wrong)
    assert "Shelter line" in text(respondent.get(f"/s/{deployment.links['minimal']}"))


def test_admin_home_and_surveys_check_warn_about_a_programme_without_help(
    app: Flask, admin: FlaskClient, deployment: Deployment, settings: Settings
) -> None:
    assert "no help contacts" not in text(admin.get("/admin/"))
    without_contacts(app, deployment)
    home = text(admin.get("/admin/"))
    assert "no help contacts, and no deployment default" in home
    result = CliRunner().invoke(main, ["surveys", "check"], env=environment(settings))
    assert result.exit_code == 0, result.output
    assert "programme shelter has no help contacts" in result.output
    assert "programmes set-help shelter" in result.output
