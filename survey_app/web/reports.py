"""Report pages: the published dashboard and its downloads, the analyst's refresh and export.

Viewers read the latest snapshot only: no key is involved. Refreshing, exporting microdata and
reading the redacted free-text answers ask for the programme's passphrase (and the key file,
for keys kept off the server); each runs a domain function in ``survey_app.reports`` and is
audited there, as is every download.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse
from wtforms import PasswordField, SelectMultipleField
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget

from ..definitions import Survey
from ..models import Programme, SurveyAssignment
from ..reports import audited, brief, formats, pages, snapshot, summary
from ..reports import refresh as refreshing
from ..reports.exports import UnknownView
from ..reports.microdata import Microdata
from ..reports.plan import BUILTIN_LABELS, ReportPlan
from ..reports.presentation import Labels
from ..reports.redaction import Redactor
from ..reports.snapshot import SnapshotDoc, ViewDoc
from ..staff import auth
from ..staff.auth import Permission
from ..state import app_state
from .access import Scope, actor, current_user, rule
from .errors import render_error
from .forms import StaffForm
from .i18n import translated

blueprint = Blueprint("reports", __name__, url_prefix="/reports")

Page = str | tuple[str, int] | BaseResponse
T = TypeVar("T")


class UnlockForm(StaffForm):
    passphrase = PasswordField(
        _l("The programme's passphrase"),
        [DataRequired(_l("Enter the passphrase that protects the programme's key."))],
    )
    key_file = FileField(_l("Key file (only if the key is kept off the server)"))


def _key_file_text(form: UnlockForm) -> str | None:
    upload = form.key_file.data
    if upload is None or not getattr(upload, "filename", ""):
        return None
    try:
        return str(upload.read().decode("utf-8"))
    except UnicodeDecodeError:
        form.add_error("key_file", _("This is not a key file: it is not text."))
        return None


# --- lists and dashboards ----------------------------------------------------------------


@dataclass(frozen=True)
class ReportEntry:
    """One survey on the list of reports, with what the user may do with it."""

    survey_id: str
    programme: str
    title: str
    can_refresh: bool
    can_export: bool
    can_read_free_text: bool


@blueprint.get("/")
@rule(Permission.VIEW_REPORTS, Scope.ANY_PROGRAMME)
def index() -> str:
    user = current_user()
    only = request.args.get("programme", type=int)
    with app_state().database.session() as db:
        programmes = auth.programmes_where(db, user, Permission.VIEW_REPORTS)
        ids = [p.id for p in programmes if only is None or p.id == only]
        surveys = db.execute(
            select(SurveyAssignment.id, Programme.id, Programme.name)
            .join(Programme, Programme.id == SurveyAssignment.programme_id)
            .where(SurveyAssignment.programme_id.in_(ids))
            .order_by(Programme.name, SurveyAssignment.id)
        ).all()
    catalogue = app_state().surveys
    entries = [
        ReportEntry(
            survey_id,
            programme_name,
            _survey_title(catalogue.get(survey_id), survey_id),
            can_refresh=auth.can(user, Permission.REFRESH_REPORTS, programme_id),
            can_export=auth.can(user, Permission.EXPORT_MICRODATA, programme_id),
            can_read_free_text=auth.can(user, Permission.READ_FREE_TEXT, programme_id),
        )
        for survey_id, programme_id, programme_name in surveys
    ]
    # Programmes whose "What you told us" page the user chooses (survey_app.web.results_page).
    results_pages = [
        (p.id, p.name)
        for p in programmes
        if p.id in ids and auth.can(user, Permission.REFRESH_REPORTS, p.id)
    ]
    return render_template("reports/index.html", entries=entries, results_pages=results_pages)


def _survey_title(survey: Survey | None, fallback: str) -> str:
    if survey is None:
        return fallback
    return survey.text(survey.title, str(get_locale() or survey.default_language))


def _latest(survey_id: str) -> SnapshotDoc | None:
    with app_state().database.session() as db:
        return snapshot.latest(db, survey_id)


def report_labels(document: SnapshotDoc) -> Labels:
    """The report's labels in the staff member's language, or the survey's default one."""
    language = str(get_locale() or document["default_language"])
    if language not in document["languages"]:
        language = document["default_language"]
    return Labels(document, language, _)


