"""Respondent pages rendered once per shape, then served with each request's own tokens.

Rendering a survey page cost more than everything else a respondent's request does, and most
pages come out the same for everyone who reaches them the same way: the same version, page,
language, visible questions and options, programme and help. Only the CSRF token and the draft
field differ. So the first such page is rendered with placeholders where those two go, kept, and
later requests get a copy with their own tokens put in.

What may be kept is decided by the view (`Later.keepable`): a page that puts back no answer
(none in a field, no errors, none inserted into a label, no access code). Which page, options
and page count a respondent reached do follow from earlier answers: kept pages tell, while the
process runs, which of those shapes were reached at a link (README, "What is kept"). What a kept page looks like is decided by everything it was rendered from: the
whole template context after the context processors, the link in the address, the interface
language, the programme in `g`, whether the page carries a draft and whether the browser has a
session (the quick-exit form then carries its token). A value that cannot be
compared (an object of a kind not listed below) makes the page render as before, uncached.
Survey definitions are compared by identity: a version's objects never change, and a new version
is new objects.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
from collections.abc import Hashable, Mapping
from typing import Any

from flask import (
    Flask,
    before_render_template,
    current_app,
    g,
    request,
    session,
    template_rendered,
)
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from ..definitions.schema import Choice, Language, LocalisedText, Page, Question, Survey
from .served_links import ServedProgramme

# The template context's own objects, which come from the request, not from the page's shape.
_REQUEST_OBJECTS = frozenset({"g", "request", "session", "config"})
# Parts of a survey definition: compared by identity (see the module's docstring).
_DEFINITION = (Survey, Page, Question, Choice, Language, LocalisedText)


class NotComparable(Exception):
    """A context value of a kind this module cannot tell apart: the page is rendered uncached."""


class _Same:
    """A value compared by identity; holding it keeps its id from being reused while kept."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.value is self.value


def fingerprint(value: Any) -> Hashable:
    """A hashable value equal for two contexts only if they render the same."""
    kind = type(value)
    if kind in _SCALARS:
        # The type too: Markup is not escaped where the same str would be, and True == 1.
        return (kind, value)
    if kind is list or kind is tuple:
        return (kind, tuple([fingerprint(item) for item in value]))
    if kind is dict:
        # In order: a template loops over a mapping in its order.
        return (dict, tuple([(fingerprint(key), fingerprint(item)) for key, item in value.items()]))
    if isinstance(value, _DEFINITION):
        return _Same(value)
    if kind is ServedProgramme:
        # Read from the database for each request: compared by what it holds.
        return (kind, tuple([fingerprint(getattr(value, f.name)) for f in _PROGRAMME_FIELDS]))
    if callable(value) and hasattr(value, "__code__"):
        return _Same(value)  # a module-level function the context processors hand on
    raise NotComparable(kind.__name__)


_SCALARS = frozenset({type(None), str, int, bool, float, Markup})
_PROGRAMME_FIELDS = dataclasses.fields(ServedProgramme)


@dataclasses.dataclass(frozen=True)
class _Kept:
    html: str
    has_csrf: bool
    has_draft: bool


class PageShapes:
    """Rendered respondent pages by shape; at most `capacity` of them (0: keep none)."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._kept: dict[Hashable, _Kept] = {}
        self._lock = threading.Lock()
        # Random per process, so no survey text can contain them.
        self._csrf_mark = f"csrf{secrets.token_hex(16)}"
        self._draft_mark = f"draft{secrets.token_hex(16)}"

    def render(self, template_name: str, context: Mapping[str, Any]) -> str:
        """`template_name` rendered with `context`, as `flask.render_template` would."""
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        full = dict(context)
        app.update_template_context(full)
        # Templates reloaded when their files change (debug) would leave kept pages stale.
        keeping = self.capacity and not app.jinja_env.auto_reload
        key = self._key(template_name, full) if keeping else None
        if key is None:
            return self._render(template_name, full)
        kept = self._kept.get(key)
        if kept is None:
            kept = self._render_shape(template_name, full)
            with self._lock:
                while len(self._kept) >= self.capacity:
                    del self._kept[next(iter(self._kept))]
                self._kept[key] = kept
        html = kept.html
        if kept.has_csrf:
            # The context's own token function: a respondent's pages have one of their own.
            make_token = full.get("csrf_token", generate_csrf)
            html = html.replace(self._csrf_mark, make_token())
        if kept.has_draft:
            html = html.replace(self._draft_mark, g.draft_field)
        return html

    def __len__(self) -> int:
        return len(self._kept)

    def _key(self, template_name: str, context: dict[str, Any]) -> Hashable | None:
        programme = g.get("programme")
        try:
            # The context names the same programme again, mostly: compared once.
            programme_print = fingerprint(programme)
            return (
                template_name,
                tuple(
                    [
                        (name, programme_print if value is programme else fingerprint(value))
                        for name, value in sorted(context.items())
                        if name not in _REQUEST_OBJECTS
                    ]
                ),
                fingerprint(request.view_args),
                request.script_root,
                str(get_locale()),
                programme_print,
                bool(g.get("draft_field")),
                # The quick-exit form carries a token only for a browser with a session.
                bool(session),
            )
        except NotComparable:
            return None

    def _render_shape(self, template_name: str, context: dict[str, Any]) -> _Kept:
        draft = g.get("draft_field")
        shape = dict(context, csrf_token=lambda: self._csrf_mark)
        if draft:
            g.draft_field = self._draft_mark
        try:
            html = self._render(template_name, shape)
        finally:
            if draft:
                g.draft_field = draft
        return _Kept(html, self._csrf_mark in html, self._draft_mark in html)

    @staticmethod
    def _render(template_name: str, context: dict[str, Any]) -> str:
        # As flask.templating._render, the context processors already applied.
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        template = app.jinja_env.get_or_select_template(template_name)
        before_render_template.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )
        html: str = template.render(context)
        template_rendered.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )
        return html
