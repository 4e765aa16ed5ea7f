"""Respondent pages kept once rendered (survey_app.web.page_shapes): every page served from what
was kept is the page a fresh render gives, and nothing a respondent typed or chose is kept.

Two tabs walk the same survey making the same random choices, one with pages kept and one with
every page rendered by Flask's render_template, as before pages were kept; each reply is
compared, the CSRF token and draft field aside (random in both). The kept tab walks twice, so
its second walk is served from what the first kept.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template
from flask.testing import FlaskClient

from survey_app import create_app
from survey_app.state import app_state
from survey_app.web import page_shapes
from survey_app.web.page_shapes import PageShapes
from tests.support.apps import FIXTURES, ROOT, deploy, make_settings

# Folder -> how many walks per survey.
SURVEY_FOLDERS = {
    "demo": (ROOT / "surveys", 12),
    "choice filters": (FIXTURES / "filtered", 12),
    "repeats": (FIXTURES / "repeats", 12),
    "minimal": (FIXTURES / "served", 12),
    "answer-dependent shapes": (FIXTURES / "page_shapes", 12),
}
TOKENS = re.compile(r'(name="(?:csrf_token|draft)" value=")[^"]*"')
SENTINEL = "Kestrel-Answer-7431"
# First pages of the answer-dependent shapes: every way to reach each later page.
SCRIPTED = [
    {"country": country, "pet": pet, "visits": visits}
    for country in ("ke", "ug", "")
    for pet in ("yes", "no")
    for visits in ("1", "2", "3")
]


class _Form(HTMLParser):
    """The fields of a page's survey form (not the quick exit's), as a browser would send them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.choices: dict[str, tuple[str, list[str]]] = {}  # name -> (type, values)
        self.typed: dict[str, str] = {}  # name -> input type
        self.buttons: list[tuple[str, str]] = []
        self._in_survey_form = False
        self._select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._in_survey_form = "exit-form" not in a.get("class", "")
            return
        if not self._in_survey_form or not a.get("name"):
            return
        name, kind = a["name"], a.get("type", "text")
        if tag == "input" and kind == "hidden":
            self.hidden[name] = a.get("value", "")
        elif tag == "input" and kind in ("radio", "checkbox"):
            self.choices.setdefault(name, (kind, []))[1].append(a.get("value", ""))
        elif tag == "select":
            self._select = name
            self.choices[name] = ("select", [])
        elif tag == "option" and self._select:
            self.choices[self._select][1].append(a.get("value", ""))
        elif tag == "button":
            self.buttons.append((name, a.get("value", "")))
        elif tag in ("input", "textarea"):
            self.typed[name] = a.get("inputmode") or ("textarea" if tag == "textarea" else kind)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_survey_form = False
        elif tag == "select":
            self._select = None


def _answers(form: _Form, rng: random.Random) -> dict[str, Any]:
    data: dict[str, Any] = dict(form.hidden)
    for name, (kind, values) in form.choices.items():
        if rng.random() < 0.15:
            continue  # left blank
        # Mostly yes, so that walks get past consent and the questions it opens.
        picked = "yes" if "yes" in values and rng.random() < 0.8 else rng.choice(values)
        data[name] = [picked] if kind == "checkbox" else picked
    for name, kind in form.typed.items():
        data[name] = {
            "numeric": str(rng.choice([1, 2, 3, 2, 30, -1])),
            "decimal": str(rng.choice([0.5, 2, 300])),
            "date": "2024-05-0" + str(rng.randint(1, 9)),
        }.get(kind, rng.choice(["", SENTINEL]))
    action = rng.random()
    languages = [value for name, value in form.buttons if name == "switch_lang"]
    if action < 0.1 and languages:
        data["switch_lang"] = rng.choice(languages)
    elif action < 0.25 and ("action", "back") in form.buttons:
        data["action"] = "back"
    else:
        data["action"] = "next"
    return data


def _walk(client: FlaskClient, token: str, seed: int, language: str) -> Iterator[str]:
    """The replies of one walk through a link: landing, start, then up to 15 pages.

    A seed below 0 (see `SCRIPTED`) answers the first page as scripted and goes straight on;
    others answer at random, sometimes going back or changing language."""
    rng = random.Random(seed)
    script = SCRIPTED[-seed - 1] if seed < 0 else None
    landing = client.get(f"/s/{token}").get_data(as_text=True)
    yield landing
    start = {"lang": language, **_Form(landing).hidden}
    html = client.post(f"/s/{token}", data=start).get_data(as_text=True)
    yield html
    for _ in range(15):
        form = _Form(html)
        if "draft" not in form.hidden:
            return
        if script is None:
            data = _answers(form, rng)
        else:
            data = {**form.hidden, **script, "action": "next"}
            script = {}
        html = client.post(f"/s/{token}", data=data).get_data(as_text=True)
        yield html


