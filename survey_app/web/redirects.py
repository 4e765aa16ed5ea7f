"""Where a `next=` address may lead after signing in: only to a page of this site.

The check is made on the address as a browser would read it: browsers drop tabs and line
breaks inside a URL and treat a backslash as a slash, so `/\t/evil.example`, `/\\evil.example`
and `//evil.example` all lead to another host. Anything with a control character, a backslash,
a scheme or a host, or that is not a page this app serves by GET, is refused (None).
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

from flask import current_app
from werkzeug.exceptions import HTTPException

from .input_guard import CONTROL


def same_site_path(target: str | None) -> str | None:
    """`target` when it is a path of this site's pages, else None."""
    if not target or CONTROL.search(target) or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    path = unquote(parts.path)
    if path.startswith("//") or "\\" in path or CONTROL.search(path):
        return None
    try:
        current_app.url_map.bind("localhost").match(path, method="GET")
    except HTTPException:  # not a page of ours, or not one opened by GET
        return None
    return urlunsplit(("", "", parts.path, parts.query, ""))
