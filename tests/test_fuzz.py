"""Malformed requests over every route, as every visitor: a 4xx each time, never a 5xx.

SURVEY_FUZZ_REQUESTS sets how many are sent (a few hundred by default, so the suite stays
quick on each database); benchmarks/fuzz.py sends the full 5,000+ on both databases.
"""

from __future__ import annotations

import os

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey_app.models import Membership, Role
from survey_app.state import app_state
from tests.support.apps import Deployment
from tests.support.fuzzing import Fuzzer, Visitor
from tests.support.routes import STATIC_SAMPLES
from tests.support.staff import make_account, open_session

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

REQUESTS = int(os.environ.get("SURVEY_FUZZ_REQUESTS", "400"))


def visitors(app: Flask, deployment: Deployment) -> list[Visitor]:
    """Someone not signed in, and one account of each role, signed in."""
    programme = deployment.programme_id
    accounts = {
        "caseworker": make_account(app, "carla", role=Role.CASEWORKER, programme_id=programme),
        "viewer": make_account(app, "vic", role=Role.VIEWER, programme_id=programme),
        "analyst": make_account(app, "anna", role=Role.ANALYST, programme_id=programme, totp=True),
        "programme admin": make_account(
            app, "adam", role=Role.ADMIN, programme_id=programme, totp=True
        ),
        "deployment admin": make_account(app, "root", superadmin=True, totp=True),
    }
    found = [Visitor("anonymous", app.test_client())]
    for name, account in accounts.items():
        client = app.test_client()

        def renew(client: FlaskClient = client, user_id: int = account.id) -> None:
            open_session(app, client, user_id)

        renew()
        found.append(Visitor(name, client, renew))
    return found


def known_values(app: Flask, deployment: Deployment) -> dict[str, str]:
    with app_state(app).database.session() as db:
        membership = db.scalars(select(Membership)).first()
        assert membership is not None
        return {
            "token": deployment.links["minimal"],
            "survey_id": "minimal",
            "programme_id": str(deployment.programme_id),
            "membership_id": str(membership.id),
            "user_id": str(membership.user_id),
            **STATIC_SAMPLES,
        }


def test_malformed_requests_over_every_route_never_get_a_server_error(
    app: Flask, deployment: Deployment
) -> None:
    everyone = visitors(app, deployment)
    fuzzer = Fuzzer(app, everyone, known_values(app, deployment))
    result = fuzzer.run(REQUESTS)
    assert result.server_errors == []
    assert result.sent == REQUESTS
    # Every route was reached, and what came back was mostly refusals.
    assert set(result.routes) == {rule.endpoint for rule in fuzzer.rules()}
    assert sum(n for status, n in result.statuses.items() if 400 <= status < 500) > REQUESTS / 2
