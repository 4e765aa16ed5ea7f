"""A survey language the app's own words are not translated into: the buttons and messages are
shown in the language the programme chose (`interface_fallback`), never silently in English,
and the page says so, in that language, with the buttons marked as written in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from survey_app import create_app, migrate
from survey_app.cli import main
from survey_app.state import app_state
from tests.support.apps import deploy, make_settings
from tests.support.imported import first_page
from tests.test_assisted_entry import caseworker_of

SURVEY = """format = 1

[survey]
id = "kiswahili"
title = {{ sw = "Maoni yako", en = "Your views" }}
default_language = "{default}"
languages = ["sw", "en"]
{fallback}

[[pages]]
id = "one"

[[pages.questions]]
id = "age"
type = "integer"
label = {{ sw = "Una umri gani?", en = "How old are you?" }}

[[pages]]
id = "two"

[[pages.questions]]
id = "why"
type = "text"
label = {{ sw = "Kwa nini?", en = "Why?" }}
"""
ACTIONS = re.compile(
    r'<div class="actions"(?P<lang> lang="[a-z]+")?>\s*<button[^>]*>(?P<next>[^<]+)<'
)


def serve(tmp_path: Path, database_url: str, *, default: str = "sw", fallback: str = "") -> str:
    folder = tmp_path / "surveys"
    folder.mkdir()
    (folder / "kiswahili.toml").write_text(
        SURVEY.format(default=default, fallback=fallback), encoding="utf-8"
    )
    return str(folder)


def page(tmp_path: Path, database_url: str, lang: str, **survey: str) -> str:
    folder = serve(tmp_path, database_url, **survey)
    app = create_app(make_settings(tmp_path, database_url, surveys_dir=folder))
    assert "kiswahili" in app_state(app).surveys
    try:
        status, html = first_page(app, "kiswahili", lang=lang)
    finally:
        app_state(app).database.dispose()
    assert status == 200, html
    assert "Una umri gani?" in html or lang != "sw"
    return html


def test_buttons_fall_back_to_the_language_the_programme_chose_and_say_so(
    tmp_path: Path, database_url: str
) -> None:
    html = page(tmp_path, database_url, "sw", fallback='interface_fallback = "fr"')
    actions = ACTIONS.search(html)
    assert actions is not None
    assert actions.group("next").strip() == "Suivant"
    assert actions.group("lang") == ' lang="fr"'
    assert (
        '<p class="hint" lang="fr">Les boutons et les messages de l\u2019application ne sont pas '
        "traduits en Kiswahili ; ils s\u2019affichent en français.</p>"
    ) in html


def test_without_a_choice_the_fallback_is_english_and_still_said(
    tmp_path: Path, database_url: str
) -> None:
    html = page(tmp_path, database_url, "sw")
    actions = ACTIONS.search(html)
    assert actions is not None and actions.group("next").strip() == "Next"
    assert actions.group("lang") == ' lang="en"'
    assert "not translated into Kiswahili; they are shown in English." in html


def test_a_language_the_app_speaks_shows_no_note(tmp_path: Path, database_url: str) -> None:
    html = page(tmp_path, database_url, "en", default="en", fallback='interface_fallback = "fr"')
    actions = ACTIONS.search(html)
    assert actions is not None and actions.group("next").strip() == "Next"
    assert actions.group("lang") is None
    assert "not translated into" not in html and "ne sont pas traduits" not in html


@pytest.mark.parametrize("value", ['"sw"', '"french"', "3"])
def test_a_fallback_the_app_cannot_show_is_refused_by_check(tmp_path: Path, value: str) -> None:
    folder = tmp_path / "surveys"
    folder.mkdir()
    (folder / "kiswahili.toml").write_text(
        SURVEY.format(default="sw", fallback=f"interface_fallback = {value}"), encoding="utf-8"
    )
    env = {"SURVEY_APP_SURVEYS_DIR": str(folder), "SURVEY_APP_ENVIRONMENT": "testing"}
    result = CliRunner().invoke(main, ["surveys", "check"], env=env)
    assert result.exit_code == 1
    assert "interface_fallback" in result.output
    assert "kiswahili.toml: survey" in result.output


def test_a_language_without_a_name_in_the_file_is_named_in_itself_from_cldr(
    tmp_path: Path, database_url: str
) -> None:
    folder = tmp_path / "surveys"
    folder.mkdir()
    text = SURVEY.format(default="rw", fallback="").replace("sw = ", "rw = ")
    (folder / "kiswahili.toml").write_text(text.replace('"sw"', '"rw"'), encoding="utf-8")
    app = create_app(make_settings(tmp_path, database_url, surveys_dir=str(folder)))
    try:
        links = deploy(app).links
        landing = app.test_client().get(f"/s/{links['kiswahili']}").get_data(as_text=True)
        status, html = first_page(app, "kiswahili", lang="rw", links=links)
    finally:
        app_state(app).database.dispose()
    assert status == 200
    assert ">Ikinyarwanda<" in landing  # the language picker, as CLDR names it
    assert "not translated into Ikinyarwanda; they are shown in English." in html


@pytest.mark.usefixtures("cheap_password_hashing")
def test_the_paper_form_uses_the_same_fallback_for_its_built_in_words(
    tmp_path: Path, database_url: str
) -> None:
    folder = tmp_path / "surveys"
    folder.mkdir()
    text = SURVEY.format(default="sw", fallback='interface_fallback = "fr"')
    text += '\n[[pages.questions]]\nid = "safe"\ntype = "yesno"\n'
    text += 'label = { sw = "Je, ulijisikia salama?", en = "Did you feel safe?" }\n'
    (folder / "kiswahili.toml").write_text(text, encoding="utf-8")
    app = create_app(make_settings(tmp_path, database_url, surveys_dir=str(folder)))
    try:
        migrate.upgrade(app_state(app).database)
        deploy(app)
        paper = caseworker_of(app).get("/staff/surveys/kiswahili/paper?lang=sw")
    finally:
        app_state(app).database.dispose()
    assert paper.status_code == 200
    html = paper.get_data(as_text=True)
    assert "Je, ulijisikia salama?" in html
    assert "</span> Oui</li>" in html and "</span> Non</li>" in html
    assert "</span> Yes</li>" not in html
