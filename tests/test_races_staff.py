"""Staff sign-in requests sent at the same moment, against the app served for real.

Ten wrong passwords at once must lock the account after the fifth, and one TOTP code sent to
six pending sign-ins at once must let exactly one of them in. Each browser comes from its own
loopback address, as an attacker with many addresses would, so the per-client limit on sign-in
attempts is not what stops them.
"""

from __future__ import annotations

from functools import partial

import pyotp
from flask import Flask
from sqlalchemy import select

from survey_app.models import AuditEvent, Role, User
from survey_app.state import app_state
from tests.support.apps import Deployment
from tests.support.served import Browser, Reply, at_once, served
from tests.support.staff import PASSWORD, make_account


def audit_actions(app: Flask, username: str) -> list[str]:
    with app_state(app).database.session() as db:
        return list(
            db.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.actor == username)
                .order_by(AuditEvent.id)
            )
        )


def sign_in_form(browser: Browser) -> str:
    return browser.get("/auth/sign-in").csrf()


def send_password(browser: Browser, csrf: str, username: str, password: str) -> Reply:
    return browser.post(
        "/auth/sign-in", {"username": username, "password": password, "csrf_token": csrf}
    )


def test_ten_wrong_passwords_at_once_lock_the_account_after_the_fifth(
    app: Flask, deployment: Deployment
) -> None:
    make_account(app, "carla", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    with served(app) as address:
        browsers = [Browser(address, source=f"127.0.1.{i + 1}") for i in range(10)]
        forms = [sign_in_form(browser) for browser in browsers]
        replies = at_once(
            [
                partial(send_password, browser, csrf, "carla", f"wrong guess {i}")
                for i, (browser, csrf) in enumerate(zip(browsers, forms, strict=True))
            ]
        )
        assert [reply.status for reply in replies] == [422] * 10
        # The right password, from yet another address, is now refused too.
        late = Browser(address, source="127.0.1.100")
        refused = send_password(late, sign_in_form(late), "carla", PASSWORD)
    assert refused.status == 422
    assert "do not match, or the account is locked" in refused.text
    with app_state(app).database.session() as db:
        user = db.scalar(select(User).where(User.username == "carla"))
        assert user is not None and user.locked_until is not None
    actions = audit_actions(app, "carla")
    assert actions.count("auth.locked") == 1
    assert actions.index("auth.locked") == 4  # the fifth failure set the lock
    assert len(actions) == 11 and "auth.sign-in" not in actions


def test_one_code_sent_to_six_pending_sign_ins_at_once_is_accepted_once(
    app: Flask, deployment: Deployment
) -> None:
    analyst = make_account(
        app, "anna", role=Role.ANALYST, programme_id=deployment.programme_id, totp=True
    )
    assert analyst.totp_secret
    with served(app) as address:
        browsers = [Browser(address, source=f"127.0.2.{i + 1}") for i in range(6)]
        for browser in browsers:
            reply = send_password(browser, sign_in_form(browser), "anna", PASSWORD)
            assert reply.status == 303 and reply.location.endswith("/auth/sign-in/code")
        forms = [browser.get("/auth/sign-in/code").csrf() for browser in browsers]
        code = pyotp.TOTP(analyst.totp_secret).now()
        replies = at_once(
            [
                partial(browser.post, "/auth/sign-in/code", {"code": code, "csrf_token": csrf})
                for browser, csrf in zip(browsers, forms, strict=True)
            ]
        )
        statuses = sorted(reply.status for reply in replies)
        assert statuses == [303, 422, 422, 422, 422, 422], statuses
        home = [browser.get("/staff/") for browser in browsers]
    assert sorted(page.status for page in home) == [200, 302, 302, 302, 302, 302]
    for reply in replies:
        if reply.status == 422:
            # Replayed codes count as failures: the fifth replay locks the account.
            assert "already been used" in reply.text or "account is locked" in reply.text
    assert audit_actions(app, "anna").count("auth.sign-in") == 1
