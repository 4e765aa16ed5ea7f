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


DRAFT_FIELD = re.compile(r'name="draft" value="([^"]+)"')
PAGE_FIELD = re.compile(r'name="page" value="(\d+)"')


def page_number(html: str) -> int | None:
    match = PAGE_FIELD.search(html)
    return int(match.group(1)) if match else None


class Respondent:
    """A survivor's browser tab going through a link, as far as the HTTP routes are concerned.

    Every page after the landing page is the reply to a POST to the link's one address; the
    tab keeps only the last page it was shown (`html`), whose form carries the draft field.
    """

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.token = token
        self.html = ""
        self.sent: list[dict[str, Any]] = []  # every form this tab posted, for replay attacks

    @property
    def url(self) -> str:
        return f"/s/{self.token}"

    @property
    def draft(self) -> str | None:
        match = DRAFT_FIELD.search(self.html)
        return match.group(1) if match else None

    @property
    def page(self) -> int | None:
        return page_number(self.html)

    def start(self, lang: str = "en", code: str | None = None) -> TestResponse:
        landing = self.client.get(self.url)
        data = {"lang": lang, "csrf_token": csrf_token(landing.get_data(as_text=True))}
        if code is not None:
            data["code"] = code
        return self.post(data)

    def post(self, data: dict[str, Any]) -> TestResponse:
        self.sent.append(data)
        reply = self.client.post(self.url, data=data)
        self.html = reply.get_data(as_text=True)
        return reply

    def form(self, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """`data` as the current page's form would send it (CSRF token, draft and page fields)."""
        assert self.draft is not None, "this page has no draft field"
        return {
            **data,
            "csrf_token": csrf_token(self.html),
            "draft": self.draft,
            "page": str(self.page),
            **extra,
        }

    def submit(self, number: int, data: dict[str, Any], action: str = "next") -> TestResponse:
        assert self.page == number, f"the tab shows page {self.page}, not {number}"
        return self.post(self.form(data, action=action))

    def switch_language(self, lang: str, data: dict[str, Any] | None = None) -> TestResponse:
        return self.post(self.form(data or {}, switch_lang=lang))

    def complete(self, *pages: dict[str, Any], lang: str = "en") -> TestResponse:
        """Start, then send each page in turn; returns the reply to the last one."""
        reply = self.start(lang)
        assert reply.status_code == 200, reply.status_code
        for data in pages:
            reply = self.submit(self.page or 0, data)
        return reply
