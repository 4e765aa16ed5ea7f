"""Templates compiled once per interface language read exactly as with run-time translation."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from survey_app.web.templates import LanguageEnvironment
from tests.support.apps import Deployment
from tests.support.web import Respondent

# What differs from one request to the next whatever the templates: tokens and draft keys.
VARYING = re.compile(r'(name="(?:csrf_token|draft)" value=")[^"]*(")')


def pages_seen(app: Flask, token: str, language: str) -> list[str]:
    """A visitor whose browser asks for `language`: the pages a respondent and a staff member
    see, error pages included, the app's own words and their formatted sentences."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    replies = [
        client.get(f"/s/{token}"),
        client.get("/s/no-such-link"),
        client.get("/auth/sign-in"),
        client.post("/auth/sign-in", data={"username": "x", "password": "y"}),
    ]
    if language in ("en", "ar"):  # the survey's own languages
        respondent = Respondent(client, token)
        replies.append(respondent.start(language))
        replies.append(respondent.submit(1, {"consent": "yes"}))
        replies.append(respondent.submit(2, {"age": "7"}))  # out of range: an error summary
        replies.append(respondent.switch_language("en" if language == "ar" else "ar"))
        replies.append(respondent.submit(2, {}, action="back"))
        replies.append(respondent.submit(1, {"consent": "yes"}))
        replies.append(respondent.submit(2, {"felt_safe": "yes"}))
    return [VARYING.sub(r"\1…\2", reply.get_data(as_text=True)) for reply in replies]


@pytest.mark.parametrize("language", ["en", "fr", "es", "ar"])
def test_pages_read_the_same_as_with_run_time_translation(
    app: Flask, deployment: Deployment, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = deployment.links["minimal"]
    compiled = pages_seen(app, token, language)
    monkeypatch.setattr(LanguageEnvironment, "_for_request", lambda self: self)
    at_run_time = pages_seen(app, token, language)
    assert len(compiled) == len(at_run_time)
    assert all("<html" in page for page in compiled)
    for ours, theirs in zip(compiled, at_run_time, strict=True):
        assert ours == theirs
    if language != "en":
        assert "Leave this page" not in compiled[0]  # translated, not left in English


def test_the_words_around_questions_follow_each_page_language(
    app: Flask, deployment: Deployment
) -> None:
    """The built-in options' words are looked up once per language, then kept: each page still
    shows those of its own language, whichever language was asked for before it."""
    token = deployment.links["minimal"]
    for language, agree, other in (
        ("ar", "نعم، أوافق", "Yes, I agree"),
        ("en", "Yes, I agree", "نعم، أوافق"),
    ) * 2:
        page = Respondent(app.test_client(), token).start(language).get_data(as_text=True)
        assert agree in page and other not in page, language
