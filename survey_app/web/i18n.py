"""The app's own words in the respondent's or staff member's language (Flask-Babel)."""

from __future__ import annotations

from babel import Locale
from flask import Flask, g, request, session
from flask_babel import Babel, gettext

from ..messages import INTERFACE_LANGUAGES, DomainError

UI_LANGUAGES = INTERFACE_LANGUAGES
# Each language named in itself, as a language switch shows it.
UI_LANGUAGE_NAMES = (("en", "English"), ("fr", "Français"), ("es", "Español"), ("ar", "العربية"))
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "ckb", "dv", "yi", "sd", "ug"})


def ui_language_for(code: str, fallback: str = "en") -> str:
    """The closest language the interface is translated into (survey text may have more);
    `fallback` for a language it is not translated into."""
    base = code.split("-")[0].lower()
    return base if base in UI_LANGUAGES else fallback


def text_direction(code: str) -> str:
    return "rtl" if code.split("-")[0].lower() in RTL_LANGUAGES else "ltr"


def _select_locale() -> str:
    chosen = getattr(g, "language", None) or session.get("lang")
    if chosen:
        # A respondent's survey names the language its programme chose for the buttons and
        # messages when the app is not translated into the survey's language.
        return ui_language_for(chosen, getattr(g, "interface_fallback", None) or "en")
    return request.accept_languages.best_match(UI_LANGUAGES) or "en"


# Parsed once: Flask-Babel parses what its selector returns on every request, unless it is a
# Locale already.
_LOCALES = {code: Locale.parse(code) for code in UI_LANGUAGES}


def _babel_locale() -> Locale | str:
    code = _select_locale()
    return _LOCALES.get(code, code)


def page_language() -> str:
    """The language the page is written in: the survey language if one was chosen."""
    return str(getattr(g, "language", None) or session.get("lang") or _select_locale())


def translated(error: DomainError) -> str:
    """A domain error's message in the page's language."""
    return error.translated(gettext)


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=_babel_locale, default_translation_directories="translations")

    @app.context_processor
    def _language_context() -> dict[str, object]:
        language = page_language()
        return {
            "page_lang": language,
            "ui_lang": _select_locale(),
            "page_dir": text_direction(language),
            "staff_languages": UI_LANGUAGE_NAMES,
        }
