"""Administration pages: every form's checks and messages, CSRF on every form, the audit log."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select

from survey_app.intake.distribution import create_link, hash_code
from survey_app.models import (
    AccessCode,
    AuditEvent,
    DistributionLink,
    Membership,
    Programme,
    Role,
    User,
)
from survey_app.staff import audit
from survey_app.state import app_state
from tests.support.apps import Deployment
from tests.support.routes import STATIC_SAMPLES
from tests.support.staff import Account, make_account, open_session, post, sign_in

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
def root(app: Flask) -> Account:
    return make_account(app, "root", superadmin=True, totp=True)


@pytest.fixture
def admin(app: Flask, client: FlaskClient, deployment: Deployment, root: Account) -> FlaskClient:
    """A deployment administrator's browser."""
    open_session(app, client, root.id)
    return client


def text(reply: Any) -> str:
    return str(reply.get_data(as_text=True))


def audit_rows(app: Flask) -> list[tuple[str, str, int | None, str]]:
    with app_state(app).database.session() as db:
        return [
            (e.actor, e.action, e.programme_id, e.detail)
            for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


def second_programme(app: Flask) -> int:
    with app_state(app).database.session() as db:
        clinic = Programme(
            slug="clinic", name="Clinic", public_title="F", retention_days=30, help_contacts={}
        )
        db.add(clinic)
        db.flush()
        return clinic.id


def sample_values(app: Flask, deployment: Deployment) -> dict[str, Any]:
    member = make_account(app, "sample", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    with app_state(app).database.session() as db:
        membership_id = db.scalar(select(Membership.id).where(Membership.user_id == member.id))
    return {
        **STATIC_SAMPLES,
        "programme_id": deployment.programme_id,
        "survey_id": "minimal",
        "token": deployment.links["minimal"],
        "user_id": member.id,
        "membership_id": membership_id,
    }


# ------------------------------------------------------------------ CSRF


# Leaving must work even when the session (and its form token) has expired; it only ever
# deletes the draft whose key the request itself carries (tests/test_respondent_safety.py).
# Leaving must work with an expired session; each only ever ends the caller's own session.
CSRF_EXEMPT = {"respond.quick_exit", "offline.quick_exit"}


def test_every_post_route_refuses_a_request_without_csrf_token(
    app: Flask, admin: FlaskClient, deployment: Deployment
) -> None:
    values = sample_values(app, deployment)
    before = audit_rows(app)
    posted = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()) or rule.endpoint in CSRF_EXEMPT:
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})
        reply = admin.post(url, data={"username": "x", "role": "admin", "count": "3"})
        assert reply.status_code == 400, f"{rule.endpoint} accepted a POST without CSRF token"
        assert "This form has expired" in text(reply)
        posted.append(rule.endpoint)
    assert {"admin.new_codes", "admin.remove_member", "auth.sign_out"} <= set(posted)
    assert audit_rows(app) == before


FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S)


def test_every_form_on_every_staff_page_carries_a_csrf_token(
    app: Flask, admin: FlaskClient, deployment: Deployment
) -> None:
    values = sample_values(app, deployment)
    forms_seen = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint.split(".")[0] in {
            "respond",
            "static",
        }:
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})
        page = text(admin.get(url))
        for form in FORM.findall(page):
            if 'method="post"' in form:
                forms_seen += 1
                assert 'name="csrf_token"' in form, f"{url}: a form without CSRF token"
    assert forms_seen >= 10


TABLE = re.compile(r"<table\b")
SCROLLING_TABLE = re.compile(
    r'<div class="table-scroll" role="region" aria-labelledby="[^"]+" tabindex="0">\s*<table\b'
)


