"""A caseworker's tab going through assisted entry, as far as the HTTP routes are concerned.

Every page of an interview is the reply to a POST to the survey's entry address; the tab keeps
only the last page it was shown (`html`), whose form carries the draft field and the section.
"""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.web import DRAFT_FIELD, csrf_token

SECTION_FIELD = re.compile(r'name="page" value="(\d+|review)"')


class Interview:
    def __init__(
        self,
        client: FlaskClient,
        survey_id: str,
        site: str = "North",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.client = client
        self.headers = headers or {}
        self.survey_id = survey_id
        self.site = site
        self.html = ""
        self.sent: list[dict[str, Any]] = []  # every form this tab posted, for replay attacks

    @property
    def url(self) -> str:
        return f"/staff/assist/{self.survey_id}/entry"

    @property
    def draft(self) -> str | None:
        match = DRAFT_FIELD.search(self.html)
        return match.group(1) if match else None

    @property
    def section(self) -> str | None:
        """The section on screen ("1", "2", …), "review", or None (not an interview page)."""
        match = SECTION_FIELD.search(self.html)
        return match.group(1) if match else None

    def start(self, lang: str = "en") -> TestResponse:
        setup = self.client.get(f"/staff/assist/{self.survey_id}", headers=self.headers)
        token = csrf_token(setup.get_data(as_text=True))
        return self.post({"site": self.site, "lang": lang, "csrf_token": token})

    def post(self, data: dict[str, Any]) -> TestResponse:
        self.sent.append(data)
        reply = self.client.post(self.url, data=data, headers=self.headers)
        self.html = reply.get_data(as_text=True)
        return reply

    def form(self, data: dict[str, Any], action: str = "next") -> dict[str, Any]:
        assert self.draft is not None, "this page has no draft field"
        return {
            **data,
            "csrf_token": csrf_token(self.html),
            "draft": self.draft,
            "page": self.section,
            "action": action,
        }

    def send(self, data: dict[str, Any] | None = None, action: str = "next") -> TestResponse:
        return self.post(self.form(data or {}, action))

    def answer(self, section: int, data: dict[str, Any], action: str = "next") -> TestResponse:
        assert self.section == str(section), f"the tab shows {self.section}, not {section}"
        return self.send(data, action)

    def enter(self, *sections: dict[str, Any], lang: str = "en") -> TestResponse:
        """Start, answer each section in turn, and save from the review page."""
        reply = self.start(lang)
        assert reply.status_code == 200, reply.status_code
        for data in sections:
            reply = self.send(data)
            assert reply.status_code == 200, (reply.status_code, self.section)
        assert self.section == "review", f"the tab shows {self.section}, not the review"
        return self.send(action="save")
