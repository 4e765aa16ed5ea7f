"""A GET never changes what the server keeps: state changes only by POST, with CSRF.

Every route that answers GET is opened as every kind of visitor (with real ids, so the views
run to the end), and every table is compared before and after. An audit row that records a
download of published results is the one allowed exception: it changes nothing anyone acts
on, and recording such reads is what the audit log is for.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from survey_app.db import Base
from survey_app.models import AuditEvent
from survey_app.state import app_state
from tests.support.apps import Deployment
from tests.support.web import Respondent
from tests.test_fuzz import known_values, visitors

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

READS_AUDITED = {"report.download", "brief.download"}


def snapshot(app: Flask) -> dict[str, list[tuple[object, ...]]]:
    with app_state(app).database.session() as db:
        return {
            table.name: sorted(
                (tuple(map(repr, row)) for row in db.execute(select(table))), key=repr
            )
            for table in Base.metadata.sorted_tables
            if table.name != AuditEvent.__tablename__
        }


def audit_actions(app: Flask) -> list[str]:
    with app_state(app).database.session() as db:
        return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_no_get_changes_state(app: Flask, deployment: Deployment) -> None:
    everyone = visitors(app, deployment)
    known = known_values(app, deployment)
    # A respondent half-way through, so that pages about drafts have one to act on.
    respondent = everyone[0].client
    Respondent(respondent, deployment.links["minimal"]).start()
    rules = [r for r in app.url_map.iter_rules() if "GET" in (r.methods or set())]
    changed = []
    for rule in sorted(rules, key=lambda r: r.rule):
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:[a-z]+:)?{name}>", known[name], path)
        for visitor in everyone:
            before, actions = snapshot(app), len(audit_actions(app))
            visitor.client.get(path).close()
            after = snapshot(app)
            new_actions = set(audit_actions(app)[actions:]) - READS_AUDITED
            if after != before or new_actions:
                tables = [t for t in before if before[t] != after[t]]
                changed.append(f"GET {path} as {visitor.name}: {tables} {sorted(new_actions)}")
    assert changed == []
