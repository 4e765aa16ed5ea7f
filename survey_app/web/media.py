"""The pictures and sounds of the surveys being served, from the app's own origin.

`/media/<survey id>/<file>?v=<digest>`: only files the survey names and that were checked when
it was loaded (PNG, JPEG or WebP pictures, MP3, Ogg, WAV or M4A sounds, by content, size
capped; definitions/media.py). The address changes with the content, so browsers may keep a
file for a year; pages without pictures load nothing more, and a sound is fetched when played.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Flask, Response, abort

from ..definitions.media import media_folder, sniff
from ..state import app_state
from .access import rule

blueprint = Blueprint("media", __name__)
YEAR = 365 * 24 * 3600


@blueprint.get("/media/<survey_id>/<path:name>")
@rule(public=True)  # the same pictures for everyone; nothing anyone answered
def picture(survey_id: str, name: str) -> Response:
    state = app_state()
    survey = state.surveys.get(survey_id)
    media = survey.media.get(name) if survey is not None else None
    if survey is None or media is None:
        abort(404)
    try:
        data = (media_folder(state.settings.surveys_dir, survey.id) / media.name).read_bytes()
    except OSError:
        abort(404)
    content_type = sniff(data, media.content_type)
    if content_type is None or hashlib.sha256(data).hexdigest()[:12] != media.digest:
        abort(404)  # changed since the survey was loaded: served again once it is reloaded
    response = Response(data, content_type=content_type)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
