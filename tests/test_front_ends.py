"""The command line and the web do each shared action through one service: same checks, same audit.

Every action the code writes to the audit log is listed here, either as done by both front ends
(and then done both ways on two identical deployments, whose audit trails must match) or as
done by one of them, with the reason.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from survey_app import create_app
from survey_app.config import Settings
from survey_app.models import AuditEvent, DistributionLink, Membership, Programme, Role, User
from survey_app.operations.sample_data import store_generated
from survey_app.reports import formats
from survey_app.staff import programme_admin
from survey_app.staff.audit import Actor
from survey_app.state import app_state
from tests.support.apps import PASSPHRASE, ROOT, Deployment, deploy, make_settings
from tests.support.cli import run
from tests.support.custody import passphrase_file
from tests.support.databases import TEST_DB, DatabaseTemplates, fresh_database_url
from tests.support.staff import make_account, open_session, post

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

PACKAGE = ROOT / "survey_app"
FRONT_ENDS = (PACKAGE / "web", PACKAGE / "commands")


@dataclass
class Site:
    """One deployment, used through one front end."""

    app: Flask
    settings: Settings
    deployment: Deployment
    folder: Path
    admin: FlaskClient
    analyst: FlaskClient

    def cli(self, *args: str) -> Result:
        result = run(self.settings, *args)
        assert result.exit_code == 0, (args, result.output)
        return result

    def cli_refused(self, *args: str) -> Result:
        result = run(self.settings, *args)
        assert result.exit_code == 1, (args, result.output)
        assert "Traceback" not in result.output
        return result

    def web(self, client: FlaskClient, url: str, data: dict[str, object]) -> TestResponse:
        reply = post(client, url, data, page_url=_form_page(url))
        assert reply.status_code in (200, 303), (url, reply.status_code)
        return reply

    def web_refused(self, client: FlaskClient, url: str, data: dict[str, object]) -> str:
        reply = post(client, url, data, page_url=_form_page(url))
        assert reply.status_code == 422, (url, reply.status_code)
        return reply.get_data(as_text=True)

    def passphrase_file(self, secret: str = PASSPHRASE) -> str:
        return str(passphrase_file(self.folder, secret, f"passphrase-{len(secret)}"))

    def user_id(self, username: str) -> int:
        with app_state(self.app).database.session() as db:
            found = db.scalar(select(User.id).where(User.username == username))
            assert found is not None
            return found

    def membership_id(self, username: str) -> int:
        with app_state(self.app).database.session() as db:
            found = db.scalar(select(Membership.id).join(User).where(User.username == username))
            assert found is not None
            return found

    def link_token(self) -> str:
        """The newest link of the programme that was not made by `deploy`."""
        with app_state(self.app).database.session() as db:
            tokens = set(db.scalars(select(DistributionLink.token)))
        made = tokens - set(self.deployment.links.values())
        assert len(made) == 1, made
        return made.pop()

    def last_event(self) -> int:
        with app_state(self.app).database.session() as db:
            return db.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc())) or 0

    def trail(self, after: int) -> list[tuple[str, int | None, str]]:
        """(action, programme, detail) of each event after `after`, with what is random in it
        (link tokens, code batches, timestamps) replaced by what it is."""
        with app_state(self.app).database.session() as db:
            tokens = set(db.scalars(select(DistributionLink.token)))
            events = db.scalars(select(AuditEvent).where(AuditEvent.id > after).order_by("id"))
            trail = []
            for event in events:
                detail = event.detail
                for token in tokens:
                    detail = detail.replace(token, "<link>")
                detail = re.sub(r"batch [A-Za-z0-9_-]+", "batch <batch>", detail)
                detail = re.sub(r"\d{4}-\d\d-\d\dT[0-9:.+]+", "<time>", detail)
                trail.append((event.action, event.programme_id, detail))
            return trail


def _form_page(url: str) -> str:
    """A page of the same area, whose form gives the session's CSRF token."""
    return "/admin/programmes/new" if url.startswith("/admin") else "/staff/"


