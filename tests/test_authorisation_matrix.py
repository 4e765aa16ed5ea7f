"""Every route by every kind of visitor: the authorisation matrix.

Each endpoint in the URL map must have a declared access rule (web/access.py). The test then
requests every route, with every method it accepts, as anonymous, as an admin, analyst, viewer
and caseworker of programme A and as a deployment administrator, naming objects of programme A
and of programme B, and checks each answer: allowed, 302 to sign-in, 403 or 404.

The expected answers come from this file's own statement of what each role may do, not from
survey_app.staff.auth, so a change to the role model has to be made in both places on purpose.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule as UrlRule

from survey_app.commands.keys import add_key
from survey_app.config import Settings
from survey_app.intake.distribution import create_link
from survey_app.keys import sealing
from survey_app.models import Membership, Programme, Role, SurveyAssignment, User
from survey_app.state import app_state
from survey_app.web import access
from tests.support.apps import FAST_KDF, PASSPHRASE, SERVED_SURVEYS, make_settings
from tests.support.routes import STATIC_SAMPLES
from tests.support.staff import make_account, open_session

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

# What each role may do, as the issue states it.
GRANTS: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset(
        {
            "manage-programme",
            "manage-members",
            "manage-links",
            "manage-keys",
            "view-audit",
            "enter-responses",
            "view-reports",
        }
    ),
    Role.ANALYST: frozenset(
        {"view-reports", "refresh-reports", "read-free-text", "export-microdata"}
    ),
    Role.VIEWER: frozenset({"view-reports"}),
    Role.CASEWORKER: frozenset({"enter-responses"}),
}
DEPLOYMENT_ONLY = frozenset({"create-programmes"})
# Only these may be reached without signing in.
PUBLIC_ENDPOINTS = {"static", "auth.sign_in", "auth.sign_in_code"}
# The language of the staff pages, chosen on the sign-in page: it only sets the session's language.
PUBLIC_ENDPOINTS |= {"auth.language"}
# The offline page's service worker and manifest (no data, fetched by the browser itself) and
# its quick exit (only ever ends the caller's own session).
OFFLINE_PUBLIC = {"offline.service_worker", "offline.manifest", "offline.quick_exit"}
PUBLIC_ENDPOINTS |= OFFLINE_PUBLIC
# "What you told us": published results given back to the people who answered, at their link.
PUBLIC_ENDPOINTS |= {"results_page.public_page"}
# A survey's pictures and sounds, shown on its respondent pages: files of the survey, no data.
PUBLIC_ENDPOINTS |= {"media.picture"}
PUBLIC_BLUEPRINTS = {"respond"}
# Pages whose whole purpose is administration, assisted entry or unsealed data.
PERMISSION_PREFIXES = {
    "admin.": GRANTS[Role.ADMIN] | DEPLOYMENT_ONLY,
    "assist.": frozenset({"enter-responses"}),
    "offline.": frozenset({"enter-responses"}),
    # Choosing what the public results page shows: those who publish reports.
    "results_page.edit": frozenset({"refresh-reports"}),
    # The policy brief: read where reports are read, written by those who publish reports,
    # quotes approved by those who read the free text.
    "brief.show": frozenset({"view-reports"}),
    "brief.download": frozenset({"view-reports"}),
    "brief.edit": frozenset({"refresh-reports"}),
    "brief.withdraw_quote": frozenset({"refresh-reports"}),
    "brief.approve_quotes": frozenset({"read-free-text"}),
}

# Report pages: published results for anyone who may see them; the key for analysts only.
REPORT_PERMISSIONS = {
    "reports.index": "view-reports",
    "reports.dashboard": "view-reports",
    "reports.printable": "view-reports",
    "reports.breakdowns": "view-reports",
    "reports.download": "view-reports",
    "reports.refresh": "refresh-reports",
    "reports.microdata": "export-microdata",
    "reports.free_text": "read-free-text",
}

ACTORS = ["anonymous", "admin", "analyst", "viewer", "caseworker", "deployment-admin"]
TARGETS = ["A", "B"]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Two surveys, so that each programme has one of its own."""
    surveys = tmp_path / "surveys"
    surveys.mkdir()
    minimal = (SERVED_SURVEYS / "minimal.toml").read_text(encoding="utf-8")
    (surveys / "minimal.toml").write_text(minimal, encoding="utf-8")
    second = minimal.replace('id = "minimal"', 'id = "second"')
    (surveys / "second.toml").write_text(second, encoding="utf-8")
    return make_settings(tmp_path, database_url, surveys_dir=str(surveys))


