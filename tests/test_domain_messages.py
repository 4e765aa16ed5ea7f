"""Domain errors read in the reader's language, on the web pages and on the command line."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner
from flask import Flask

import survey_app
from survey_app.cli import main
from survey_app.config import Settings
from survey_app.messages import DomainError
from tests.support.apps import ROOT, Deployment
from tests.support.cli import environment
from tests.support.staff import PASSWORD, make_account, open_session, post

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

CATALOGUE = ROOT / "survey_app" / "translations" / "messages.pot"
TAKEN_EN = "A programme with the id 'shelter' already exists; choose another id."
TAKEN_FR = (
    "Un programme avec l'identifiant « shelter » existe déjà ; choisissez un autre identifiant."
)


def every_domain_error() -> set[type[DomainError]]:
    for module in pkgutil.walk_packages(survey_app.__path__, "survey_app."):
        importlib.import_module(module.name)
    found: set[type[DomainError]] = set()
    pending = [DomainError]
    while pending:
        for subclass in pending.pop().__subclasses__():
            found.add(subclass)
            pending.append(subclass)
    return found


def message_ids() -> set[str]:
    with CATALOGUE.open("rb") as handle:
        return {message.id for message in read_po(handle) if isinstance(message.id, str)}


def test_every_domain_message_is_in_the_catalogue() -> None:
    errors = every_domain_error()
    assert len(errors) > 15
    worded = {error.message_id for error in errors} | {
        value
        for error in errors
        for name, value in vars(error).items()
        if name.isupper() and isinstance(value, str)
    }
    missing = worded - message_ids()
    assert not missing, "mark them with N_ and run scripts/update-translations"


def test_a_french_administrator_reads_the_error_in_french(
    app: Flask, deployment: Deployment
) -> None:
    root = make_account(app, "root", superadmin=True, totp=True)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    open_session(app, client, root.id)
    form = {"slug": "shelter", "name": "Abri", "public_title": "Avis", "retention_days": 365}
    reply = post(client, "/admin/programmes/new", form, page_url="/admin/programmes/new")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 422
    assert TAKEN_FR.replace("'", "&#39;") in page
    assert "already exists" not in page


@pytest.mark.parametrize(
    ("language", "wrong_current", "differ"),
    [
        (
            "fr",
            "Votre mot de passe actuel n&#39;est pas le bon.",
            "Les deux nouveaux mots de passe ne sont pas identiques.",
        ),
        (
            "es",
            "Su contraseña actual no es correcta.",
            "Las dos contraseñas nuevas no son iguales.",
        ),
        ("ar", "كلمة المرور الحالية غير صحيحة.", "كلمتا المرور الجديدتان غير متطابقتين."),
    ],
)
def test_password_and_sign_in_refusals_are_read_in_the_reader_language(
    app: Flask, deployment: Deployment, language: str, wrong_current: str, differ: str
) -> None:
    account = make_account(app, "nadia")
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    open_session(app, client, account.id)
    new = "seven unrelated words make a passphrase"
    refusals = [
        ({"current": "not my password", "new": new, "repeat": new}, wrong_current),
        ({"current": PASSWORD, "new": new, "repeat": new + "!"}, differ),
    ]
    for form, expected in refusals:
        reply = post(client, "/auth/password", form, page_url="/auth/password")
        page = reply.get_data(as_text=True)
        assert reply.status_code == 422
        assert expected in page
        assert "is not right" not in page and "are not the same" not in page


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr_FR.UTF-8", TAKEN_FR), ("fr", TAKEN_FR), ("C.UTF-8", TAKEN_EN), ("sw_KE", TAKEN_EN)],
)
def test_the_command_line_speaks_the_terminal_language(
    deployment: Deployment, settings: Settings, language: str, expected: str
) -> None:
    env = {**environment(settings), "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}
    env["LANG"] = language
    result = CliRunner().invoke(
        main, ["programmes", "create", "shelter", "--name", "Abri"], env=env
    )
    assert result.exit_code == 1
    assert expected in result.output


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es_ES.UTF-8", "no hay ninguna encuesta válida 'nowhere'"),
        ("ar", "لا يوجد استبيان صالح 'nowhere'"),
        ("C.UTF-8", "no valid survey 'nowhere'; see `survey-app surveys check`"),
    ],
)
def test_a_command_refused_says_why_in_the_terminal_language(
    deployment: Deployment, settings: Settings, language: str, expected: str
) -> None:
    env = {**environment(settings), "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}
    env["LANG"] = language
    result = CliRunner().invoke(main, ["surveys", "assign", "nowhere", "shelter"], env=env)
    assert result.exit_code == 1
    assert expected in result.output


def test_english_text_stays_for_logs_and_callers_without_a_reader() -> None:
    from survey_app.programme_admin import SlugTaken

    error = SlugTaken("shelter")
    assert str(error) == TAKEN_EN
    assert error.translated(lambda message: message) == TAKEN_EN
