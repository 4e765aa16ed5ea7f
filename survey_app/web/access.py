"""Who may open which page: one declared rule per endpoint, enforced before every view.

A view declares its rule with the `rule` decorator (or, for endpoints defined elsewhere, an
entry in `ENDPOINT_RULES` or `BLUEPRINT_RULES`). An endpoint without a rule is refused with 403,
and fails tests/test_authorisation_matrix.py, which requests every route as every role.

Answers, in order:
- public endpoints: no check at all;
- nobody signed in: 302 to the sign-in page;
- a password change or two-step enrolment is due: 302 there (except to the pages that do it);
- the object named in the URL does not exist: 404;
- the permission is missing: 403 when the object is in one of the user's programmes (or the
  user is a deployment administrator), else 404, so programmes do not learn of each other.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from werkzeug.wrappers import Response as BaseResponse

from ..models import DistributionLink, Membership, Programme, SurveyAssignment, User
from ..staff import audit, auth
from ..staff.auth import Permission
from ..state import app_state
from . import sessions

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


class Scope(enum.Enum):
    """Where a permission is checked, and which URL argument names the object."""

    NONE = "none"  # no programme: a deployment-wide permission, or any signed-in user
    ANY_PROGRAMME = "any programme"  # held in at least one programme (lists, menus)
    PROGRAMME = "programme_id"
    SURVEY = "survey_id"
    LINK = "token"
    MEMBERSHIP = "membership_id"
    USER = "user_id"  # a staff account: see auth.can_manage_user


@dataclass(frozen=True)
class Rule:
    permission: Permission | None = None
    scope: Scope = Scope.NONE
    public: bool = False
    # Reachable while a password change or two-step enrolment is still due.
    during_setup: bool = False


PUBLIC = Rule(public=True)
SIGNED_IN = Rule()
SETUP = Rule(during_setup=True)

ENDPOINT_RULES: dict[str, Rule] = {"static": PUBLIC}
BLUEPRINT_RULES: dict[str, Rule] = {"respond": PUBLIC}
RULE_ATTRIBUTE = "access_rule"


def rule(
    permission: Permission | None = None,
    scope: Scope = Scope.NONE,
    *,
    public: bool = False,
    during_setup: bool = False,
) -> Callable[[F], F]:
    """Declare who may use the decorated view."""
    declared = Rule(permission, scope, public, during_setup)

    def decorate(view: F) -> F:
        setattr(view, RULE_ATTRIBUTE, declared)
        return view

    return decorate


def rule_for(app: Flask, endpoint: str) -> Rule | None:
    view = app.view_functions.get(endpoint)
    declared = getattr(view, RULE_ATTRIBUTE, None)
    if isinstance(declared, Rule):
        return declared
    if endpoint in ENDPOINT_RULES:
        return ENDPOINT_RULES[endpoint]
    blueprint, _dot, _name = endpoint.rpartition(".")
    return BLUEPRINT_RULES.get(blueprint)


def init_app(app: Flask) -> None:
    app.before_request(_enforce)


def current_user() -> User:
    """The signed-in user of a non-public view (the rule has already been enforced)."""
    user: User = g.staff_user
    return user


def actor() -> audit.Actor:
    user = current_user()
    return audit.Actor(user.username, user.id)


def _enforce() -> BaseResponse | None:
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: the 404 or 405 follows
        return None
    declared = rule_for(current_app, endpoint)
    if declared is None:
        log.error("endpoint %s has no access rule; refused", endpoint)
        abort(403)
    if declared.public:
        return None
    user = sessions.signed_in_user()
    if user is None:
        return redirect(url_for("auth.sign_in", next=_here()))
    g.staff_user = user
    if not declared.during_setup:
        if user.must_change_password:
            return redirect(url_for("auth.change_password"))
        if auth.requires_two_factor(user) and not user.totp_secret:
            return redirect(url_for("auth.two_factor"))
    if declared.permission is not None:
        _authorise(user, declared.permission, declared.scope, request.view_args or {})
    return None


def _here() -> str:
    query = request.query_string.decode("utf-8", "replace")
    return f"{request.path}?{query}" if query else request.path


def _authorise(user: User, permission: Permission, scope: Scope, args: dict[str, Any]) -> None:
    if scope is Scope.NONE:
        if not auth.can(user, permission):
            abort(403)
        return
    if scope is Scope.ANY_PROGRAMME:
        if not auth.can_anywhere(user, permission):
            abort(403)
        return
    with app_state().database.session() as db:
        if scope is Scope.USER:
            _authorise_user(db, user, args.get("user_id"))
            return
        programme_id = _programme_of(db, scope, args.get(scope.value))
    if programme_id is None:
        abort(404)
    g.programme_id = programme_id
    if auth.can(user, permission, programme_id):
        return
    abort(403 if user.is_superadmin or auth.is_member(user, programme_id) else 404)


def _programme_of(db: Session, scope: Scope, key: Any) -> int | None:
    if key is None:
        raise LookupError(f"the URL has no {scope.value} for a rule scoped by {scope.name}")
    if scope is Scope.PROGRAMME:
        return db.scalar(select(Programme.id).where(Programme.id == key))
    if scope is Scope.SURVEY:
        return db.scalar(select(SurveyAssignment.programme_id).where(SurveyAssignment.id == key))
    if scope is Scope.LINK:
        return db.scalar(select(DistributionLink.programme_id).where(DistributionLink.token == key))
    if scope is Scope.MEMBERSHIP:
        return db.scalar(select(Membership.programme_id).where(Membership.id == key))
    raise LookupError(f"no lookup for scope {scope.name}")


def _authorise_user(db: Session, user: User, target_id: Any) -> None:
    target = db.scalar(
        select(User).options(selectinload(User.memberships)).where(User.id == target_id)
    )
    if target is None:
        abort(404)
    if auth.can_manage_user(user, target):
        return
    abort(403 if user.is_superadmin or auth.shares_programme(user, target) else 404)
