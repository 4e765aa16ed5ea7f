"""The app's own words around survey questions: built-in options, "required", paper hints.

One list, so the respondent pages, assisted entry, the paper form and the sentences describing
skip logic all say "Yes, I agree" the same way, in the language asked for.

The words of each interface language are looked up once per process and kept: a page needs
them for every question it draws, and the catalogues do not change while the app runs.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import MappingProxyType

from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from .i18n import ui_language_for

_KEPT: dict[str, Mapping[str, str]] = {}
_KEEPING = threading.Lock()


def builtin_words(lang: str | None = None, fallback: str = "en") -> Mapping[str, str]:
    """The words in `lang` (None: the interface language of the request), or in `fallback`
    (a survey's interface_language) when the app is not translated into `lang`."""
    if lang is None:
        locale = get_locale()
        if locale is None:  # no request: whatever gettext gives
            return _words()
        language = str(locale)
    else:
        language = ui_language_for(lang, fallback)
    words = _KEPT.get(language)
    if words is None:
        with _KEEPING, force_locale(language):
            words = _KEPT[language] = MappingProxyType(_words())
    return words


def _words() -> dict[str, str]:
    return {
        "yes": _("Yes"),
        "no": _("No"),
        "agree": _("Yes, I agree"),
        "disagree": _("No, I do not want to take part"),
        "pnts": _("Prefer not to say"),
        "other": _("Other"),
        "other_text": _("If other, please say what"),
        "required": _("required"),
        "site": _("Site:"),
        "tick_all": _("Tick all that apply."),
    }
