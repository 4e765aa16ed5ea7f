"""The command line's help texts in the terminal's language.

Each command's description (its docstring) and each option's help are catalogue ids as they
are written: `scripts/update-translations` collects them with ``extract`` (named in babel.cfg),
and ``HelpInOperatorLanguage`` shows them translated while a command runs, in the language the
terminal asks for (see ``operator_language``). Click's own words (Usage, Options) stay English.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

import click
from babel.support import Translations

from . import TRANSLATIONS, operator_language


def texts_of(command: click.Command) -> Iterator[tuple[Any, str, str]]:
    """(object, attribute, text) for every help text of `command` and its subcommands; a
    command's description is cleaned as Click shows it."""
    if command.help:
        yield command, "help", inspect.cleandoc(command.help)
    for parameter in command.params:
        if isinstance(parameter, click.Option) and parameter.help:
            yield parameter, "help", parameter.help
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            yield from texts_of(subcommand)


@contextmanager
def translated(command: click.Command, gettext: Callable[[str], str]) -> Iterator[None]:
    """Every help text of `command` translated with `gettext` until the block ends."""
    kept = [(owner, name, getattr(owner, name)) for owner, name, _ in texts_of(command)]
    try:
        for owner, name, text in list(texts_of(command)):
            setattr(owner, name, gettext(text))
        yield
    finally:
        for owner, name, value in kept:
            setattr(owner, name, value)


class HelpInOperatorLanguage(click.Group):
    """The top command: its commands' help texts read in the terminal's language."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        language = operator_language()
        if language is None:
            return super().main(*args, **kwargs)
        with translated(self, Translations.load(TRANSLATIONS, [language]).gettext):
            return super().main(*args, **kwargs)


def extract(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Iterator[Any]:
    """Babel extractor for survey_app/cli.py: its messages as the Python extractor finds
    them, then every help text of the `survey-app` command."""
    from babel.messages.extract import extract_python

    yield from extract_python(fileobj, keywords, comment_tags, options)
    from ..cli import main

    seen: set[str] = set()
    for _owner, _name, text in texts_of(main):
        if text not in seen:
            seen.add(text)
            yield 0, None, text, []
