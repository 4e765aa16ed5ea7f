"""The staff home page: the user's programmes, their role in each and what it lets them do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, g, render_template, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Programme, Role, SurveyAssignment, User
from ..staff import auth
from ..staff.auth import Permission
from ..state import app_state
from .access import current_user, rule

blueprint = Blueprint("staff", __name__, url_prefix="/staff")

ROLE_ABILITIES: dict[Role, list[Any]] = {
    Role.ADMIN: [
        _l("manage accounts and roles"),
        _l("change the programme's settings"),
        _l("make distribution links and access codes"),
        _l("read the audit log"),
        _l("enter answers with survivors"),
        _l("see published results"),
    ],
    Role.ANALYST: [
        _l("refresh reports with the programme's key"),
        _l("read redacted free-text answers"),
        _l("export data"),
        _l("see published results"),
    ],
    Role.VIEWER: [_l("see and download published results")],
    Role.CASEWORKER: [_l("enter answers with survivors"), _l("print paper forms")],
}


# The report pages a role may open from the home page: permission, endpoint, button label.
# Each works on one survey; a programme with several surveys gets the list of reports instead.
REPORT_ACTIONS: list[tuple[Permission, str, Any]] = [
    (Permission.VIEW_REPORTS, "reports.dashboard", _l("Reports")),
    (Permission.REFRESH_REPORTS, "reports.refresh", _l("Refresh reports")),
    (Permission.READ_FREE_TEXT, "reports.free_text", _l("Read free-text answers")),
    (Permission.EXPORT_MICRODATA, "reports.microdata", _l("Export microdata")),
]


# A role as staff read it in sentences and tables ("Your role: analyst").
ROLE_NAMES: dict[Role, Any] = {
    Role.ADMIN: _l("administrator"),
    Role.ANALYST: _l("analyst"),
    Role.VIEWER: _l("viewer"),
    Role.CASEWORKER: _l("caseworker"),
}


@blueprint.app_template_filter("role_name")
def role_name(role: Role) -> str:
    return str(ROLE_NAMES[role])


@dataclass(frozen=True)
class StaffMenu:
    username: str
    can_assist: bool
    can_admin: bool
    can_report: bool


@dataclass(frozen=True)
class Button:
    label: Any
    url: str


@dataclass(frozen=True)
class ProgrammeEntry:
    programme: Programme
    role: Role | None
    abilities: list[Any]
    can_assist: bool
    can_admin: bool
    report_buttons: list[Button]


@blueprint.app_context_processor
def _staff_menu() -> dict[str, StaffMenu | None]:
    user: User | None = g.get("staff_user")
    if user is None:
        return {"staff": None}
    return {
        "staff": StaffMenu(
            username=user.username,
            can_assist=auth.can_anywhere(user, Permission.ENTER_RESPONSES),
            can_admin=auth.can_anywhere(user, Permission.MANAGE_MEMBERS),
            can_report=auth.can_anywhere(user, Permission.VIEW_REPORTS),
        )
    }


@blueprint.get("/")
@rule()
def home() -> str:
    user = current_user()
    with app_state().database.session() as db:
        query = select(Programme).order_by(Programme.name)
        if not user.is_superadmin:
            query = query.where(Programme.id.in_([m.programme_id for m in user.memberships]))
        entries = [_entry(db, user, programme) for programme in db.scalars(query)]
    return render_template("staff/home.html", user=user, entries=entries)


def _entry(db: Session, user: User, programme: Programme) -> ProgrammeEntry:
    role = auth.role_in(user, programme.id)
    abilities = list(ROLE_ABILITIES[role]) if role else list(ROLE_ABILITIES[Role.ADMIN])
    return ProgrammeEntry(
        programme=programme,
        role=role,
        abilities=abilities,
        can_assist=auth.can(user, Permission.ENTER_RESPONSES, programme.id),
        can_admin=auth.can(user, Permission.MANAGE_PROGRAMME, programme.id),
        report_buttons=_report_buttons(db, user, programme.id),
    )


def _report_buttons(db: Session, user: User, programme_id: int) -> list[Button]:
    surveys = list(
        db.scalars(
            select(SurveyAssignment.id)
            .where(SurveyAssignment.programme_id == programme_id)
            .order_by(SurveyAssignment.id)
        )
    )
    buttons = []
    for permission, endpoint, label in REPORT_ACTIONS:
        if not auth.can(user, permission, programme_id):
            continue
        if len(surveys) == 1:
            url = url_for(endpoint, survey_id=surveys[0])
        else:
            url = url_for("reports.index", programme=programme_id)
        buttons.append(Button(label, url))
    return buttons
