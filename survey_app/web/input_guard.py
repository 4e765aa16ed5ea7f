"""Refuse malformed input before any view sees it, the same way on SQLite and PostgreSQL.

PostgreSQL cannot store or even compare a text containing NUL, and control characters have no
business in an address, a header or a form field; SQLite would take them silently. So a request
carrying one is answered 400 with a message saying what is wrong, before it reaches the database.
Form fields may hold tab and line breaks (a text answer has paragraphs); nothing else may.

Whole numbers in addresses are bounded to what an INTEGER column holds, so an id like
99999999999999999999 is a 404 rather than a database error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

# Every C0 control character and DEL.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The same, less tab, line feed and carriage return: allowed in form fields.
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The same, less tab: allowed between a header's words.
CONTROL_IN_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
LARGEST_ID = 2**31 - 1


class ControlCharacters(BadRequest):
    """A request carrying NUL or another control character; the description says where."""

    user_facing = True

    def __init__(self, where: str) -> None:
        super().__init__(where)


class BoundedIntegerConverter(IntegerConverter):
    """`<int:...>` in a route: 0 to 2**31 - 1, what every id column holds on both databases."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Call before any blueprint is registered, so that every route uses the bounded ids."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request(refuse_control_characters)


def refuse_control_characters() -> None:
    # Each part joined into one text and searched once: a search per header and per field cost
    # more than the rest of this check.
    if CONTROL.search(request.path) or CONTROL.search(_joined(request.args.items(multi=True))):
        raise ControlCharacters(
            _("The address contains a character that cannot be used. Please check the link.")
        )
    # The headers as the server handed them on (Werkzeug's Headers are made from these).
    headers = _joined(
        (name, value)
        for name, value in request.environ.items()
        if isinstance(value, str) and (name.startswith("HTTP_") or name in _BODY_HEADERS)
    )
    if CONTROL_IN_HEADER.search(headers):
        raise ControlCharacters(
            _("The request contains a character that cannot be used. Please try again.")
        )
    if request.method == "POST" and CONTROL_IN_TEXT.search(_joined(request.form.items(multi=True))):
        raise ControlCharacters(
            _(
                "What you sent contains a character that cannot be used (a control character). "
                "Please remove it and try again."
            )
        )


_BODY_HEADERS = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})


def _joined(items: Iterable[tuple[str, str]]) -> str:
    return " ".join([f"{key} {value}" for key, value in items])