def test_staff_tables_scroll_inside_their_own_box_on_a_phone(
    app: Flask, admin: FlaskClient, deployment: Deployment
) -> None:
    """A table wider than a phone must not push the page, and its buttons, off the screen."""
    make_account(app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    with app_state(app).database.session() as db:
        programme = db.get(Programme, deployment.programme_id)
        assert programme is not None
        coded = f"/admin/links/{create_link(db, programme, 'minimal', 'East', requires_code=True).token}"
    post(admin, f"{coded}/codes", {"count": "2"}, page_url=coded)
    tables = 0
    for url in (
        f"/admin/programmes/{deployment.programme_id}",
        "/admin/users",
        "/admin/audit",
        coded,
    ):
        page = text(admin.get(url))
        assert 'href="/static/staff.css"' in page
        assert len(TABLE.findall(page)) == len(SCROLLING_TABLE.findall(page)) > 0, url
        tables += len(TABLE.findall(page))
    assert tables == 5
    css = app.test_client().get("/static/staff.css")
    assert re.search(r"\.table-scroll\{[^}]*overflow-x:auto", css.get_data(as_text=True))
    css.close()


# ------------------------------------------------------------------ programmes


def test_new_programme_form_explains_each_problem(app: Flask, admin: FlaskClient) -> None:
    page = "/admin/programmes/new"
    cases = [
        ({}, ["Give the programme a short id", "Give the programme a name."]),
        (
            {"slug": "Bad Slug!", "name": "X", "public_title": "Feedback", "retention_days": "30"},
            ["cannot be a programme id"],
        ),
        (
            {"slug": "shelter", "name": "X", "public_title": "Feedback", "retention_days": "30"},
            ["already exists"],
        ),
        (
            {"slug": "clinic", "name": "X", "public_title": "Feedback", "retention_days": "0"},
            ["between 1 and 3650 days"],
        ),
        (
            {"slug": "clinic", "name": "X", "public_title": "", "retention_days": "30"},
            ["Give a neutral public title"],
        ),
    ]
    for data, messages in cases:
        reply = post(admin, page, data, page_url=page)
        assert reply.status_code == 422
        for message in messages:
            assert message in text(reply), message
        assert 'class="error-summary"' in text(reply)
    reply = post(
        admin,
        page,
        {
            "slug": "clinic",
            "name": "Legal clinic",
            "public_title": "Feedback",
            "retention_days": "400",
        },
        page_url=page,
    )
    assert reply.status_code == 303
    assert "Legal clinic" in text(admin.get(reply.headers["Location"]))
    assert ("root", "programme.create") in [(a, b) for a, b, _, _ in audit_rows(app)]


def test_programme_settings_are_saved_and_audited(
    app: Flask, admin: FlaskClient, deployment: Deployment
) -> None:
    page = f"/admin/programmes/{deployment.programme_id}"
    bad = post(admin, page, {"name": "", "public_title": "F", "retention_days": "x"}, page_url=page)
    assert bad.status_code == 422 and "Give the programme a name." in text(bad)
    good = post(
        admin,
        page,
        {"name": "City shelter", "public_title": "Survey", "retention_days": "90"},
        page_url=page,
    )
    assert good.status_code == 303
    (event,) = [e for e in audit_rows(app) if e[1] == "programme.change"]
    assert event[2] == deployment.programme_id
    assert "retention days: 365 -> 90" in event[3]


# ------------------------------------------------------------------ accounts and roles


def test_new_account_form_and_temporary_password(
    app: Flask, admin: FlaskClient, deployment: Deployment
) -> None:
    page = "/admin/users/new"
    programme = str(deployment.programme_id)
    empty = post(admin, page, {"programme": programme, "role": "viewer"}, page_url=page)
    assert empty.status_code == 422 and "Give the new account a user name." in text(empty)
    invalid = post(
        admin,
        page,
        {"username": "Bad Name", "programme": programme, "role": "viewer"},
        page_url=page,
    )
    assert invalid.status_code == 422 and "lower-case letters" in text(invalid)
    taken = post(
        admin, page, {"username": "root", "programme": programme, "role": "viewer"}, page_url=page
    )
    assert taken.status_code == 422 and "already exists" in text(taken)
    created = post(
        admin, page, {"username": "vera", "programme": programme, "role": "viewer"}, page_url=page
    )
    assert created.status_code == 200 and "shown this once" in text(created)
    temporary = text(created).split('<p class="secret"><code>')[1].split("<")[0]
    browser = app.test_client()
    assert sign_in(browser, "vera", temporary).status_code == 303
    assert browser.get("/staff/").headers["Location"] == "/auth/password"
    with app_state(app).database.session() as db:
        vera = db.scalars(select(User).where(User.username == "vera")).one()
        assert temporary not in vera.password_hash
        assert [(m.programme_id, m.role) for m in vera.memberships] == [
            (deployment.programme_id, Role.VIEWER)
        ]


def test_members_are_added_changed_and_removed(
    app: Flask, admin: FlaskClient, deployment: Deployment, root: Account
) -> None:
    page = f"/admin/programmes/{deployment.programme_id}"
    add = f"{page}/members"
    unknown = post(admin, add, {"username": "ghost", "role": "viewer"}, page_url=page)
    assert unknown.status_code == 422 and "There is no user called &#39;ghost&#39;" in text(unknown)
    make_account(app, "bea")
    assert post(admin, add, {"username": "bea", "role": "viewer"}, page_url=page).status_code == 303
    again = post(admin, add, {"username": "bea", "role": "analyst"}, page_url=page)
    assert again.status_code == 422 and "already a member of this programme (as viewer)" in text(
        again
    )
    with app_state(app).database.session() as db:
        membership = db.scalars(select(Membership)).one()
    reply = post(
        admin, f"/admin/memberships/{membership.id}/role", {"role": "analyst"}, page_url=page
    )
    assert reply.status_code == 303
    assert "Role changed." in text(admin.get(page))
    reply = post(admin, f"/admin/memberships/{membership.id}/remove", {}, page_url=page)
    assert reply.status_code == 303
    actions = [(action, detail) for _, action, _, detail in audit_rows(app)]
    assert ("role.grant", "bea is viewer of shelter") in actions
    assert ("role.change", "bea: viewer -> analyst") in actions
    assert ("role.remove", "bea is no longer analyst") in actions


def test_nobody_changes_their_own_role(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    me = make_account(app, "adam", role=Role.ADMIN, programme_id=deployment.programme_id, totp=True)
    open_session(app, client, me.id)
    with app_state(app).database.session() as db:
        mine = db.scalar(select(Membership.id).where(Membership.user_id == me.id))
    page = f"/admin/programmes/{deployment.programme_id}"
    reply = post(client, f"/admin/memberships/{mine}/remove", {}, page_url=page)
    assert "You cannot remove yourself" in text(client.get(reply.headers["Location"]))
    with app_state(app).database.session() as db:
        assert db.get(Membership, mine) is not None


def test_account_actions(
    app: Flask, admin: FlaskClient, deployment: Deployment, root: Account
) -> None:
    target = make_account(
        app, "anna", role=Role.ANALYST, programme_id=deployment.programme_id, totp=True
    )
    page = f"/admin/users/{target.id}"
    reply = post(admin, f"{page}/reset-password", {}, page_url=page)
    assert reply.status_code == 200 and "Temporary password" in text(reply)
    assert post(admin, f"{page}/reset-two-factor", {}, page_url=page).status_code == 303
    assert post(admin, f"{page}/active", {"active": "0"}, page_url=page).status_code == 303
    with app_state(app).database.session() as db:
        anna = db.get(User, target.id)
        assert anna is not None
        assert anna.must_change_password and anna.totp_secret is None and not anna.active
    own = f"/admin/users/{root.id}"
    reply = post(admin, f"{own}/active", {"active": "0"}, page_url=own)
    assert "You cannot switch off yourself" in text(admin.get(reply.headers["Location"]))
    actions = [action for _, action, _, _ in audit_rows(app)]
    assert {"user.password-reset", "user.two-factor-reset", "user.deactivate"} <= set(actions)


def test_programme_admin_cannot_manage_someone_who_also_works_elsewhere(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    me = make_account(app, "adam", role=Role.ADMIN, programme_id=deployment.programme_id, totp=True)
    shared = make_account(app, "sam", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    clinic = second_programme(app)
    with app_state(app).database.session() as db:
        db.add(Membership(user_id=shared.id, programme_id=clinic, role=Role.ANALYST))
    open_session(app, client, me.id)
    assert client.get(f"/admin/users/{shared.id}").status_code == 403
    assert client.post(f"/admin/users/{shared.id}/reset-password").status_code in (400, 403)
    assert "sam" in text(client.get("/admin/users"))  # listed, but not manageable here


# ------------------------------------------------------------------ links and codes


def test_links_and_code_cards(app: Flask, admin: FlaskClient, deployment: Deployment) -> None:
    page = f"/admin/programmes/{deployment.programme_id}"
    empty = post(admin, f"{page}/links", {"survey": "minimal", "site": ""}, page_url=page)
    assert empty.status_code == 422 and "Name the site where this link is handed out." in text(
        empty
    )
    open_link = deployment.links["minimal"]
    link_page = f"/admin/links/{open_link}"
    refused = post(admin, f"{link_page}/codes", {"count": "5"}, page_url=link_page)
    assert refused.status_code == 422 and "does not ask for access codes" in text(refused)
    made = post(
        admin,
        f"{page}/links",
        {"survey": "minimal", "site": "Clinic", "requires_code": "y"},
        page_url=page,
    )
    assert made.status_code == 303
    coded_page = made.headers["Location"]
    token = coded_page.rsplit("/", 1)[1]
    too_many = post(admin, f"{coded_page}/codes", {"count": "5001"}, page_url=coded_page)
    assert too_many.status_code == 422 and "between 1 and 5000" in text(too_many)
    cards = post(admin, f"{coded_page}/codes", {"count": "3"}, page_url=coded_page)
    assert cards.status_code == 200
    codes = re.findall(r'class="card-code">([A-Z0-9-]+)<', text(cards))
    assert len(codes) == 3 and f"/s/{token}" in text(cards)
    with app_state(app).database.session() as db:
        hashes = set(db.scalars(select(AccessCode.code_hash).where(AccessCode.link_token == token)))
        assert hashes == {hash_code(code, app_state(app).code_key) for code in codes}
    assert "<td>3</td><td>0</td>" in text(admin.get(coded_page))  # the batch, none used yet
    assert (
        post(admin, f"{link_page}/active", {"active": "0"}, page_url=link_page).status_code == 303
    )
    switched_off = app.test_client().get(f"/s/{open_link}")
    assert switched_off.status_code == 410 and "This survey has closed" in text(switched_off)
    with app_state(app).database.session() as db:
        link = db.get(DistributionLink, open_link)
        assert link is not None and not link.active
    actions = [action for _, action, _, _ in audit_rows(app)]
    assert {"link.create", "codes.create", "link.disable"} <= set(actions)
    assert not any(code in detail for code in codes for *_, detail in audit_rows(app))


# ------------------------------------------------------------------ audit log


def test_audit_log_filters(app: Flask, admin: FlaskClient, deployment: Deployment) -> None:
    clinic = second_programme(app)
    with app_state(app).database.session() as db:
        audit.record(db, "root", "link.create", deployment.programme_id, "shelter link")
        audit.record(db, "root", "link.create", clinic, "clinic link")
        audit.record(db, "casey", "auth.sign-in", None, "with password")
    everything = text(admin.get("/admin/audit"))
    assert "shelter link" in everything and "clinic link" in everything
    assert "with password" in everything and "chain of audit events is intact" in everything
    only = text(admin.get(f"/admin/audit?programme={clinic}"))
    assert "clinic link" in only and "shelter link" not in only
    by_actor = text(admin.get("/admin/audit?actor=casey"))
    assert "with password" in by_actor and "shelter link" not in by_actor
    by_action = text(admin.get("/admin/audit?action=auth.sign-in"))
    assert "with password" in by_action and "clinic link" not in by_action
    later = text(admin.get("/admin/audit?since=2999-01-01"))
    assert "No events match." in later
    bad = admin.get("/admin/audit?since=yesterday")
    assert bad.status_code == 422


def test_programme_admin_sees_only_their_programme_in_the_audit_log(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    clinic = second_programme(app)
    me = make_account(app, "adam", role=Role.ADMIN, programme_id=deployment.programme_id, totp=True)
    with app_state(app).database.session() as db:
        audit.record(db, "root", "link.create", deployment.programme_id, "shelter link")
        audit.record(db, "root", "link.create", clinic, "clinic link")
        audit.record(db, "casey", "auth.sign-in", None, "with password")
    open_session(app, client, me.id)
    page = text(client.get("/admin/audit"))
    assert "shelter link" in page
    assert "clinic link" not in page and "with password" not in page
    assert "chain of audit events" not in page
    sneaky = text(client.get(f"/admin/audit?programme={clinic}"))
    assert "clinic link" not in sneaky


def test_audit_rows_hold_no_address(app: Flask, deployment: Deployment) -> None:
    make_account(app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    sign_in(browser, "casey", "wrong password here")
    sign_in(browser, "casey")
    rows = audit_rows(app)
    assert [action for _, action, _, _ in rows] == ["auth.sign-in-failed", "auth.sign-in"]
    assert not any("203.0.113.9" in " ".join(map(str, row)) for row in rows)


# ------------------------------------------------------------------ error pages


def test_staff_errors_stay_in_the_staff_layout_with_a_way_home(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    caseworker = make_account(
        app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id
    )
    open_session(app, client, caseworker.id)
    for url, status in (
        ("/admin/", 403),
        ("/reports/", 403),
        ("/staff/no-such-page", 404),
        ("/reports/no-such-survey", 404),
        ("/admin/programmes/999", 404),
    ):
        reply = client.get(url)
        page = text(reply)
        assert reply.status_code == status, url
        assert "<title>Sorry · Staff</title>" in page, url
        assert 'aria-label="Staff menu"' in page or status == 404, url
        assert '<a class="button secondary" href="/staff/">Home</a>' in page, url
        assert "Leave this page" not in page and "Feedback" not in page, url
    assert "Your role does not let you open this page." in text(client.get("/admin/"))
    # Respondents' error pages stay neutral, with the quick exit.
    respondent = text(app.test_client().get("/s/no-such-link"))
    assert "<title>Feedback</title>" in respondent and "Leave this page" in respondent
    assert "Staff" not in respondent and 'href="/staff/"' not in respondent


def test_roles_counts_and_key_states_are_said_in_the_pages_language(
    app: Flask, admin: FlaskClient, deployment: Deployment
) -> None:
    member = make_account(app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    french = {"Accept-Language": "fr"}
    page = text(admin.get(f"/admin/programmes/{deployment.programme_id}", headers=french))
    assert "<td>accompagnement</td>" in page and "<td>caseworker</td>" not in page
    assert ": en service," in page
    assert "shelter: accompagnement" in text(admin.get("/admin/users", headers=french))
    assert "shelter programme</a>: accompagnement" in text(
        admin.get(f"/admin/users/{member.id}", headers=french)
    )
    casey = app.test_client()
    open_session(app, casey, member.id)
    assert "Votre rôle\u00a0: accompagnement" in text(casey.get("/staff/", headers=french))
    assert "Your role: caseworker" in text(casey.get("/staff/"))

    with app_state(app).database.session() as db:
        programme = db.get(Programme, deployment.programme_id)
        assert programme is not None
        coded = f"/admin/links/{create_link(db, programme, 'minimal', 'East', requires_code=True).token}"
    cards = text(post(admin, f"{coded}/codes", {"count": "1"}, page_url=coded))
    assert re.search(r"<h1>1 card \(batch [^)]+\)</h1>", cards)


def test_a_programme_without_surveys_says_survey_files_are_read_at_start(
    app: Flask, admin: FlaskClient
) -> None:
    clinic = second_programme(app)
    restart = "Survey files are read when the app starts: after adding a file to the surveys"
    for url in (
        f"/admin/programmes/{clinic}",
        f"/staff/assist?programme={clinic}",
        f"/reports/?programme={clinic}",
    ):
        page = text(admin.get(url))
        assert restart in page, url
    assert "survey-app surveys assign SURVEY clinic" in text(
        admin.get(f"/admin/programmes/{clinic}")
    )
