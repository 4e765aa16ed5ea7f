"""Errors a person can act on, worded once and read in their own language.

A domain error carries a message id (its English text, as gettext expects) and named
parameters instead of a finished sentence: the web page and the command line each translate the
id into the reader's language and fill in the parameters. `str(error)` is the English text, for
logs and for callers that have no reader. Mark each id with `N_` so that
`scripts/update-translations` puts it in the message catalogue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

# The languages the app's own words (buttons, messages) are translated into: the catalogues in
# survey_app/translations, and English, in which they are written.
INTERFACE_LANGUAGES = ("en", "fr", "es", "ar")


def N_(message_id: str) -> str:
    """Marks a message for the catalogue without translating it here."""
    return message_id


class DomainError(Exception):
    """An error whose message is a catalogue id with parameters (see the module docstring).

    Subclasses set `message_id`, or pass one when the same class words several cases.
    """

    message_id: ClassVar[str] = N_("This cannot be done.")

    def __init__(self, message_id: str | None = None, /, **params: object) -> None:
        self.message = message_id if message_id is not None else type(self).message_id
        self.params = params
        super().__init__(self.message % params)

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The message in the language `gettext` translates into, parameters filled in."""
        return gettext(self.message) % self.params
