"""The policy brief pages: read by anyone who sees the reports, written by analysts.

The brief of a survey is for the period of its newest published report. Viewers read it once
an analyst has published it; analysts read the draft, write the key findings, and withdraw
quotes here. Quotes are approved on the free-text page (see ``survey_app.reports.brief``).
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from werkzeug.wrappers import Response as BaseResponse
from wtforms import BooleanField

from ..definitions import Survey
from ..models import SurveyAssignment
from ..reports import brief, brief_docx, snapshot, summary
from ..reports.presentation import Labels
from ..reports.snapshot import SnapshotDoc
from ..staff import auth
from ..staff.auth import Permission
from ..state import app_state
from .access import Scope, actor, current_user, rule
from .forms import StaffForm
from .i18n import text_direction, translated
from .reports import redactor, report_labels

blueprint = Blueprint("brief", __name__, url_prefix="/reports")

Page = str | tuple[str, int] | BaseResponse
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class BriefForm(StaffForm):
    publish = BooleanField(_l("Publish the brief for everyone who reads the reports"))


@dataclass(frozen=True)
class ShownQuote:
    id: str
    question: str
    text: str


@dataclass(frozen=True)
class Setting:
    """What every brief page needs: the survey, its newest report, and the brief for it."""

    survey_id: str
    programme_id: int
    programme: str
    document: SnapshotDoc
    labels: Labels
    period: str
    text: brief.BriefText
    quotes: list[ShownQuote]


def question_label(survey: Survey | None, question_id: str, language: str) -> str:
    """The question an answer was given to, as the free-text page names it."""
    if survey is None:
        return ""
    for question in survey.questions():
        label = survey.text(question.label, language)
        if question.id == question_id:
            return label
        if question.other_id == question_id:
            return str(_("“Other”, in their own words: %(question)s", question=label))
    return ""


def _setting(survey_id: str) -> Setting | None:
    """None when no report with tables is published yet."""
    state = app_state()
    with state.database.session() as db:
        assigned = db.get(SurveyAssignment, survey_id)
        if assigned is None:
            abort(404)
        programme = assigned.programme.name
        document = snapshot.latest(db, survey_id)
        if document is None or not document["views"]:
            return None
        labels = report_labels(document)
        period = brief.period_of(document)
        text = brief.load(db, survey_id, period, labels)
        found = brief.quotes(db, survey_id)
    survey = state.surveys.get(survey_id)
    language = labels.language
    shown = [
        ShownQuote(q.id, question_label(survey, q.question_id, language), q.text) for q in found
    ]
    return Setting(
        survey_id, assigned.programme_id, programme, document, labels, period, text, shown
    )


def _period_words(document: SnapshotDoc) -> str | None:
    quarters = sorted(q for r in document["rounds"] for q in r["quarters"])
    if not quarters:
        return None
    # Isolated, so that "2026-Q1" reads left to right inside an Arabic sentence too.
    first, last = (
        f"\N{FIRST STRONG ISOLATE}{q}\N{POP DIRECTIONAL ISOLATE}"
        for q in (quarters[0], quarters[-1])
    )
    return str(_("%(first)s to %(last)s", first=first, last=last))


def _method(document: SnapshotDoc) -> str:
    """The method and protection, in one paragraph."""
    base = document.get("percent_base", 3 * document["threshold"])
    return " ".join(
        (
            _(
                "This brief is drawn from the survey's published report: %(num)d responses "
                "were counted.",
                num=document["responses"],
            ),
            _(
                "People answered anonymously; their answers were sealed when sent and opened "
                "only to be counted."
            ),
            _(
                "To protect them, every count is slightly adjusted, no count under %(k)d is "
                "shown, and a percentage is shown only where at least %(n)d people answered; an "
                "interval is the range we are 95%% sure the true share lies in.",
                k=document["threshold"],
                n=base,
            ),
            _(
                "Quotes were chosen by an analyst from answers with contact details, ID numbers "
                "and names removed, and are not linked to any answer or person."
            ),
        )
    )


def _facts(document: SnapshotDoc) -> str:
    period = _period_words(document)
    parts = [_("Period: %(period)s", period=period)] if period else []
    parts.append(ngettext("%(num)d response", "%(num)d responses", document["responses"]))
    parts.append(_("published %(when)s", when=document["created_at"][:10]))
    return " · ".join(parts)


@dataclass(frozen=True)
class Readable:
    setting: Setting
    can_write: bool  # the user writes the brief, and reads it before it is published


def _readable(survey_id: str) -> Readable | Page:
    """The brief, when the user may read it; or the page to show instead."""
    setting = _setting(survey_id)
    if setting is None:
        return redirect(url_for("reports.dashboard", survey_id=survey_id))
    can_write = auth.can(current_user(), Permission.REFRESH_REPORTS, setting.programme_id)
    if not setting.text.published and not can_write:
        return render_template("reports/brief_unpublished.html", survey_id=survey_id), 404
    return Readable(setting, can_write)


def _scores(setting: Setting) -> list[summary.Score]:
    view = snapshot.view_by_id(setting.document, "all")
    return [] if view is None else summary.scorecard(setting.labels, view)


@blueprint.get("/<survey_id>/brief")
@rule(Permission.VIEW_REPORTS, Scope.SURVEY)
def show(survey_id: str) -> Page:
    """The brief, ready to print. Analysts also see it before it is published, as a draft."""
    found = _readable(survey_id)
    if not isinstance(found, Readable):
        return found
    setting, can_write = found.setting, found.can_write
    return render_template(
        "reports/brief.html",
        setting=setting,
        survey_id=survey_id,
        document=setting.document,
        labels=setting.labels,
        scores=_scores(setting),
        words=summary,
        facts=_facts(setting.document),
        method=_method(setting.document),
        can_write=can_write,
    )


@blueprint.get("/<survey_id>/brief.docx")
@rule(Permission.VIEW_REPORTS, Scope.SURVEY)
def download(survey_id: str) -> Page:
    """The same brief as a Word document; audited like every download of a report."""
    found = _readable(survey_id)
    if not isinstance(found, Readable):
        return found
    setting = found.setting
    labels = setting.labels
    indicators = [
        brief_docx.IndicatorLine(
            score.label,
            (f"{summary.number(score.value)}%" + (f" ({score.period})" if score.period else ""))
            if score.value is not None
            else _("not shown"),
            "\N{EN DASH}" if score.target is None else f"{summary.number(score.target)}%",
            f"{summary.sentence(labels, score)} {summary.interval_words(labels, score)}".strip(),
        )
        for score in _scores(setting)
    ]
    quotes = [
        brief_docx.QuoteLine(
            quote.text,
            _("In answer to: %(question)s", question=quote.question) if quote.question else "",
        )
        for quote in setting.quotes
    ]
    content = brief_docx.BriefDocument(
        language=labels.language,
        right_to_left=text_direction(labels.language) == "rtl",
        title=labels.title(),
        kind=_("Policy brief"),
        programme=setting.programme,
        facts=_facts(setting.document),
        headings={
            "findings": _("Key findings"),
            "indicators": _("Indicators against targets"),
            "quotes": _("In their own words"),
            "method": _("Method and protection"),
        },
        columns=(_("Indicator"), _("Latest"), _("Target"), _("In words")),
        findings=setting.text.findings,
        indicators=indicators,
        quotes=quotes,
        method=_method(setting.document),
    )
    data = brief_docx.build(content)
    with app_state().database.session() as db:
        brief.record_download(
            db, actor(), setting.programme_id, survey_id, setting.period, setting.text.published
        )
    return send_file(
        BytesIO(data),
        mimetype=DOCX,
        as_attachment=True,
        download_name=f"{survey_id}-brief-{setting.period.replace('/', '-to-')}.docx",
    )


@blueprint.route("/<survey_id>/brief/edit", methods=["GET", "POST"])
@rule(Permission.REFRESH_REPORTS, Scope.SURVEY)
def edit(survey_id: str) -> Page:
    setting = _setting(survey_id)
    if setting is None:
        return redirect(url_for("reports.dashboard", survey_id=survey_id))
    form = BriefForm()
    written = setting.text.findings
    if form.validate_on_submit():
        written = [request.form.get(f"finding-{n}", "") for n in range(1, brief.MAX_FINDINGS + 1)]
        try:
            with app_state().database.session() as db:
                brief.save(
                    db,
                    actor(),
                    setting.programme_id,
                    survey_id,
                    setting.period,
                    written,
                    publish=bool(form.publish.data),
                )
        except brief.BriefError as error:
            form.add_error("", error)
        else:
            if form.publish.data:
                flash(_("The brief is published."), "success")
            else:
                flash(_("Saved. The brief is not published."), "success")
            return redirect(url_for("brief.edit", survey_id=survey_id), 303)
    elif not form.is_submitted():
        form.publish.data = setting.text.published
    slots = [written[n] if n < len(written) else "" for n in range(brief.MAX_FINDINGS)]
    status = 422 if form.is_submitted() and form.form_errors else 200
    return render_template(
        "reports/brief_edit.html",
        form=form,
        setting=setting,
        survey_id=survey_id,
        slots=slots,
        least=brief.MIN_FINDINGS,
        most=brief.MAX_FINDINGS,
        most_quotes=brief.MAX_QUOTES,
        period=_period_words(setting.document),
        can_read_free_text=auth.can(
            current_user(), Permission.READ_FREE_TEXT, setting.programme_id
        ),
    ), status


def _programme_of(survey_id: str) -> int:
    with app_state().database.session() as db:
        assigned = db.get(SurveyAssignment, survey_id)
        if assigned is None:
            abort(404)
        return assigned.programme_id


@blueprint.post("/<survey_id>/brief/quotes")
@rule(Permission.READ_FREE_TEXT, Scope.SURVEY)
def approve_quotes(survey_id: str) -> Page:
    """Approve the answers ticked on the free-text page as quotes of the survey's brief."""
    # The form's CSRF token is checked for every POST (CSRFProtect in survey_app.app).
    programme_id = _programme_of(survey_id)
    try:
        with app_state().database.session() as db:
            added = brief.approve(
                db,
                actor(),
                programme_id,
                survey_id,
                request.form.getlist("quote"),
                secret_key=str(current_app.config["SECRET_KEY"]),
                redactor=redactor(),
            )
    except brief.BriefError as error:
        flash(translated(error), "error")
        return redirect(url_for("brief.edit", survey_id=survey_id), 303)
    flash(
        _(
            "Quotes approved: %(num)d. They are shown in the brief once it is published.",
            num=added,
        ),
        "success",
    )
    return redirect(url_for("brief.edit", survey_id=survey_id), 303)


@blueprint.post("/<survey_id>/brief/quotes/<quote_id>/withdraw")
@rule(Permission.REFRESH_REPORTS, Scope.SURVEY)
def withdraw_quote(survey_id: str, quote_id: str) -> Page:
    # The form's CSRF token is checked for every POST (CSRFProtect in survey_app.app).
    programme_id = _programme_of(survey_id)
    try:
        with app_state().database.session() as db:
            brief.withdraw(db, actor(), programme_id, survey_id, quote_id[:32])
    except brief.UnknownQuote as error:
        flash(translated(error), "error")
    else:
        flash(_("The quote is withdrawn: no brief shows it any more."), "success")
    return redirect(url_for("brief.edit", survey_id=survey_id), 303)
