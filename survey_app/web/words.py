"""The app's own words around survey questions: built-in options, "required", paper hints.

One list, so the respondent pages, assisted entry, the paper form and the sentences describing
skip logic all say "Yes, I agree" the same way, in the language asked for.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from .i18n import ui_language_for


def builtin_words(lang: str | None = None) -> dict[str, str]:
    """The words in `lang` (None: the interface language of the request)."""
    if lang is None:
        return _words()
    with force_locale(ui_language_for(lang)):
        return _words()


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
