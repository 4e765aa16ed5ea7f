"""Templates compiled once per interface language, with the app's own words already translated.

A page calls `_("...")` a few dozen times; at run time each call goes through Flask-Babel
(request context, locale, catalogue) and cost more than the rest of the page. Here each
interface language has its own compiled copy of every template (a Jinja overlay with its own
cache), in which a `_()` whose text is a literal is replaced, while compiling, by its translation
in that language. The result is the same markup the run-time call gives: the translation marked
safe, formatted with the call's keyword arguments (escaped), as Jinja's "newstyle" gettext does.

Which copy renders a page is decided when the template is looked up, from the same locale the
run-time calls would use (`flask_babel.get_locale()`); without a request (or with no locale) the
plain environment, with run-time translation, is used.
"""

from __future__ import annotations

import threading
from collections import ChainMap
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import has_request_context
from flask.templating import Environment as FlaskEnvironment
from flask_babel import force_locale, get_locale, get_translations
from jinja2 import Template
from jinja2.environment import TemplateModule
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2.runtime import Context

_GETTEXT = "_"
# Brackets whose contents are skipped when looking for the end of an argument.
_OPENING = {"lparen": "rparen", "lbracket": "rbracket", "lbrace": "rbrace"}


class ImportedOnceTemplate(Template):
    """A template whose `{% import %}` reuses its one module, as Jinja's does, found faster.

    Jinja makes a new module for an import only when the importing page has globals the
    imported template lacks, and finds out by subtracting a ChainMap's keys from a set: a
    Python-level loop over every global for each import. A page imports the widget of each
    question it draws (questions/question.html), so that check cost more than the widget.
    The same answer comes from one set difference in C.
    """

    def _get_default_module(self, ctx: Context | None = None) -> TemplateModule:
        if (
            ctx is not None
            and isinstance(self.globals, ChainMap)
            and not ctx.globals_keys.difference(*self.globals.maps)
        ):
            ctx = None  # no globals of its own to add: the template's one module
        return super()._get_default_module(ctx)


class LanguageEnvironment(FlaskEnvironment):
    """Flask's template environment, which hands each template lookup to the copy compiled for
    the request's interface language."""

    template_class = ImportedOnceTemplate

    # Set on the per-language copies only: their language and its gettext.
    language: str | None = None
    translate_literal: Callable[[str], str] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._languages: dict[str, LanguageEnvironment] = {}
        self._languages_lock = threading.Lock()

    def get_template(self, name: Any, parent: str | None = None, globals: Any = None) -> Any:
        target = self._for_request()
        if target is self:
            return super().get_template(name, parent, globals)
        return target.get_template(name, parent, globals)

    def _for_request(self) -> LanguageEnvironment:
        if self.language is not None or not has_request_context():
            return self
        locale = get_locale()
        if locale is None:
            return self
        language = str(locale)
        copy = self._languages.get(language)
        if copy is None:
            with self._languages_lock:
                copy = self._languages.get(language)
                if copy is None:
                    copy = self._languages[language] = self._copy_for(language)
        return copy

    def _copy_for(self, language: str) -> LanguageEnvironment:
        # A cache of its own: the plain environment's compiled templates call gettext at run time.
        copy = self.overlay(cache_size=getattr(self.cache, "capacity", 400))
        assert isinstance(copy, LanguageEnvironment)
        with force_locale(language):
            translations = get_translations()
        copy.language = language
        copy.translate_literal = translations.ugettext
        copy.add_extension(TranslateLiterals)
        return copy


class TranslateLiterals(Extension):
    """Replaces `_("literal", name=value, ...)` by its translation, while compiling."""

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        translate = getattr(self.environment, "translate_literal", None)
        if translate is None:
            return stream
        return _rewrite(list(stream), translate)


def _rewrite(tokens: list[Token], translate: Callable[[str], str]) -> Iterator[Token]:
    index = 0
    while index < len(tokens):
        replaced = _translated_call(tokens, index, translate)
        if replaced is None:
            yield tokens[index]
            index += 1
            continue
        new_tokens, index = replaced
        yield from new_tokens


def _translated_call(
    tokens: list[Token], start: int, translate: Callable[[str], str]
) -> tuple[list[Token], int] | None:
    """The tokens that replace a `_()` call beginning at `start`, and the index after the call;
    None when there is no such call there or it is not one this can replace."""
    if not _is(tokens, start, "name", _GETTEXT) or not _is(tokens, start + 1, "lparen"):
        return None
    if not _is(tokens, start + 2, "string"):
        return None
    if start > 0 and tokens[start - 1].type == "dot":
        return None  # `x._("...")`: someone else's method
    line = tokens[start].lineno
    text = translate(tokens[start + 2].value)
    arguments: list[tuple[str, list[Token]]] = []
    index = start + 3
    while not _is(tokens, index, "rparen"):
        if not (
            _is(tokens, index, "comma")
            and _is(tokens, index + 1, "name")
            and _is(tokens, index + 2, "assign")
        ):
            return None  # a positional argument or something unexpected: left to run time
        name = tokens[index + 1].value
        end = _argument_end(tokens, index + 3)
        if end is None or end == index + 3:
            return None
        arguments.append((name, tokens[index + 3 : end]))
        index = end
    if not arguments:
        try:
            text = text % {}  # as newstyle gettext does, so "%%" reads "%"
        except (KeyError, ValueError, TypeError):
            return None  # fails the same way at run time: leave it to fail there
    safe = [
        Token(line, "lparen", "("),
        Token(line, "string", text),
        Token(line, "pipe", "|"),
        Token(line, "name", "safe"),
        Token(line, "rparen", ")"),
    ]
    if not arguments:
        return safe, index + 1
    # (("translation")|safe) % {"name": (value), ...}: Markup's % escapes each value.
    result = [
        Token(line, "lparen", "("),
        *safe,
        Token(line, "mod", "%"),
        Token(line, "lbrace", "{"),
    ]
    for position, (name, value) in enumerate(arguments):
        if position:
            result.append(Token(line, "comma", ","))
        result += [
            Token(line, "string", name),
            Token(line, "colon", ":"),
            Token(line, "lparen", "("),
            *value,
            Token(line, "rparen", ")"),
        ]
    result += [Token(line, "rbrace", "}"), Token(line, "rparen", ")")]
    return result, index + 1


def _argument_end(tokens: list[Token], index: int) -> int | None:
    """The index of the comma or closing parenthesis that ends the argument starting here."""
    closing: list[str] = []
    while index < len(tokens):
        kind = tokens[index].type
        if not closing and kind in ("comma", "rparen"):
            return index
        if kind in _OPENING:
            closing.append(_OPENING[kind])
        elif closing and kind == closing[-1]:
            closing.pop()
        elif kind in ("rparen", "rbracket", "rbrace", "variable_end", "block_end", "eof"):
            return None
        index += 1
    return None


def _is(tokens: list[Token], index: int, kind: str, value: str | None = None) -> bool:
    if index >= len(tokens):
        return False
    token = tokens[index]
    return token.type == kind and (value is None or token.value == value)