@dataclass
class World:
    programmes: dict[str, int]
    surveys: dict[str, str]
    tokens: dict[str, str]
    actors: dict[str, int]


def build_world(app: Flask) -> World:
    world = World({}, {}, {}, {})
    with app_state(app).database.session() as db:
        for target, survey_id in (("A", "minimal"), ("B", "second")):
            programme = Programme(
                slug=f"programme-{target.lower()}",
                name=f"Programme {target}",
                public_title="Feedback",
                retention_days=365,
                help_contacts={},
            )
            db.add(programme)
            db.flush()
            add_key(
                db, programme, sealing.generate_key(PASSPHRASE, kdf=FAST_KDF), keep_private=True
            )
            db.add(SurveyAssignment(id=survey_id, programme_id=programme.id))
            db.flush()
            link = create_link(db, programme, survey_id, f"Site {target}", requires_code=True)
            world.programmes[target] = programme.id
            world.surveys[target] = survey_id
            world.tokens[target] = link.token
    for name, role in (
        ("admin", Role.ADMIN),
        ("analyst", Role.ANALYST),
        ("viewer", Role.VIEWER),
        ("caseworker", Role.CASEWORKER),
    ):
        account = make_account(
            app,
            name,
            role=role,
            programme_id=world.programmes["A"],
            totp=role in (Role.ADMIN, Role.ANALYST),
        )
        world.actors[name] = account.id
    world.actors["deployment-admin"] = make_account(
        app, "deployment-admin", superadmin=True, totp=True
    ).id
    return world


_member_numbers = itertools.count()


def fresh_member(app: Flask, programme_id: int) -> tuple[int, int]:
    """A caseworker account of one programme only: (user id, membership id).

    Made anew for every request, so that a request that removes or changes one cannot change
    the answer to the next.
    """
    with app_state(app).database.session() as db:
        user = User(
            username=f"member{next(_member_numbers)}",
            password_hash="not a usable hash",
            is_superadmin=False,
            active=True,
            failed_logins=0,
            must_change_password=False,
            session_epoch=0,
        )
        membership = Membership(user=user, programme_id=programme_id, role=Role.CASEWORKER)
        db.add(user)
        db.flush()
        return user.id, membership.id


def url_values(app: Flask, world: World, url_rule: UrlRule, target: str) -> dict[str, Any]:
    user_id, membership_id = fresh_member(app, world.programmes[target])
    samples: dict[str, Any] = {
        **STATIC_SAMPLES,
        "programme_id": world.programmes[target],
        "survey_id": world.surveys[target],
        "token": world.tokens[target],
        "user_id": user_id,
        "membership_id": membership_id,
        "filename": "site.css",
    }
    missing = set(url_rule.arguments) - set(samples)
    assert not missing, (
        f"{url_rule.endpoint}: add sample values for {sorted(missing)} to STATIC_SAMPLES "
        "in tests/support/routes.py"
    )
    return {name: samples[name] for name in url_rule.arguments}


def expected(rule: access.Rule, actor: str, target: str) -> str:
    if rule.public:
        return "public"
    if actor == "anonymous":
        return "sign-in"
    if rule.permission is None:
        return "allowed"
    permission = rule.permission.value
    deployment_admin = actor == "deployment-admin"
    held = GRANTS[Role.ADMIN] | DEPLOYMENT_ONLY if deployment_admin else GRANTS[Role(actor)]
    if rule.scope in (access.Scope.NONE, access.Scope.ANY_PROGRAMME):
        if permission in DEPLOYMENT_ONLY:
            return "allowed" if deployment_admin else "forbidden"
        return "allowed" if permission in held else "forbidden"
    if rule.scope is access.Scope.USER:
        # The account named belongs to the target programme only.
        if deployment_admin:
            return "allowed"
        if target == "B":
            return "missing"
        return "allowed" if "manage-members" in held else "forbidden"
    if target == "A" or deployment_admin:
        return "allowed" if permission in held else "forbidden"
    return "missing"  # programme B's objects do not exist for programme A's staff


