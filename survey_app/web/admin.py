"""Administration pages: programmes, members and roles, accounts, links, access codes, audit.

Views read the form, call `programme_admin` or `user_admin` (which check the rules and write
the audit log) and show the outcome; `web.access` has already checked who may do it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from werkzeug.wrappers import Response as BaseResponse

from ..intake.help_contacts import HelpFileError, parse_help_contacts, to_toml
from ..models import (
    DistributionLink,
    Membership,
    Programme,
    ProgrammeKey,
    Role,
    SurveyAssignment,
    User,
)
from ..staff import audit, auth, programme_admin, user_admin
from ..staff.auth import Permission
from ..state import app_state
from .access import Scope, actor, current_user, rule
from .forms import (
    AddMemberForm,
    AuditFilterForm,
    CodesForm,
    HelpContactsForm,
    LinkForm,
    NewProgrammeForm,
    NewUserForm,
    ProgrammeForm,
    RoleForm,
    StaffForm,
)
from .i18n import translated
from .respond import default_help

blueprint = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE_SIZE = 100
Page = str | tuple[str, int] | BaseResponse


def _db() -> AbstractContextManager[Session]:
    return app_state().database.session()


def _get(db: Session, model: Any, key: Any) -> Any:
    found = db.get(model, key)
    if found is None:
        abort(404)
    return found


# ------------------------------------------------------------------ overview and programmes


@blueprint.get("/")
@rule(Permission.MANAGE_MEMBERS, Scope.ANY_PROGRAMME)
def index() -> str:
    user = current_user()
    with _db() as db:
        programmes = auth.programmes_where(db, user, Permission.MANAGE_PROGRAMME)
    return render_template(
        "admin/index.html",
        programmes=programmes,
        without_help=[p for p in programmes if not p.help_contacts],
        default_help=bool(default_help(current_app)),
        can_create=auth.can(user, Permission.CREATE_PROGRAMMES),
    )


@blueprint.route("/programmes/new", methods=["GET", "POST"])
@rule(Permission.CREATE_PROGRAMMES)
def new_programme() -> Page:
    form = NewProgrammeForm()
    if form.validate_on_submit():
        details = programme_admin.ProgrammeDetails(
            form.name.data, form.public_title.data, form.retention_days.data
        )
        with _db() as db:
            try:
                programme = programme_admin.create_programme(db, actor(), form.slug.data, details)
            except programme_admin.ProgrammeAdminError as error:
                form.add_error(error.field, error)
            else:
                flash(_("Programme %(name)s created.", name=programme.name), "success")
                return redirect(url_for("admin.programme", programme_id=programme.id), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("admin/programme_new.html", form=form), status


@blueprint.route("/programmes/<int:programme_id>", methods=["GET", "POST"])
@rule(Permission.MANAGE_PROGRAMME, Scope.PROGRAMME)
def programme(programme_id: int) -> Page:
    with _db() as db:
        found: Programme = _get(db, Programme, programme_id)
        form = ProgrammeForm(obj=found)
        if form.validate_on_submit():
            details = programme_admin.ProgrammeDetails(
                form.name.data, form.public_title.data, form.retention_days.data
            )
            try:
                programme_admin.update_programme(db, actor(), found, details)
            except programme_admin.ProgrammeAdminError as error:
                form.add_error(error.field, error)
            else:
                flash(_("Programme settings saved."), "success")
                return redirect(url_for("admin.programme", programme_id=programme_id), 303)
        return _programme_page(db, found, settings_form=form)


@blueprint.post("/programmes/<int:programme_id>/help")
@rule(Permission.MANAGE_PROGRAMME, Scope.PROGRAMME)
def programme_help(programme_id: int) -> Page:
    """Help contacts shown on every respondent page, per language (empty: the default)."""
    form = HelpContactsForm()
    with _db() as db:
        found: Programme = _get(db, Programme, programme_id)
        if form.validate_on_submit():
            try:
                contacts = parse_help_contacts(form.contacts.data or "")
            except HelpFileError as error:
                form.add_error("contacts", _("Help contacts: %(problem)s", problem=str(error)))
            else:
                programme_admin.set_help_contacts(db, actor(), found, contacts)
                flash(_("Help contacts saved."), "success")
                return redirect(url_for("admin.programme", programme_id=programme_id), 303)
        return _programme_page(db, found, help_form=form)


def _programme_page(
    db: Session,
    found: Programme,
    *,
    help_form: HelpContactsForm | None = None,
    settings_form: ProgrammeForm | None = None,
    member_form: AddMemberForm | None = None,
    link_form: LinkForm | None = None,
) -> tuple[str, int]:
    forms: list[StaffForm] = [
        f
        for f in (help_form, settings_form, member_form, link_form)
        if f is not None and f.is_submitted()
    ]
    members = db.scalars(
        select(Membership)
        .options(selectinload(Membership.user))
        .where(Membership.programme_id == found.id)
    ).all()
    links = db.scalars(
        select(DistributionLink)
        .where(DistributionLink.programme_id == found.id)
        .order_by(DistributionLink.survey_id, DistributionLink.site)
    ).all()
    keys = db.scalars(
        select(ProgrammeKey)
        .where(ProgrammeKey.programme_id == found.id)
        .order_by(ProgrammeKey.created_at)
    ).all()
    link_form = link_form or LinkForm(formdata=None)
    link_form.survey.choices = _survey_choices(db, found.id)
    status = 422 if any(f.errors or f.form_errors for f in forms) else 200
    return render_template(
        "admin/programme.html",
        programme=found,
        settings_form=settings_form or ProgrammeForm(formdata=None, obj=found),
        help_form=help_form
        or HelpContactsForm(formdata=None, contacts=to_toml(found.help_contacts or {})),
        default_help=bool(default_help(current_app)),
        member_form=member_form or AddMemberForm(formdata=None),
        link_form=link_form,
        role_form=RoleForm(formdata=None),
        members=sorted(members, key=lambda m: m.user.username),
        links=links,
        keys=keys,
        surveys=link_form.survey.choices,
        me=current_user().id,
    ), status


def _survey_choices(db: Session, programme_id: int) -> list[tuple[str, str]]:
    catalogue = app_state().surveys
    assigned = db.scalars(
        select(SurveyAssignment.id)
        .where(SurveyAssignment.programme_id == programme_id)
        .order_by(SurveyAssignment.id)
    )
    choices = []
    for survey_id in assigned:
        survey = catalogue.get(survey_id)
        if survey is not None:
            title = survey.text(survey.title, survey.default_language)
            choices.append((survey_id, f"{title} ({survey_id})"))
    return choices


# ------------------------------------------------------------------ members and roles


@blueprint.post("/programmes/<int:programme_id>/members")
@rule(Permission.MANAGE_MEMBERS, Scope.PROGRAMME)
def add_member(programme_id: int) -> Page:
    form = AddMemberForm()
    with _db() as db:
        found: Programme = _get(db, Programme, programme_id)
        if form.validate_on_submit():
            try:
                added = user_admin.add_member(
                    db, actor(), current_user(), form.username.data, found, Role(form.role.data)
                )
            except user_admin.UserAdminError as error:
                form.add_error(error.field, error)
            else:
                if added is None:
                    flash(
                        _(
                            "Your request has been passed to a deployment administrator, who "
                            "decides whether this account can be added."
                        ),
                        "info",
                    )
                else:
                    flash(_("%(name)s added.", name=added.user.username), "success")
                return redirect(url_for("admin.programme", programme_id=programme_id), 303)
        return _programme_page(db, found, member_form=form)


@blueprint.post("/memberships/<int:membership_id>/role")
@rule(Permission.MANAGE_MEMBERS, Scope.MEMBERSHIP)
def change_role(membership_id: int) -> Page:
    form = RoleForm()
    with _db() as db:
        membership: Membership = _get(db, Membership, membership_id)
        if not form.validate_on_submit():
            flash(_("Choose one of the roles offered."), "error")
        else:
            try:
                user_admin.change_role(db, actor(), membership, Role(form.role.data))
            except user_admin.UserAdminError as error:
                flash(translated(error), "error")
            else:
                flash(_("Role changed."), "success")
        programme_id = membership.programme_id
    return redirect(url_for("admin.programme", programme_id=programme_id), 303)


@blueprint.post("/memberships/<int:membership_id>/remove")
@rule(Permission.MANAGE_MEMBERS, Scope.MEMBERSHIP)
def remove_member(membership_id: int) -> Page:
    with _db() as db:
        membership: Membership = _get(db, Membership, membership_id)
        programme_id = membership.programme_id
        try:
            user_admin.remove_membership(db, actor(), membership)
        except user_admin.UserAdminError as error:
            flash(translated(error), "error")
        else:
            flash(_("Member removed from the programme."), "success")
    return redirect(url_for("admin.programme", programme_id=programme_id), 303)


# ------------------------------------------------------------------ links and access codes


@blueprint.post("/programmes/<int:programme_id>/links")
@rule(Permission.MANAGE_LINKS, Scope.PROGRAMME)
def new_link(programme_id: int) -> Page:
    with _db() as db:
        found: Programme = _get(db, Programme, programme_id)
        form = LinkForm()
        form.survey.choices = _survey_choices(db, programme_id)
        if form.validate_on_submit():
            try:
                link = programme_admin.create_link(
                    db,
                    actor(),
                    found,
                    form.survey.data,
                    form.site.data,
                    requires_code=form.requires_code.data,
                )
            except programme_admin.ProgrammeAdminError as error:
                form.add_error(error.field, error)
            else:
                flash(_("Link created."), "success")
                return redirect(url_for("admin.link", token=link.token), 303)
        return _programme_page(db, found, link_form=form)


@blueprint.get("/links/<token>")
@rule(Permission.MANAGE_LINKS, Scope.LINK)
def link(token: str) -> Page:
    with _db() as db:
        return _link_page(db, _get(db, DistributionLink, token), CodesForm(formdata=None))


def _link_page(db: Session, found: DistributionLink, form: CodesForm) -> tuple[str, int]:
    return render_template(
        "admin/link.html",
        link=found,
        programme=db.get(Programme, found.programme_id),
        url=app_state().settings.respondent_link(found.token),
        batches=programme_admin.code_batches(db, found),
        form=form,
    ), 422 if form.errors or form.form_errors else 200


@blueprint.post("/links/<token>/active")
@rule(Permission.MANAGE_LINKS, Scope.LINK)
def set_link_active(token: str) -> Page:
    active = request.form.get("active") == "1"
    with _db() as db:
        found: DistributionLink = _get(db, DistributionLink, token)
        programme_admin.set_link_active(db, actor(), found, active)
    flash(_("Link switched on.") if active else _("Link switched off."), "success")
    return redirect(url_for("admin.link", token=token), 303)


@blueprint.post("/links/<token>/codes")
@rule(Permission.MANAGE_LINKS, Scope.LINK)
def new_codes(token: str) -> Page:
    form = CodesForm()
    with _db() as db:
        found: DistributionLink = _get(db, DistributionLink, token)
        if form.validate_on_submit():
            try:
                batch, codes = programme_admin.create_code_batch(
                    db, actor(), found, form.count.data, app_state().code_key
                )
            except programme_admin.ProgrammeAdminError as error:
                form.add_error(error.field, error)
            else:
                found_programme = db.get(Programme, found.programme_id)
                return render_template(
                    "admin/code_cards.html",
                    link=found,
                    programme=found_programme,
                    batch=batch,
                    codes=codes,
                    url=app_state().settings.respondent_link(found.token),
                )
        return _link_page(db, found, form)


# ------------------------------------------------------------------ accounts


@blueprint.get("/users")
@rule(Permission.MANAGE_MEMBERS, Scope.ANY_PROGRAMME)
def users() -> str:
    me = current_user()
    with _db() as db:
        query = select(User).options(selectinload(User.memberships)).order_by(User.username)
        if not me.is_superadmin:
            mine = [p.id for p in auth.programmes_where(db, me, Permission.MANAGE_MEMBERS)]
            query = query.where(User.memberships.any(Membership.programme_id.in_(mine)))
        found = db.scalars(query).all()
        names = {pid: value for pid, value in db.execute(select(Programme.id, Programme.slug))}
        if not me.is_superadmin:
            # Another programme's name, or the roles someone holds there, are not theirs to see.
            names = {pid: names[pid] for pid in mine}
        rows = [(u, auth.can_manage_user(me, u)) for u in found]
        now = datetime.now(UTC)
        return render_template(
            "admin/users.html",
            rows=rows,
            programme_names=names,
            locked={u.id for u in found if auth.locked_until(u, now) is not None},
        )


@blueprint.route("/users/new", methods=["GET", "POST"])
@rule(Permission.MANAGE_MEMBERS, Scope.ANY_PROGRAMME)
def new_user() -> Page:
    me = current_user()
    with _db() as db:
        programmes = auth.programmes_where(db, me, Permission.MANAGE_MEMBERS)
        form = NewUserForm()
        choices = [(p.id, p.name) for p in programmes]
        if me.is_superadmin:
            choices.insert(0, (0, _("No programme yet")))
        form.programme.choices = choices
        if form.validate_on_submit():
            chosen = next((p for p in programmes if p.id == form.programme.data), None)
            try:
                created, password = user_admin.create_user(
                    db,
                    actor(),
                    form.username.data,
                    programme=chosen,
                    role=Role(form.role.data) if chosen else None,
                )
            except user_admin.UserAdminError as error:
                form.add_error(error.field, error)
            else:
                return render_template(
                    "admin/temporary_password.html", user=created, password=password, new=True
                )
    status = 422 if form.is_submitted() else 200
    return render_template("admin/user_new.html", form=form), status


@blueprint.get("/users/<int:user_id>")
@rule(Permission.MANAGE_MEMBERS, Scope.USER)
def user(user_id: int) -> str:
    with _db() as db:
        target = db.scalar(
            select(User).options(selectinload(User.memberships)).where(User.id == user_id)
        )
        if target is None:
            abort(404)
        names = {pid: value for pid, value in db.execute(select(Programme.id, Programme.name))}
        return render_template(
            "admin/user.html",
            target=target,
            programme_names=names,
            locked_until=auth.locked_until(target, datetime.now(UTC)),
            me=current_user().id,
        )


@blueprint.post("/users/<int:user_id>/reset-password")
@rule(Permission.MANAGE_MEMBERS, Scope.USER)
def reset_password(user_id: int) -> Page:
    with _db() as db:
        target: User = _get(db, User, user_id)
        password = user_admin.reset_password(db, actor(), target)
        return render_template(
            "admin/temporary_password.html", user=target, password=password, new=False
        )


@blueprint.post("/users/<int:user_id>/reset-two-factor")
@rule(Permission.MANAGE_MEMBERS, Scope.USER)
def reset_two_factor(user_id: int) -> Page:
    with _db() as db:
        target: User = _get(db, User, user_id)
        user_admin.reset_two_factor(db, actor(), target)
    flash(_("Two-step sign-in reset: they set it up again at their next sign-in."), "success")
    return redirect(url_for("admin.user", user_id=user_id), 303)


@blueprint.post("/users/<int:user_id>/active")
@rule(Permission.MANAGE_MEMBERS, Scope.USER)
def set_user_active(user_id: int) -> Page:
    active = request.form.get("active") == "1"
    with _db() as db:
        target: User = _get(db, User, user_id)
        try:
            user_admin.set_active(db, actor(), target, active)
        except user_admin.UserAdminError as error:
            flash(translated(error), "error")
        else:
            flash(_("Account switched on.") if active else _("Account switched off."), "success")
    return redirect(url_for("admin.user", user_id=user_id), 303)


# ------------------------------------------------------------------ audit log


@blueprint.get("/audit")
@rule(Permission.VIEW_AUDIT, Scope.ANY_PROGRAMME)
def audit_log() -> Page:
    me = current_user()
    form = AuditFilterForm(formdata=request.args)
    with _db() as db:
        visible = auth.programmes_where(db, me, Permission.VIEW_AUDIT)
        names = {p.id: p.name for p in visible}
        form.action.choices = [("", _("Any action")), *((a, a) for a in audit.action_names(db))]
        form.programme.choices = [
            ("", _("Any programme")),
            *((str(p.id), p.name) for p in visible),
        ]
        valid = form.validate() if request.args else True
        criteria = _audit_criteria(form, me, set(names)) if valid else None
        before = request.args.get("before", type=int)
        events = (
            audit.find_events(db, criteria, limit=AUDIT_PAGE_SIZE, before_id=before)
            if criteria
            else []
        )
        problems = audit.verify_chain(db) if me.is_superadmin else None
        older = dict(request.args, before=events[-1].id) if len(events) == AUDIT_PAGE_SIZE else None
        return render_template(
            "admin/audit.html",
            form=form,
            events=events,
            programme_names=names,
            problems=problems,
            older=older,
        ), 200 if valid else 422


def _audit_criteria(form: AuditFilterForm, me: User, visible: set[int]) -> audit.AuditFilter:
    chosen = int(form.programme.data) if form.programme.data else None
    if chosen is not None:
        programme_ids: set[int] | None = {chosen} & visible
    else:
        # Deployment administrators also see events that belong to no programme (sign-ins).
        programme_ids = None if me.is_superadmin else visible
    return audit.AuditFilter(
        actor=(form.actor.data or "").strip() or None,
        action=form.action.data or None,
        programme_ids=programme_ids,
        since=_day_start(form.since.data),
        until=_day_start(form.until.data, days=1),
    )


def _day_start(day: Any, days: int = 0) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, time.min, tzinfo=UTC) + timedelta(days=days)