@pytest.fixture
def sites(tmp_path: Path, database_templates: DatabaseTemplates) -> Iterator[dict[str, Site]]:
    made: dict[str, Site] = {}
    opened: list[Iterator[str]] = []
    for name in ("cli", "web"):
        folder = tmp_path / name
        folder.mkdir()
        urls = fresh_database_url(TEST_DB, folder, database_templates)
        opened.append(urls)
        settings = make_settings(folder, next(urls))
        app = create_app(settings)
        deployment = deploy(app)
        state = app_state(app)
        store_generated(state.database, state.surveys["minimal"], 60)
        admin = make_account(app, "root", superadmin=True, totp=True)
        analyst = make_account(
            app, "ana", role=Role.ANALYST, programme_id=deployment.programme_id, totp=True
        )
        clients = []
        for account in (admin, analyst):
            client = app.test_client()
            open_session(app, client, account.id)
            clients.append(client)
        made[name] = Site(app, settings, deployment, folder, *clients)
    yield made
    for site in made.values():
        app_state(site.app).database.dispose()
    for urls in opened:
        for _ in urls:  # runs the cleanup after the yield
            pass


def _requires_code_link(site: Site) -> None:
    with app_state(site.app).database.session() as db:
        programme = db.get(Programme, site.deployment.programme_id)
        assert programme is not None
        programme_admin.create_link(
            db, Actor("setup"), programme, "minimal", "Clinic", requires_code=True
        )


def _casey(site: Site) -> None:
    make_account(site.app, "casey")


def _switched_off_link(site: Site) -> None:
    _requires_code_link(site)
    site.cli("links", "disable", site.link_token())


def _casey_viewer(site: Site) -> None:
    _casey(site)
    site.cli("users", "set-role", "casey", "shelter", "viewer")


def _published(site: Site) -> None:
    site.cli("report", "refresh", "minimal", "--passphrase-file", site.passphrase_file())


@dataclass(frozen=True)
class Both:
    """An action both front ends offer: how each does it, after the same set-up."""

    cli: Callable[[Site], object]
    web: Callable[[Site], object]
    setup: Callable[[Site], None] = lambda site: None


SHELTER = "/admin/programmes/1"

BOTH: dict[str, Both] = {
    "programme.create": Both(
        cli=lambda s: s.cli(
            "programmes", "create", "clinic", "--name", "Clinic", "--retention-days", "365"
        ),
        web=lambda s: s.web(
            s.admin,
            "/admin/programmes/new",
            {"slug": "clinic", "name": "Clinic", "public_title": "Feedback", "retention_days": 365},
        ),
    ),
    "link.create": Both(
        cli=lambda s: s.cli("links", "create", "shelter", "minimal", "--site", "Clinic"),
        web=lambda s: s.web(s.admin, f"{SHELTER}/links", {"survey": "minimal", "site": "Clinic"}),
    ),
    "link.disable": Both(
        setup=_requires_code_link,
        cli=lambda s: s.cli("links", "disable", s.link_token()),
        web=lambda s: s.web(s.admin, f"/admin/links/{s.link_token()}/active", {"active": "0"}),
    ),
    "link.enable": Both(
        setup=_switched_off_link,
        cli=lambda s: s.cli("links", "enable", s.link_token()),
        web=lambda s: s.web(s.admin, f"/admin/links/{s.link_token()}/active", {"active": "1"}),
    ),
    "codes.create": Both(
        setup=_requires_code_link,
        cli=lambda s: s.cli("codes", "create", s.link_token(), "--count", "3"),
        web=lambda s: s.web(s.admin, f"/admin/links/{s.link_token()}/codes", {"count": 3}),
    ),
    "user.create": Both(
        cli=lambda s: s.cli("users", "add", "casey", "--programme", "shelter", "--role", "viewer"),
        web=lambda s: s.web(
            s.admin, "/admin/users/new", {"username": "casey", "programme": 1, "role": "viewer"}
        ),
    ),
    "user.password-reset": Both(
        setup=_casey,
        cli=lambda s: s.cli("users", "reset-password", "casey"),
        web=lambda s: s.web(s.admin, f"/admin/users/{s.user_id('casey')}/reset-password", {}),
    ),
    "user.two-factor-reset": Both(
        setup=_casey,
        cli=lambda s: s.cli("users", "reset-password", "casey", "--two-factor"),
        web=lambda s: (
            s.web(s.admin, f"/admin/users/{s.user_id('casey')}/reset-password", {}),
            s.web(s.admin, f"/admin/users/{s.user_id('casey')}/reset-two-factor", {}),
        ),
    ),
    "role.grant": Both(
        setup=_casey,
        cli=lambda s: s.cli("users", "set-role", "casey", "shelter", "caseworker"),
        web=lambda s: s.web(
            s.admin, f"{SHELTER}/members", {"username": "casey", "role": "caseworker"}
        ),
    ),
    "role.change": Both(
        setup=_casey_viewer,
        cli=lambda s: s.cli("users", "set-role", "casey", "shelter", "analyst"),
        web=lambda s: s.web(
            s.admin, f"/admin/memberships/{s.membership_id('casey')}/role", {"role": "analyst"}
        ),
    ),
    "role.remove": Both(
        setup=_casey_viewer,
        cli=lambda s: s.cli("users", "set-role", "casey", "shelter", "none"),
        web=lambda s: s.web(s.admin, f"/admin/memberships/{s.membership_id('casey')}/remove", {}),
    ),
    "report.refresh": Both(
        cli=_published,
        web=lambda s: s.web(s.analyst, "/reports/minimal/refresh", {"passphrase": PASSPHRASE}),
    ),
    "key.unlock.refused": Both(
        cli=lambda s: s.cli_refused(
            "report", "refresh", "minimal", "--passphrase-file", s.passphrase_file("wrong!")
        ),
        web=lambda s: s.web_refused(
            s.analyst, "/reports/minimal/refresh", {"passphrase": "wrong!"}
        ),
    ),
    "report.microdata": Both(
        cli=lambda s: s.cli(
            "report",
            "microdata",
            "minimal",
            "--output",
            str(s.folder / "microdata.csv"),
            "--passphrase-file",
            s.passphrase_file(),
        ),
        web=lambda s: s.web(s.analyst, "/reports/minimal/microdata", {"passphrase": PASSPHRASE}),
    ),
    "report.download": Both(
        setup=_published,
        cli=lambda s: s.cli(
            "report", "export", "minimal", "--format", "xlsx", "-o", str(s.folder / "r.xlsx")
        ),
        web=lambda s: s.analyst.get("/reports/minimal/report.xlsx"),
    ),
}