def _view(document: SnapshotDoc) -> ViewDoc:
    view = snapshot.view_by_id(document, request.args.get("view", "all"))
    if view is None:
        abort(404)
    return view


def _report_facts(survey_id: str) -> ReportFacts:
    with app_state().database.session() as db:
        found = db.get(SurveyAssignment, survey_id)
        if found is None:
            abort(404)
        programme = db.get(Programme, found.programme_id)
        name = programme.name if programme is not None else ""
        return ReportFacts(found.programme_id, name)


@dataclass(frozen=True)
class ReportFacts:
    programme_id: int
    programme: str


def _abilities(programme_id: int) -> dict[str, bool]:
    user = current_user()
    return {
        "refresh": auth.can(user, Permission.REFRESH_REPORTS, programme_id),
        "microdata": auth.can(user, Permission.EXPORT_MICRODATA, programme_id),
        "free_text": auth.can(user, Permission.READ_FREE_TEXT, programme_id),
    }


def _period(document: SnapshotDoc) -> tuple[str, str] | None:
    """The first and last quarter counted, or None when no round is published."""
    quarters = sorted(q for r in document["rounds"] for q in r["quarters"])
    return (quarters[0], quarters[-1]) if quarters else None


@blueprint.get("/<survey_id>")
@rule(Permission.VIEW_REPORTS, Scope.SURVEY)
def dashboard(survey_id: str) -> Page:
    return _show(survey_id, printable=False)


@blueprint.get("/<survey_id>/print")
@rule(Permission.VIEW_REPORTS, Scope.SURVEY)
def printable(survey_id: str) -> Page:
    return _show(survey_id, printable=True)


def _show(survey_id: str, *, printable: bool) -> Page:
    document = _latest(survey_id)
    facts = _report_facts(survey_id)
    abilities = _abilities(facts.programme_id)
    if document is None or not document["views"]:
        # Nothing published yet, or too few responses for any table (see reports.build).
        return render_template(
            "reports/empty.html", survey_id=survey_id, abilities=abilities, document=document
        )
    labels = report_labels(document)
    view = _view(document)
    filters = [(v["id"], labels.view(v)) for v in document["views"]]
    scores = summary.scorecard(labels, view)
    return render_template(
        "reports/print.html" if printable else "reports/dashboard.html",
        survey_id=survey_id,
        document=document,
        facts=facts,
        period=_period(document),
        labels=labels,
        view=view,
        filters=filters,
        scores=scores,
        words=summary,
        sections=pages.sections(
            labels, view, app_state().surveys.get(survey_id), with_breakdowns=not printable
        ),
        dimensions=pages.breakdown_dimensions(labels, document),
        abilities=abilities,
        formats=formats.FORMATS.values(),
        unreadable=sum(document["unreadable"].values()),
        suppressed=snapshot.SUPPRESSED,
    )


@blueprint.get("/<survey_id>/breakdowns")
@rule(Permission.VIEW_REPORTS, Scope.SURVEY)
def breakdowns(survey_id: str) -> Page:
    """Cross-tabs by one dimension at a time, over all responses."""
    document = _latest(survey_id)
    facts = _report_facts(survey_id)
    if document is None or not document["views"]:
        return redirect(url_for("reports.dashboard", survey_id=survey_id))
    labels = report_labels(document)
    dimensions = pages.breakdown_dimensions(labels, document)
    if not dimensions:
        return redirect(url_for("reports.dashboard", survey_id=survey_id))
    chosen = request.args.get("by", dimensions[0].id)
    dimension = next((d for d in dimensions if d.id == chosen), None)
    if dimension is None:
        abort(404)
    return render_template(
        "reports/breakdowns.html",
        survey_id=survey_id,
        document=document,
        facts=facts,
        labels=labels,
        dimensions=dimensions,
        dimension=dimension,
        items=pages.breakdown_items(labels, document, dimension.id),
        suppressed=snapshot.SUPPRESSED,
    )


