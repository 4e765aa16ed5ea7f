"""`survey-app users`, `links` and `codes`, used as an operator would."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from survey_app.cli import main
from survey_app.config import Settings
from survey_app.intake.distribution import hash_code
from survey_app.models import AccessCode, AuditEvent, DistributionLink, User
from survey_app.state import app_state
from tests.support.apps import Deployment
from tests.support.cli import environment
from tests.support.staff import sign_in

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

Invoke = Callable[..., Any]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def run(runner: CliRunner, settings: Settings, app: Flask) -> Invoke:
    def invoke(*args: str, input: str | None = None) -> Any:
        return runner.invoke(main, list(args), input=input, env=environment(settings))

    return invoke


def temporary_password(output: str) -> str:
    match = re.search(r"\(shown once\): (\S+)", output)
    assert match, output
    return match.group(1)


def actions(app: Flask) -> list[tuple[str, str]]:
    with app_state(app).database.session() as db:
        return [(e.actor, e.action) for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_first_admin_then_sign_in(app: Flask, run: Invoke) -> None:
    password = "first admin password"
    short = run("users", "create-admin", "root", input="short\nshort\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    result = run("users", "create-admin", "root", input=f"{password}\n{password}\n")
    assert result.exit_code == 0, result.output
    assert "set up two-step sign-in" in result.output
    client = app.test_client()
    assert sign_in(client, "root", password).status_code == 303
    assert client.get("/admin/").headers["Location"] == "/auth/two-factor"
    again = run("users", "create-admin", "second", input=f"{password}\n{password}\n")
    assert again.exit_code == 1 and "An administrator already exists (root)" in again.output
    actor, action = actions(app)[0]
    assert actor.startswith("cli:") and action == "user.create"


def test_add_list_reset_and_set_role(app: Flask, run: Invoke, deployment: Deployment) -> None:
    added = run("users", "add", "casey", "--programme", "shelter", "--role", "caseworker")
    assert added.exit_code == 0, added.output
    first = temporary_password(added.output)
    assert sign_in(app.test_client(), "casey", first).status_code == 303
    listed = run("users", "list")
    assert "casey\tshelter:caseworker\t2fa off\tmust change password" in listed.output
    reset = run("users", "reset-password", "casey")
    second = temporary_password(reset.output)
    assert second != first
    assert sign_in(app.test_client(), "casey", first).status_code == 422
    assert sign_in(app.test_client(), "casey", second).status_code == 303
    promoted = run("users", "set-role", "casey", "shelter", "analyst")
    assert promoted.exit_code == 0 and "casey is analyst of shelter" in promoted.output
    removed = run("users", "set-role", "casey", "shelter", "none")
    assert "no longer a member of shelter" in removed.output
    with app_state(app).database.session() as db:
        casey = db.scalars(select(User).where(User.username == "casey")).one()
        assert casey.memberships == []
    recorded = [action for _, action in actions(app)]
    for action in (
        "user.create",
        "role.grant",
        "user.password-reset",
        "role.change",
        "role.remove",
    ):
        assert action in recorded


def test_user_command_errors_are_one_clear_line(run: Invoke, deployment: Deployment) -> None:
    cases = [
        (
            ("users", "add", "casey", "--programme", "shelter"),
            "give --programme and --role together",
        ),
        (("users", "add", "Bad Name"), "lower-case letters"),
        (("users", "reset-password", "ghost"), "There is no user called 'ghost'"),
        (("users", "set-role", "ghost", "shelter", "viewer"), "There is no user called"),
        (
            ("users", "add", "x1", "--programme", "nowhere", "--role", "viewer"),
            "no programme 'nowhere'",
        ),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.exit_code != 0 and message in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_links_and_codes(app: Flask, run: Invoke, deployment: Deployment) -> None:
    created = run("links", "create", "shelter", "minimal", "--site", "Clinic", "--requires-code")
    assert created.exit_code == 0, created.output
    match = re.search(r"created link (\S+):", created.output)
    assert match, created.output
    token = match.group(1)
    listed = run("links", "list", "shelter")
    assert f"{token}\tshelter\tminimal\tClinic\tcodes\ton" in listed.output
    made = run("codes", "create", token, "--count", "4")
    assert made.exit_code == 0, made.output
    codes = [
        line for line in made.output.splitlines() if re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", line)
    ]
    assert len(codes) == 4
    with app_state(app).database.session() as db:
        stored = set(db.scalars(select(AccessCode.code_hash).where(AccessCode.link_token == token)))
    assert stored == {hash_code(code, app_state(app).code_key) for code in codes}
    open_link = deployment.links["minimal"]
    refused = run("codes", "create", open_link, "--count", "4")
    assert refused.exit_code == 1 and "does not ask for access codes" in refused.output
    disabled = run("links", "disable", token)
    assert disabled.exit_code == 0
    with app_state(app).database.session() as db:
        link = db.get(DistributionLink, token)
        assert link is not None and not link.active
    assert run("links", "disable", "nope").exit_code == 1
    bad_site = run("links", "create", "shelter", "minimal", "--site", " ")
    assert bad_site.exit_code == 1 and "site" in bad_site.output
    recorded = [action for _, action in actions(app)]
    assert recorded == ["link.create", "codes.create", "link.disable"]


def test_empty_link_list_and_unknown_accounts_say_what_to_do_at_the_terminal(
    run: Invoke, deployment: Deployment
) -> None:
    run("programmes", "create", "clinic", "--name", "Clinic", "--public-title", "Feedback")
    empty = run("links", "list", "clinic")
    assert empty.exit_code == 0
    assert empty.output.splitlines()[0] == "token\tprogramme\tsurvey\tsite\taccess\tstate"
    assert "no links in clinic" in empty.output and "survey-app links create" in empty.output
    listed = run("links", "list")
    assert listed.output.splitlines()[0].startswith("token\t") and "no links" not in listed.output
    unknown = run("users", "set-role", "nobody", "shelter", "viewer")
    assert unknown.exit_code == 1
    assert "survey-app users add nobody --programme shelter --role viewer" in unknown.output
    assert "page" not in unknown.output
    ghost = run("users", "reset-password", "ghost")
    assert ghost.exit_code == 1 and "survey-app users add ghost" in ghost.output


def test_a_link_token_is_never_read_as_an_option(
    app: Flask, run: Invoke, deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = iter(["-starts-with-a-dash", "Fine-token_abcdef"])
    real = secrets.token_urlsafe
    monkeypatch.setattr(secrets, "token_urlsafe", lambda size: next(drawn, None) or real(size))
    created = run("links", "create", "shelter", "minimal", "--site", "Clinic")
    assert "created link Fine-token_abcdef:" in created.output
    assert run("links", "disable", "Fine-token_abcdef").exit_code == 0
