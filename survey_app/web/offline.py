"""Assisted entry with no network: the offline page, what it caches, and the upload of its blobs.

The page (``/staff/assist/offline/``) is installed once while online; a service worker keeps
its shell, the assigned surveys and the programmes' public keys. Answers are sealed on the
device (``static/offline/``) and only sealed blobs wait in its queue; they come back through
``upload`` into the same inbox as every other response (``survey_app.intake.offline_upload``).
Like assisted entry, none of these requests is logged one by one (they are under
/staff/assist/, only counted).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from ..definitions import Survey
from ..definitions.device_form import form_of
from ..intake import offline_upload
from ..intake.responses import current_key
from ..keys.padding import padding_plan
from ..models import DistributionLink, SurveyAssignment, User
from ..staff import auth
from ..staff.auth import Permission
from ..state import app_state
from . import sessions
from .access import Scope, current_user, rule
from .assist import paper_form
from .i18n import translated

blueprint = Blueprint("offline", __name__, url_prefix="/staff/assist/offline")

JSON_TYPE = "application/json"
# The page and its worker: a change here must change the worker's bytes so browsers update it.
SHELL_VERSION = "7"


@blueprint.get("/")
@rule(Permission.ENTER_RESPONSES, Scope.ANY_PROGRAMME)
def page() -> str:
    return render_template(
        "assist/offline.html",
        exit_url=app_state().settings.respondent.quick_exit_url,
        max_text=app_state().settings.respondent.max_text_length,
    )


@blueprint.get("/paper/<survey_id>")
@rule(Permission.ENTER_RESPONSES, Scope.SURVEY)
def paper(survey_id: str) -> str:
    """The survey's paper form, as the offline page keeps it for each language (in the
    worker's scope, so that it opens with no network)."""
    return render_template("assist/offline_paper.html", **paper_form(survey_id, "offline.paper"))


@blueprint.get("/sw.js")
@rule(public=True)
def service_worker() -> Response:
    source = render_template(
        "assist/offline_sw.js",
        version=SHELL_VERSION,
        shell=_shell(),
        paper_prefix=url_for("offline.page") + "paper/",
    )
    return Response(source, mimetype="text/javascript")