# Actions only one front end offers, and why.
ONE_FRONT_END: dict[str, str] = {
    "auth.sign-in": "web: staff sign in to the web pages only",
    "auth.sign-in-failed": "web: staff sign in to the web pages only",
    "auth.sign-out": "web: staff sign in to the web pages only",
    "auth.locked": "web: staff sign in to the web pages only",
    "auth.password-change": "web: people choose their own password at sign-in",
    "user.two-factor-enrol": "web: people enrol their own phone at sign-in",
    "user.activate": "web: the accounts page switches accounts on and off",
    "user.deactivate": "web: the accounts page switches accounts on and off",
    "programme.change": "web: the programme page edits a programme's details",
    "report.free-text": "web: free text is read on screen only, never written to a file",
    "brief.download": "web: the brief is read and downloaded beside its printable page; the "
    "terminal exports the report's tables",
    "brief.change": "web: the key findings are written and the brief published on its own form",
    "brief.quote-approve": "web: a quote is approved while reading the redacted free text, "
    "which is read on screen only",
    "brief.quote-withdraw": "web: quotes are withdrawn on the brief's form",
    "results-page.change": "web: the analyst picks the results shown and writes what is done "
    "about them, per language, on the page's own form",
    "role.request": "web: a programme admin asks a deployment administrator to add an account "
    "from elsewhere; at the terminal the operator adds people directly",
    "programme.help": "cli: help contacts are set from a reviewed file",
    "survey.assign": "cli: surveys are assigned by the operator who deploys the survey files",
    "key.create": "cli: keys are made and kept by the operator",
    "key.rotate": "cli: keys are made and kept by the operator",
    "key.passphrase": "cli: keys are made and kept by the operator",
    "key.destroy": "cli: keys are made and kept by the operator",
    "key.reseal.start": "cli: keys are made and kept by the operator",
    "key.reseal.finish": "cli: keys are made and kept by the operator",
    "key.unlock": "cli: `report counts` and `keys verify` are operator checks",
    "retention.purge": "cli: run daily by the operator's scheduler",
    "backup": "cli: the operator backs up and restores the database",
    "restore": "cli: the operator backs up and restores the database",
}