# --- downloads ------------------------------------------------------------------------------


@blueprint.get("/<survey_id>/report.<fmt>")
@rule(Permission.VIEW_REPORTS, Scope.SURVEY)
def download(survey_id: str, fmt: str) -> Page:
    """The published report in any format of ``reports.formats``, e.g. ``report.csv``."""
    language = str(get_locale() or "en")
    try:
        found = audited.download(
            app_state().database,
            survey_id,
            fmt,
            actor=actor().name,
            view_id=request.args.get("view", "all"),
            language=language,
            translate=_,
        )
    except formats.UnknownFormat as error:
        return render_error(404, translated(error))
    except audited.NoSnapshot:
        flash(_("There is no published report to download yet."), "info")
        return redirect(url_for("reports.dashboard", survey_id=survey_id))
    except UnknownView:
        abort(404)
    response = send_file(
        BytesIO(found.content),
        mimetype=found.media_type,
        as_attachment=True,
        download_name=found.filename,
    )
    # The media type is complete (CSV names its charset); Werkzeug would add a second charset.
    response.headers["Content-Type"] = found.media_type
    return response


# --- analysts ------------------------------------------------------------------------------


def _current(survey_id: str) -> Survey:
    with app_state().database.session() as db:
        try:
            return refreshing.current_definition(db, survey_id, app_state().surveys)
        except refreshing.UnknownSurvey:
            abort(404)


def _with_key(form: UnlockForm, use: Callable[[str, str | None], T]) -> T | None:
    """``use(passphrase, key file text)`` once the form is filled in; None, with the problem
    shown on the form, when it is not or when the key does not open."""
    if not form.validate_on_submit():
        return None
    key_file_text = _key_file_text(form)
    if form.key_file.errors:
        return None
    try:
        return use(form.passphrase.data, key_file_text)
    except refreshing.refresh_errors() as error:
        form.add_error("passphrase", error)
        return None


class RefreshForm(UnlockForm):
    breakdowns = SelectMultipleField(
        _l("Breakdowns shown with every question (at most two)"),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,  # checked by the refresh itself, with a message that says why
    )