def outcome(reply: Any) -> str:
    status = reply.status_code
    location = reply.headers.get("Location", "")
    if status == 302 and location.startswith("/auth/sign-in?next="):
        return "sign-in"
    if status == 403:
        return "forbidden"
    if status == 404:
        return "missing"
    if status >= 500 or status == 400:
        return f"unexpected {status}"
    return "allowed"


def agrees(expectation: str, result: str) -> bool:
    if expectation == "public":
        return result in ("allowed", "missing", "sign-in")
    return expectation == result


def routes(app: Flask) -> Iterator[tuple[UrlRule, str]]:
    for url_rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        for method in sorted((url_rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield url_rule, method


def undeclared(app: Flask) -> list[str]:
    return sorted(
        {r.endpoint for r in app.url_map.iter_rules() if access.rule_for(app, r.endpoint) is None}
    )


def test_every_endpoint_has_a_declared_rule(app: Flask) -> None:
    assert undeclared(app) == [], "declare an access rule for these endpoints (web/access.py)"


def test_a_new_route_without_a_rule_is_caught(app: Flask) -> None:
    @app.get("/forgotten")
    def forgotten() -> str:
        return "no rule"

    assert undeclared(app) == ["forgotten"]


def test_only_the_sign_in_pages_and_respondent_pages_are_public(app: Flask) -> None:
    public = {
        r.endpoint
        for r in app.url_map.iter_rules()
        if access.rule_for(app, r.endpoint).public  # type: ignore[union-attr]
    }
    unexpected = {
        e for e in public if e not in PUBLIC_ENDPOINTS and e.split(".")[0] not in PUBLIC_BLUEPRINTS
    }
    assert unexpected == set()


def test_administration_and_assisted_entry_need_their_permissions(app: Flask) -> None:
    for url_rule in app.url_map.iter_rules():
        for prefix, allowed in PERMISSION_PREFIXES.items():
            if url_rule.endpoint.startswith(prefix) and url_rule.endpoint not in OFFLINE_PUBLIC:
                rule = access.rule_for(app, url_rule.endpoint)
                assert rule is not None and rule.permission is not None, url_rule.endpoint
                assert rule.permission.value in allowed, url_rule.endpoint


def test_report_pages_need_their_permissions(app: Flask) -> None:
    declared = {
        r.endpoint: access.rule_for(app, r.endpoint)
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith("reports.")
    }
    assert set(declared) == set(REPORT_PERMISSIONS), "state each report page's permission here"
    for endpoint, rule in declared.items():
        assert rule is not None and rule.permission is not None, endpoint
        assert rule.permission.value == REPORT_PERMISSIONS[endpoint], endpoint


def test_authorisation_matrix(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own test; here only access counts
    world = build_world(app)
    failures: list[str] = []
    cells = 0
    for url_rule, method in routes(app):
        rule = access.rule_for(app, url_rule.endpoint)
        assert rule is not None, f"{url_rule.endpoint} has no declared rule"
        for actor, target in itertools.product(ACTORS, TARGETS):
            client: FlaskClient = app.test_client()
            if actor != "anonymous":
                open_session(app, client, world.actors[actor])
            values = url_values(app, world, url_rule, target)
            with app.test_request_context():
                url = url_for(url_rule.endpoint, **values)
            reply = client.open(url, method=method, data={} if method == "POST" else None)
            want, got = expected(rule, actor, target), outcome(reply)
            reply.close()
            cells += 1
            if not agrees(want, got):
                failures.append(
                    f"{method} {url} ({url_rule.endpoint}) as {actor}, programme {target}: "
                    f"expected {want}, got {got} ({reply.status_code})"
                )
    assert cells > 300
    assert not failures, "\n".join(failures)