def _uncached(self: PageShapes, template_name: str, context: dict[str, Any]) -> str:
    return render_template(template_name, **context)


def _compare(app: Flask, token: str, seed: int, language: str) -> int:
    """Walks one kept tab and one fresh tab in step; returns the number of replies compared."""
    kept, fresh = app.test_client(), app.test_client()
    compared = 0
    for _round in range(2):
        walks = zip(
            _walk(kept, token, seed, language),
            _fresh_walk(fresh, token, seed, language),
            strict=True,
        )
        for kept_html, fresh_html in walks:
            assert TOKENS.sub(r"\1X", kept_html) == TOKENS.sub(r"\1X", fresh_html)
            compared += 1
    return compared


def _fresh_walk(client: FlaskClient, token: str, seed: int, language: str) -> Iterator[str]:
    walk = _walk(client, token, seed, language)
    while True:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(PageShapes, "render", _uncached)
            try:
                html = next(walk)
            except StopIteration:
                return
        yield html


@pytest.fixture
def serving(tmp_path: Path, database_url: str) -> Iterator[Callable[[Path], Flask]]:
    """Makes the app serving the surveys of a folder (one per test), without rate limits."""
    made: list[Flask] = []

    def make(folder: Path) -> Flask:
        unlimited = {
            "submissions_per_minute": 10**6,
            "submissions_per_client_per_minute": 10**6 - 1,
        }
        settings = make_settings(
            tmp_path, database_url, surveys_dir=str(folder), respondent=unlimited
        )
        made.append(create_app(settings))
        return made[-1]

    yield make
    for app in made:
        app_state(app).database.dispose()


@pytest.mark.parametrize(("folder", "walks"), SURVEY_FOLDERS.values(), ids=SURVEY_FOLDERS.keys())
def test_a_kept_page_is_the_page_a_fresh_render_gives(
    serving: Callable[[Path], Flask], folder: Path, walks: int
) -> None:
    app = serving(folder)
    links = deploy(app).links
    compared = 0
    for survey_id, token in sorted(links.items()):
        survey = app_state(app).surveys[survey_id]
        languages = survey.language_codes
        seeds = [*range(walks), *(range(-len(SCRIPTED), 0) if survey_id == "shapes" else ())]
        for seed in seeds:
            compared += _compare(app, token, seed, languages[seed % len(languages)])
    # Each walk went past its start (two rounds of at least 3 pages: landing, start, next).
    assert compared >= 3 * 2 * len(seeds) * len(links)
    # Pages were kept, and served again: the second walks found what the first ones kept.
    assert len(app_state(app).page_shapes) >= 3 * len(links)


def test_no_answer_nor_token_of_a_respondent_is_kept(serving: Callable[[Path], Flask]) -> None:
    app = serving(SURVEY_FOLDERS["demo"][0])
    links = deploy(app).links
    shown_back = 0
    tokens: set[str] = set()
    for token in links.values():
        for seed in range(6):
            for html in _walk(app.test_client(), token, seed, "en"):
                shown_back += SENTINEL in html
                tokens.update(
                    m.group(0).split('value="')[1].rstrip('"') for m in TOKENS.finditer(html)
                )
    assert shown_back > 0, "no walk showed a typed answer back: the check below checks nothing"
    kept = repr(app_state(app).page_shapes._kept)
    assert len(app_state(app).page_shapes) > 0
    assert SENTINEL not in kept
    assert len(tokens) > 20 and not any(value in kept for value in tokens)


def test_the_comparison_notices_a_page_kept_for_the_wrong_language(
    serving: Callable[[Path], Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A planted fault: pages kept without telling languages apart. The comparison above must
    catch it, or it proves nothing."""
    app = serving(SURVEY_FOLDERS["demo"][0])
    token = deploy(app).links["service-feedback"]
    language_blind = page_shapes._REQUEST_OBJECTS | {"lang", "page_lang", "ui_lang", "page_dir"}
    monkeypatch.setattr(page_shapes, "_REQUEST_OBJECTS", language_blind)
    monkeypatch.setattr(page_shapes, "get_locale", lambda: "any")
    with pytest.raises(AssertionError):
        for seed, language in enumerate(["en", "fr", "ar", "en"]):
            _compare(app, token, seed, language)