@blueprint.get("/manifest.webmanifest")
@rule(public=True)
def manifest() -> Response:
    document = {
        # Neutral, like every page title: the installed icon says nothing of what it is for.
        "name": _("Entry"),
        "short_name": _("Entry"),
        "start_url": url_for("offline.page"),
        "scope": url_for("offline.page"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#ffffff",
        "icons": [],
    }
    return Response(json.dumps(document), mimetype="application/manifest+json")


def _shell() -> list[str]:
    """Everything the page needs to open with no network."""
    static = [
        "offline/page.js",
        "offline/seal.js",
        "offline/queue.js",
        "offline/form.js",
        "offline/evaluate.js",
        "offline/offline.css",
        "site.css",
        "staff.css",  # the paper forms'
        "exit.js",
    ]
    return [
        url_for("offline.page"),
        url_for("offline.bundle"),
        url_for("offline.manifest"),
        *(url_for("static", filename=name) for name in static),
    ]


@blueprint.get("/bundle.json")
@rule(Permission.ENTER_RESPONSES, Scope.ANY_PROGRAMME)
def bundle() -> Response:
    """The surveys the caseworker may enter, each with its programme's public key."""
    user = current_user()
    state = app_state()
    programmes = []
    with state.database.session() as db:
        for programme in auth.programmes_where(db, user, Permission.ENTER_RESPONSES):
            key = current_key(db, programme.id)
            if key is None:
                continue
            surveys = []
            ids = db.scalars(
                select(SurveyAssignment.id)
                .where(SurveyAssignment.programme_id == programme.id)
                .order_by(SurveyAssignment.id)
            )
            for survey_id in ids:
                survey = state.surveys.get(survey_id)
                if survey is None:
                    continue
                state.ensure_registered(survey, db)
                surveys.append(_survey_entry(db, survey))
            programmes.append(
                {
                    "id": programme.id,
                    "name": programme.name,
                    "key": {
                        "id": key.key_id,
                        "public": base64.b64encode(key.public_key).decode("ascii"),
                    },
                    "surveys": surveys,
                }
            )
    document = {
        "programmes": programmes,
        "period": state.settings.privacy.period,
        "maxRequestBytes": state.settings.respondent.max_form_bytes,
        "maxBatch": offline_upload.MAX_BATCH,
        # How long the page keeps a survey version replaced since it was cached.
        "retiredKeyGraceDays": state.settings.offline.retired_key_grace_days,
        "refreshed": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return Response(json.dumps(document, ensure_ascii=False), mimetype=JSON_TYPE)


def _survey_entry(db: Session, survey: Survey) -> dict[str, Any]:
    sites = sorted(
        db.scalars(
            select(DistributionLink.site).where(DistributionLink.survey_id == survey.id).distinct()
        )
    )
    plan = padding_plan(survey.canonical_json, sites)
    return {
        "id": survey.id,
        "version": survey.version,
        "sites": sites,
        "padding": {
            "fixed": plan[0] if plan else None,
            "freeText": sorted(plan[1]) if plan else [],
        },
        "form": form_of(survey),
        "paper": {
            language.code: url_for("offline.paper", survey_id=survey.id, lang=language.code)
            for language in survey.languages
        },
    }


@blueprint.get("/token")
@rule(Permission.ENTER_RESPONSES, Scope.ANY_PROGRAMME)
def token() -> Response:
    """A CSRF token for the upload; also how the page learns that it is still signed in."""
    return Response(json.dumps({"csrf": generate_csrf()}), mimetype=JSON_TYPE)


@blueprint.post("/upload")
@rule(Permission.ENTER_RESPONSES, Scope.ANY_PROGRAMME)
def upload() -> tuple[Response, int]:
    refused = _foreign_request()
    if refused:
        return _problem(refused, 403)
    if request.mimetype != JSON_TYPE:
        return _problem(str(_("Send the responses as JSON.")), 415)
    document = request.get_json(silent=True)
    try:
        items = offline_upload.read_batch(document)
    except offline_upload.UploadError as error:
        return _problem(translated(error), 400)
    state = app_state()
    user = current_user()
    with state.database.session() as db:
        fresh = db.get(User, user.id)
        if fresh is None:
            abort(403)
        context = offline_upload.UploadContext(
            programmes=frozenset(
                p.id for p in auth.programmes_where(db, fresh, Permission.ENTER_RESPONSES)
            ),
            catalogue=state.surveys,
            granularity=state.settings.privacy.period,
            now=datetime.now(UTC),
            retired_key_grace=timedelta(days=state.settings.offline.retired_key_grace_days),
        )
        results = offline_upload.accept_batch(db, items, context)
    body = {"results": [result.as_json() for result in results]}
    return Response(json.dumps(body), mimetype=JSON_TYPE), 200


def _foreign_request() -> str | None:
    """Same origin only: the CSRF token is the main guard, the browser's own word the second."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in {"same-origin", "none"}:
        return str(_("Uploads are accepted only from this site's own offline page."))
    origin = request.headers.get("Origin")
    if origin is not None and origin.rstrip("/") != request.host_url.rstrip("/"):
        return str(_("Uploads are accepted only from this site's own offline page."))
    return None


def _problem(message: str, status: int) -> tuple[Response, int]:
    return Response(json.dumps({"error": message}), mimetype=JSON_TYPE), status


@blueprint.post("/exit")
@rule(public=True)
def quick_exit() -> BaseResponse:
    """Leave at once: end the caseworker's session, but keep the device's sealed queue.

    Unlike the respondents' quick exit this does not ask the browser to clear the site's
    storage: the queue holds only sealed blobs, and clearing it would lose interviews.
    """
    sessions.end_on_quick_exit("quick exit (offline page)")
    response = Response(status=204)
    response.headers["Clear-Site-Data"] = '"cookies"'
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    # Leaving must always work, even with an expired session: it only ends a session.
    app.extensions["csrf"].exempt(quick_exit)