@blueprint.route("/<survey_id>/refresh", methods=["GET", "POST"])
@rule(Permission.REFRESH_REPORTS, Scope.SURVEY)
def refresh(survey_id: str) -> Page:
    form = RefreshForm()
    state = app_state()
    current = _current(survey_id)
    form.breakdowns.choices = _breakdown_names(current)
    breakdowns: tuple[str, ...] = ()
    if not form.is_submitted():
        # As the newest report shows them, unless the survey no longer has one of them.
        latest = _latest(survey_id)
        shown = latest.get("featured_breakdowns", []) if latest else []
        known = dict(form.breakdowns.choices)
        form.breakdowns.data = [name for name in shown if name in known]
    else:
        try:
            breakdowns = refreshing.featured_breakdowns(current, form.breakdowns.data or [])
        except refreshing.BreakdownError as error:
            form.add_error("breakdowns", error)
    outcome = None
    if not form.breakdowns.errors:
        outcome = _with_key(
            form,
            lambda passphrase, key_file_text: refreshing.refresh(
                state.database,
                current,
                state.settings.reports.threshold,
                passphrase,
                actor=actor().name,
                key_file_text=key_file_text,
                breakdowns=breakdowns,
            ),
        )
    if outcome is not None:
        unreadable = sum(outcome.unreadable.values())
        flash(
            ngettext(
                "The report was refreshed from %(num)d response.",
                "The report was refreshed from %(num)d responses.",
                outcome.responses,
            )
            + (" " + _unreadable_note(unreadable) if unreadable else ""),
            "success",
        )
        return redirect(url_for("reports.dashboard", survey_id=survey_id), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("reports/refresh.html", form=form, survey_id=survey_id), status


def _breakdown_names(current: Survey) -> list[tuple[str, str]]:
    """Each breakdown of ``current``'s report with its name in the staff member's language."""
    language = str(get_locale() or current.default_language)
    return [
        (
            dimension.id,
            current.text(dimension.question.label, language)
            if dimension.question is not None
            else _(BUILTIN_LABELS[dimension.id]),
        )
        for dimension in ReportPlan.build(current).dimensions
    ]


@blueprint.route("/<survey_id>/microdata", methods=["GET", "POST"])
@rule(Permission.EXPORT_MICRODATA, Scope.SURVEY)
def microdata(survey_id: str) -> Page:
    form = UnlockForm()
    state = app_state()
    result = _with_key(
        form,
        lambda passphrase, key_file_text: audited.microdata(
            state.database,
            _current(survey_id),
            state.settings.reports.threshold,
            passphrase,
            actor=actor().name,
            redactor=redactor(),
            key_file_text=key_file_text,
        ),
    )
    if result is not None:
        return send_file(
            BytesIO(_microdata_zip(survey_id, result)),
            mimetype="application/zip",
            as_attachment=True,
            download_name=f"{survey_id}-microdata.zip",
        )
    status = 422 if form.is_submitted() else 200
    return render_template("reports/microdata.html", form=form, survey_id=survey_id), status


@blueprint.route("/<survey_id>/free-text", methods=["GET", "POST"])
@rule(Permission.READ_FREE_TEXT, Scope.SURVEY)
def free_text(survey_id: str) -> Page:
    """Redacted free-text answers, per question in groups of k or more; nothing is stored."""
    form = UnlockForm()
    state = app_state()
    current = _current(survey_id)
    result = _with_key(
        form,
        lambda passphrase, key_file_text: audited.free_text(
            state.database,
            current,
            state.settings.reports.threshold,
            passphrase,
            actor=actor().name,
            redactor=redactor(),
            key_file_text=key_file_text,
        ),
    )
    if result is not None:
        secret_key = str(current_app.config["SECRET_KEY"])

        def quote_token(question_id: str, redacted: str) -> str:
            return brief.quote_token(secret_key, survey_id, question_id, redacted)

        return render_template(
            "reports/free_text.html",
            survey=current,
            survey_id=survey_id,
            result=result,
            quote_token=quote_token,
            most_quote=brief.MAX_QUOTE_LENGTH,
        )
    status = 422 if form.is_submitted() else 200
    return render_template(
        "reports/free_text_unlock.html", form=form, survey=current, survey_id=survey_id
    ), status


def _unreadable_note(count: int) -> str:
    return str(
        ngettext(
            "%(num)d response could not be opened.",
            "%(num)d responses could not be opened.",
            count,
        )
    )


def _microdata_zip(survey_id: str, result: Microdata) -> bytes:
    """The CSV and a note of what was changed to make it safe, in one download."""
    note = [
        _("Microdata of %(survey)s", survey=survey_id),
        ngettext("%(num)d row exported.", "%(num)d rows exported.", result.rows),
        ngettext(
            "%(num)d row withheld to protect the people who answered.",
            "%(num)d rows withheld to protect the people who answered.",
            result.withheld,
        ),
        _unreadable_note(result.unreadable),
        "",
        _("Changes made so that no combination of site and group answers is rare:"),
        *(f"- {change}" for change in result.changes or [_("none")]),
    ]
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{survey_id}-microdata.csv", result.text.encode("utf-8-sig"))
        archive.writestr("README.txt", "\n".join(note) + "\n")
    return buffer.getvalue()


def redactor() -> Redactor:
    """Free-text redaction as the deployment configures it."""
    reports = app_state().settings.reports
    return Redactor(reports.redact_names, reports.phone_region or None)
