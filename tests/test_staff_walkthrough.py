"""The README's "Staff accounts" walk-through, end to end, with a frozen clock for the codes."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from survey_app.cli import main
from survey_app.config import Settings
from survey_app.models import AuditEvent
from survey_app.state import app_state
from tests.support.assisted import Interview
from tests.support.cli import environment
from tests.support.staff import freeze, post, sign_in
from tests.support.web import csrf_token

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

PASSPHRASE = "a passphrase for the walk-through"


def text(reply: Any) -> str:
    return str(reply.get_data(as_text=True))


def enrol(client: FlaskClient, moment: Any) -> str:
    page = client.get("/auth/two-factor")
    secret = text(page).split("secret=")[1].split("&")[0]
    code = pyotp.TOTP(secret).at(moment)
    reply = client.post(
        "/auth/two-factor", data={"code": code, "csrf_token": csrf_token(text(page))}
    )
    assert reply.status_code == 303
    return secret


def first_password(client: FlaskClient, temporary: str, chosen: str) -> None:
    reply = post(
        client,
        "/auth/password",
        {"current": temporary, "new": chosen, "repeat": chosen},
        page_url="/auth/password",
    )
    assert reply.status_code == 303


def new_account(admin: FlaskClient, username: str, programme_id: str, role: str) -> str:
    reply = post(
        admin,
        "/admin/users/new",
        {"username": username, "programme": programme_id, "role": role},
        page_url="/admin/users/new",
    )
    assert reply.status_code == 200
    return text(reply).split('<p class="secret"><code>')[1].split("<")[0]


def test_readme_walk_through(app: Flask, settings: Settings) -> None:
    clock = freeze(app)
    runner = CliRunner()
    env = environment(settings)

    def cli(*args: str, input: str | None = None) -> Any:
        result = runner.invoke(main, list(args), input=input, env=env)
        assert result.exit_code == 0, result.output
        return result

    # 1-2. The first administrator, with two-step sign-in.
    cli("users", "create-admin", "ada", input="ada's own password\nada's own password\n")
    ada = app.test_client()
    sign_in(ada, "ada", "ada's own password")
    assert ada.get("/admin/").headers["Location"] == "/auth/two-factor"
    enrol(ada, clock())

    # 3. A programme, its key and a survey.
    reply = post(
        ada,
        "/admin/programmes/new",
        {
            "slug": "clinic",
            "name": "Legal clinic",
            "public_title": "Feedback",
            "retention_days": "730",
        },
        page_url="/admin/programmes/new",
    )
    programme_page = reply.headers["Location"]
    programme_id = programme_page.rsplit("/", 1)[1]
    cli("keys", "create", "clinic", input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    cli("surveys", "assign", "minimal", "clinic")
    reply = post(
        ada,
        f"{programme_page}/links",
        {"survey": "minimal", "site": "North"},
        page_url=programme_page,
    )
    assert reply.status_code == 303

    # 4. An analyst, who must choose a password and set up two-step sign-in.
    temporary = new_account(ada, "ana", programme_id, "analyst")
    ana = app.test_client()
    sign_in(ana, "ana", temporary)
    first_password(ana, temporary, "tall green lamp post")
    assert ana.get("/staff/").headers["Location"] == "/auth/two-factor"
    secret = enrol(ana, clock())
    clock.advance(seconds=30)
    ana = app.test_client()
    assert (
        sign_in(ana, "ana", "tall green lamp post", code=pyotp.TOTP(secret).at(clock())).status_code
        == 303
    )

    # 5. A viewer and a caseworker.
    people = {}
    for name, role in (("vic", "viewer"), ("cas", "caseworker")):
        temporary = new_account(ada, name, programme_id, role)
        people[name] = app.test_client()
        sign_in(people[name], name, temporary)
        first_password(people[name], temporary, "quiet river stone path")

    # Each sees what the role allows, and no more.
    allowed = {
        "ada": ["/admin/users", "/admin/audit", "/staff/assist"],
        "ana": ["/staff/"],
        "vic": ["/staff/"],
        "cas": ["/staff/assist", "/staff/surveys/minimal/paper"],
    }
    refused = {
        "ana": ["/admin/", "/admin/users", "/staff/assist"],
        "vic": ["/admin/", "/staff/assist", "/staff/surveys/minimal/paper"],
        "cas": ["/admin/", "/admin/users", "/admin/audit", f"/admin/programmes/{programme_id}"],
    }
    clients = {"ada": ada, "ana": ana, **people}
    for name, urls in allowed.items():
        for url in urls:
            assert clients[name].get(url).status_code == 200, (name, url)
    for name, urls in refused.items():
        for url in urls:
            assert clients[name].get(url).status_code == 403, (name, url)

    # 7. The caseworker enters a survivor's answers; the report counts them.
    interview = Interview(people["cas"], "minimal")
    reply = interview.enter({"consent": "yes"}, {"felt_safe": "yes"})
    assert reply.status_code == 303
    report = runner.invoke(main, ["report", "minimal"], input=f"{PASSPHRASE}\n", env=env)
    assert report.exit_code == 0 and "minimal: 1 responses" in report.output

    # The audit log holds it all, and shows a hand-edited row.
    assert "audit log intact" in cli("audit", "verify").output
    listed = cli("audit", "list", "--limit", "100").output
    for action in ("user.create", "programme.create", "link.create", "role.grant", "auth.sign-in"):
        assert action in listed
    with app_state(app).database.session() as db:
        db.execute(update(AuditEvent).where(AuditEvent.actor == "ana").values(actor="ada"))
    broken = runner.invoke(main, ["audit", "verify"], env=env)
    assert broken.exit_code == 1 and re.search(r"event \d+: altered", broken.output)
