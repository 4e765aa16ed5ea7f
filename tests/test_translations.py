"""The interface speaks French, Spanish and Arabic: every word translated, compiled, and served.

A missing or fuzzy translation shows English to someone who may not read it; a placeholder
lost or renamed in translation turns a page into an error; a stale .mo file serves last week's
words. `scripts/update-translations` refreshes the catalogues and compiles them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from survey_app import create_app, migrate
from survey_app.state import app_state
from tests.support.apps import ROOT, Deployment, deploy, make_settings
from tests.support.web import Respondent

CATALOGUES = ROOT / "survey_app" / "translations"
LANGUAGES = ("fr", "es", "ar")
# printf-style conversions as Python's % operator reads them, including %% and %(name)s.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")


def read_catalogue(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale)


def po_path(language: str) -> Path:
    return CATALOGUES / language / "LC_MESSAGES" / "messages.po"


def template_ids() -> list[str | tuple[str, ...]]:
    template = read_catalogue(CATALOGUES / "messages.pot")
    return [
        message.id for message in template if isinstance(message.id, (str, tuple)) and message.id
    ]


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def stray_percent_signs(text: str) -> str:
    """What is left of the % signs once every well-formed placeholder is taken out."""
    return "%" if "%" in PLACEHOLDER.sub("", text) else ""


def translations(message: Message) -> list[str]:
    forms = message.string if isinstance(message.string, (tuple, list)) else [message.string]
    return [str(form or "") for form in forms]


def test_template_has_messages() -> None:
    assert len(template_ids()) > 20
    assert "Leave this page" in template_ids()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    catalogue = read_catalogue(po_path(language), language)
    untranslated = []
    for message_id in template_ids():
        message = catalogue.get(message_id)
        if message is None or message.fuzzy or not all(s.strip() for s in translations(message)):
            untranslated.append(message_id)
    assert untranslated == [], f"{language}: translate these, then run scripts/update-translations"


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_forms_follow_the_catalogue_header(language: str) -> None:
    catalogue = read_catalogue(po_path(language), language)
    for message in catalogue:
        if message.id and message.pluralizable:
            assert len(translations(message)) == catalogue.num_plurals, message.id


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_survive_translation(language: str) -> None:
    catalogue = read_catalogue(po_path(language), language)
    for message in catalogue:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id
            # A plural form may say the number in words ("one page"), so it may drop a
            # placeholder; it may never bring one the code does not pass.
            allowed = set(placeholders(singular)) | set(placeholders(plural))
            forms = translations(message)
            for form in forms:
                assert set(placeholders(form)) <= allowed, (message.id, form)
                assert not stray_percent_signs(form), (message.id, form)
            assert placeholders(forms[-1]) == placeholders(plural), (message.id, forms[-1])
        else:
            (translation,) = translations(message)
            assert placeholders(translation) == placeholders(str(message.id)), message.id
            assert not stray_percent_signs(translation), message.id


def test_placeholder_pattern_sees_what_python_formats() -> None:
    assert placeholders("Page %(number)d of %(total)d") == ["%(number)d", "%(total)d"]
    assert placeholders("100%% sure, %s") == ["%%", "%s"]
    # Python reads "50 % of" as the conversion "% o", so the words would be mangled.
    assert placeholders("50 % of people") == ["% o"]
    assert stray_percent_signs("complete: 50%") == "%"


def compiled_messages(mo: bytes) -> dict[object, object]:
    catalogue = read_mo(BytesIO(mo))
    # A plural message's id is read back as a list (singular, plural): a tuple can be a key.
    return {
        tuple(message.id) if isinstance(message.id, list) else message.id: message.string
        for message in catalogue
        if message.id
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_committed_mo_file_matches_its_po_file(language: str) -> None:
    buffer = BytesIO()
    write_mo(buffer, read_catalogue(po_path(language), language))
    compiled = buffer.getvalue()
    committed = po_path(language).with_suffix(".mo").read_bytes()
    assert compiled_messages(committed) == compiled_messages(compiled), (
        f"{language}: run scripts/update-translations to compile the catalogue"
    )
    assert read_mo(BytesIO(committed)).plural_forms == read_mo(BytesIO(compiled)).plural_forms


def begin(client: FlaskClient, token: str, lang: str) -> str:
    """Choose a language on the landing page and return the first page of questions."""
    tab = Respondent(client, token)
    reply = tab.start(lang)
    assert reply.status_code == 200 and tab.page == 1
    return tab.html


def test_choosing_arabic_gives_arabic_words_right_to_left(
    client: FlaskClient, deployment: Deployment
) -> None:
    html = begin(client, deployment.links["minimal"], "ar")
    assert '<html lang="ar" dir="rtl">' in html
    assert "مغادرة هذه الصفحة" in html
    assert "الصفحة 1 من 2" in html
    assert "Leave this page" not in html


@pytest.fixture
def example_app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    app = create_app(make_settings(tmp_path, database_url, surveys_dir=str(ROOT / "surveys")))
    migrate.upgrade(app_state(app).database)
    yield app
    app_state(app).database.dispose()


def test_choosing_french_gives_french_words(example_app: Flask) -> None:
    token = deploy(example_app).links["service-feedback"]
    html = begin(example_app.test_client(), token, "fr")
    assert '<html lang="fr" dir="ltr">' in html
    assert "Quitter cette page" in html
    assert re.search(r"Page 1 sur \d+", html)
    assert "Leave this page" not in html


def test_landing_page_follows_a_spanish_browser(example_app: Flask) -> None:
    token = deploy(example_app).links["service-feedback"]
    reply = example_app.test_client().get(f"/s/{token}", headers={"Accept-Language": "es"})
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert '<html lang="es" dir="ltr">' in html
    assert "Salir de esta página" in html
    assert "Nos gustaría saber qué piensa." in html
    assert "Leave this page" not in html
