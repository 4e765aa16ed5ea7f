"""A browser as far as the HTTP routes are concerned: forms with their CSRF token, a respondent."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def post_form(
    client: FlaskClient, url: str, data: dict[str, Any], *, page_url: str | None = None
) -> TestResponse:
    """POST as a browser would: with the CSRF token of the page the form is on."""
    page = client.get(page_url or url)
    return client.post(url, data={**data, "csrf_token": csrf_token(page.get_data(as_text=True))})


class Respondent:
    """A survivor's browser going through a link, as far as the HTTP routes are concerned."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.token = token

    def start(self, lang: str = "en", code: str | None = None) -> TestResponse:
        landing = self.client.get(f"/s/{self.token}")
        data = {"lang": lang, "csrf_token": csrf_token(landing.get_data(as_text=True))}
        if code is not None:
            data["code"] = code
        return self.client.post(f"/s/{self.token}/start", data=data)

    def submit(self, number: int, data: dict[str, Any], action: str = "next") -> TestResponse:
        page = self.client.get(f"/s/{self.token}/p/{number}")
        assert page.status_code == 200, f"page {number}: {page.status_code}"
        return self.client.post(
            f"/s/{self.token}/p/{number}",
            data={**data, "action": action, "csrf_token": csrf_token(page.get_data(as_text=True))},
        )

    def complete(self, *pages: dict[str, Any], lang: str = "en") -> TestResponse:
        """Start, then send each page in turn; returns the reply to the last one."""
        reply = self.start(lang)
        assert reply.status_code == 303, reply.status_code
        for number, data in enumerate(pages, 1):
            reply = self.submit(number, data)
        return reply
