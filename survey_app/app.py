"""The application factory: the one place where the pieces are put together."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import (
    Settings,
    check_can_serve,
    ensure_secret_key,
    load_settings,
    make_instance_folder,
)
from .db import Database
from .definitions.types import registry as question_types
from .state import AppState
from .web import (
    access,
    admin,
    assist,
    brief,
    errors,
    i18n,
    input_guard,
    media,
    offline,
    preview,
    reports,
    respond,
    results_page,
    security,
    sessions,
    staff,
)
from .web import auth as auth_views
from .web.question_view import QuestionView
from .web.templates import LanguageEnvironment
from .web.text import paragraphs

log = logging.getLogger(__name__)


class SurveyApp(Flask):
    # Templates compiled per interface language, the app's own words translated once.
    jinja_environment = LanguageEnvironment

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._made_sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # Flask asks `inspect` whether each view, hook and context processor is a coroutine
        # function at every call, a dozen times a request; the answer never changes.
        made = self._made_sync.get(func)
        if made is None:
            made = self._made_sync[func] = super().ensure_sync(func)
        return made


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    check_can_serve(settings)
    app = SurveyApp(__name__, instance_path=str(settings.instance_path.resolve()))
    make_instance_folder(settings.instance_path)
    app.config.update(_flask_config(settings))
    # Less whitespace in every page: respondents may pay for each byte.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["paragraphs"] = paragraphs
    # Each question type's template, wherever the type keeps it; a type that cannot be drawn
    # stops the start here rather than a respondent's page later.
    own = app.jinja_loader
    assert own is not None
    app.jinja_loader = ChoiceLoader([own, question_types.TemplateLoader()])
    app.jinja_env.globals["respondent_view"] = QuestionView.respondent
    question_types.check_templates(app.jinja_env)

    logging.getLogger("survey_app").setLevel(settings.log_level.upper())
    database = Database(
        settings.database_url, sqlite_busy_timeout_ms=settings.database.sqlite_busy_timeout_ms
    )
    app.extensions["survey_app"] = AppState.build(settings, database)

    CSRFProtect(app)
    input_guard.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    sessions.init_app(app)
    access.init_app(app)
    respond.init_app(app)
    offline.init_app(app)
    media.init_app(app)
    for staff_blueprint in (auth_views, staff, assist, preview, admin, reports):
        app.register_blueprint(staff_blueprint.blueprint)
    # The analyst's page and the public page it makes.
    app.register_blueprint(results_page.blueprint)
    app.register_blueprint(brief.blueprint)
    _trust_proxies(app, settings)
    return app


def _trust_proxies(app: Flask, settings: Settings) -> None:
    """Take the client's address and scheme from the last `trusted_proxies` proxies' headers.

    Without it every client behind a proxy has the proxy's address and all of them share one
    rate-limit budget; with too high a number a client could choose its own address.
    """
    count = settings.server.trusted_proxies
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
    elif settings.environment == "production":
        log.warning(
            "server.trusted_proxies is 0: if a proxy (nginx, Caddy...) is in front of this app, "
            "every client seems to come from it and all share one rate-limit budget; set "
            "server.trusted_proxies (SURVEY_APP_SERVER_TRUSTED_PROXIES) to the number of proxies"
        )


def _flask_config(settings: Settings) -> dict[str, Any]:
    return {
        "SECRET_KEY": ensure_secret_key(settings),
        "MAX_CONTENT_LENGTH": settings.respondent.max_form_bytes,
        "MAX_FORM_MEMORY_SIZE": settings.respondent.max_form_bytes,
        # A neutral cookie name: it says nothing about what the site is.
        "SESSION_COOKIE_NAME": "s",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not settings.is_development,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session cookie
        "WTF_CSRF_SSL_STRICT": False,  # Referer is never sent (no-referrer), so it cannot be checked
        "TESTING": settings.environment == "testing",
    }