# Front-end modules that still write audit rows themselves, each with the action and why.
RECORDED_BY_A_FRONT_END = {
    ("commands/maintenance.py", "backup"),
    ("commands/maintenance.py", "restore"),
}


def audit_calls(folder: Path) -> Iterator[tuple[Path, str]]:
    """(file, action) for every `audit.record(...)` in the package, with the action resolved
    when it is a literal, a conditional of literals, a local name bound to those, or the
    `audit_action` of a download format (every format's in `reports.formats`)."""
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            bound: dict[str, list[ast.expr]] = {}
            for node in ast.walk(function):
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                    bound.setdefault(node.targets[0].id, []).append(node.value)
            for node in ast.walk(function):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "record"
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "audit"
                ):
                    continue
                pending = [node.args[2]] if len(node.args) > 2 else []
                pending += [k.value for k in node.keywords if k.arg == "action"]
                while pending:
                    value = pending.pop()
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        yield path, value.value
                    elif isinstance(value, ast.IfExp):
                        pending += [value.body, value.orelse]
                    elif isinstance(value, ast.Name) and value.id in bound:
                        pending += bound[value.id]
                    elif isinstance(value, ast.Attribute) and value.attr == "audit_action":
                        # A download's event comes from its format in the map of formats.
                        for export_format in formats.FORMATS.values():
                            yield path, export_format.audit_action
                    else:
                        pytest.fail(f"{path}:{node.lineno}: cannot tell which action is audited")


def test_every_audited_action_is_listed_with_its_front_ends() -> None:
    audited = {action for _, action in audit_calls(PACKAGE)}
    assert audited, "no audit.record call found: has the audit API changed?"
    assert not set(BOTH) & set(ONE_FRONT_END)
    assert audited == set(BOTH) | set(ONE_FRONT_END), (
        "list each audited action in BOTH (and do it both ways) or in ONE_FRONT_END (and say why)"
    )


def test_front_ends_leave_auditing_to_the_services() -> None:
    recorded = {
        (str(path.relative_to(PACKAGE)), action)
        for folder in FRONT_ENDS
        for path, action in audit_calls(folder)
    }
    assert recorded == RECORDED_BY_A_FRONT_END


@pytest.mark.parametrize("action", sorted(BOTH))
def test_both_front_ends_leave_the_same_audit_trail(action: str, sites: dict[str, Site]) -> None:
    trails = {}
    for name, site in sites.items():
        case = BOTH[action]
        case.setup(site)
        before = site.last_event()
        (case.cli if name == "cli" else case.web)(site)
        trails[name] = site.trail(before)
    assert action in [event[0] for event in trails["cli"]], trails["cli"]
    assert trails["cli"] == trails["web"]


@pytest.mark.parametrize(
    ("option", "field", "value", "cli_message", "web_message"),
    [
        ("--name", "name", "N" * 201, "Give the programme a name", "Keep the name under 200"),
        ("--public-title", "public_title", " ", "Give a neutral public title", "Give a neutral"),
        ("--retention-days", "retention_days", "99999", "between 1 and 3650", "between 1 and 3650"),
        ("--retention-days", "retention_days", "0", "between 1 and 3650", "between 1 and 3650"),
    ],
)
def test_both_front_ends_refuse_the_same_programmes(
    option: str,
    field: str,
    value: str,
    cli_message: str,
    web_message: str,
    sites: dict[str, Site],
) -> None:
    values = {"--name": "Clinic", "--public-title": "Feedback", "--retention-days": "365"}
    values[option] = value
    flags = [part for pair in values.items() for part in pair]
    refused = sites["cli"].cli_refused("programmes", "create", "clinic", *flags)
    assert cli_message in refused.output
    form: dict[str, object] = {
        "slug": "clinic",
        "name": "Clinic",
        "public_title": "Feedback",
        "retention_days": 365,
        field: value,
    }
    assert web_message in sites["web"].web_refused(
        sites["web"].admin, "/admin/programmes/new", form
    )
    for site in sites.values():
        with app_state(site.app).database.session() as db:
            assert db.scalar(select(Programme).where(Programme.slug == "clinic")) is None
