"""Told the truth when the last page loses a race: two pages sent at the same moment from one
page (Submit, and Back or a language), the other first."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from survey_app.intake.drafts import DraftHandle, DraftStore
from survey_app.models import Draft
from survey_app.state import app_state
from tests.support.apps import Deployment, read_back
from tests.support.web import Respondent


def test_submit_that_loses_to_a_page_sent_at_the_same_moment_is_not_told_saved(
    app: Flask, client: FlaskClient, deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Submit and Back sent at once: both read the draft, then Back moves it on first. The
    Submit finds no draft to finish; it must not say the answers were saved."""
    tab = Respondent(client, deployment.links["minimal"])
    tab.start()
    tab.submit(1, {"consent": "yes"})
    draft_id = tab.draft.split(".")[0] if tab.draft else ""
    finish_with = DraftStore.finish_with

    def back_wins_first(self: DraftStore, handle: DraftHandle, *args: Any) -> bool:
        with app_state(app).database.session() as other:  # the Back request, committed
            other.execute(update(Draft).where(Draft.id == draft_id).values(id="moved-on"))
        return finish_with(self, handle, *args)

    monkeypatch.setattr(DraftStore, "finish_with", back_wins_first)
    lost = client.post(tab.url, data=tab.form({"felt_safe": "yes"}, action="next"))
    assert lost.status_code == 410
    assert "Your answers have been saved" not in lost.get_data(as_text=True)
    assert read_back(app, deployment.programme_id, "minimal") == []


def test_a_double_tap_on_submit_is_told_thank_you_once_stored(
    app: Flask, client: FlaskClient, deployment: Deployment
) -> None:
    tab = Respondent(client, deployment.links["minimal"])
    tab.start()
    tab.submit(1, {"consent": "yes"})
    submit = tab.form({"felt_safe": "yes"}, action="next")
    first, second = (client.post(tab.url, data=submit) for _ in range(2))
    assert all("Thank you" in reply.get_data(as_text=True) for reply in (first, second))
    assert len(read_back(app, deployment.programme_id, "minimal")) == 1
