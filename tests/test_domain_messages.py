"""Domain errors read in the reader's language, on the web pages and on the command line."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner
from flask import Flask

import survey_app
from survey_app.cli import main
from survey_app.commands.help_texts import texts_of
from survey_app.config import Settings
from survey_app.messages import DomainError
from survey_app.operations import demo_secrets
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
    from survey_app.staff.programme_admin import SlugTaken

    error = SlugTaken("shelter")
    assert str(error) == TAKEN_EN
    assert error.translated(lambda message: message) == TAKEN_EN


def in_language(settings: Settings, language: str, **more: str) -> dict[str, str]:
    env = {**environment(settings), "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}
    return {**env, "LANG": language, **more}


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr_FR.UTF-8", "configuration : server.port : un nombre entier est attendu, reçu 'abc'"),
        ("es_ES.UTF-8", "configuración: server.port: se esperaba un número entero, se recibió"),
        ("ar", "الإعدادات: server.port: كان المتوقع عددًا صحيحًا"),
        ("C.UTF-8", "configuration: server.port: expected a whole number, got 'abc'"),
    ],
)
def test_a_setting_that_cannot_be_read_is_said_in_the_terminal_language(
    settings: Settings, language: str, expected: str
) -> None:
    env = in_language(settings, language, SURVEY_APP_SERVER_PORT="abc")
    result = CliRunner().invoke(main, ["db", "current"], env=env)
    assert result.exit_code == 1
    assert expected in result.output


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr_FR.UTF-8", "il n'y a pas de révision du schéma 'nonsense' ; les révisions sont base,"),
        ("es_ES.UTF-8", "no hay ninguna revisión del esquema 'nonsense'; las revisiones son base,"),
        ("ar", "لا توجد مراجعة للمخطط باسم 'nonsense'"),
        ("C.UTF-8", "there is no schema revision 'nonsense'; the revisions are base, 0001,"),
    ],
)
@pytest.mark.parametrize("command", ["upgrade", "downgrade"])
def test_an_unknown_schema_revision_is_refused_in_the_terminal_language(
    deployment: Deployment, settings: Settings, language: str, expected: str, command: str
) -> None:
    env = in_language(settings, language)
    result = CliRunner().invoke(main, ["db", command, "nonsense"], env=env)
    assert result.exit_code == 1
    assert expected in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr_FR.UTF-8", "aucune base de données à {db} : cherchée dans le dossier d'instance"),
        ("es_ES.UTF-8", "no hay ninguna base de datos en {db}: se buscó en la carpeta"),
        ("ar", "لا توجد قاعدة بيانات في {db}"),
        ("C.UTF-8", "no database at {db}: looked in the instance folder"),
    ],
)
def test_a_missing_database_is_said_in_the_terminal_language(
    settings: Settings, tmp_path: Path, language: str, expected: str
) -> None:
    elsewhere = tmp_path / "elsewhere"
    env = in_language(settings, language, SURVEY_APP_INSTANCE_PATH=str(elsewhere))
    env["SURVEY_APP_DATABASE_URL"] = ""
    result = CliRunner().invoke(main, ["db", "current"], env=env)
    assert result.exit_code == 1
    assert expected.format(db=elsewhere / "survey.db") in result.output


@pytest.mark.parametrize(
    ("language", "exists", "not_a_backup"),
    [
        (
            "fr_FR.UTF-8",
            "existe déjà ; choisissez un autre nom de fichier",
            "n'est pas une sauvegarde",
        ),
        ("es_ES.UTF-8", "ya existe; elija otro nombre de archivo", "no es una copia de seguridad"),
        ("ar", "موجود بالفعل؛ اختر اسم ملف آخر", "ليس نسخة احتياطية"),
        ("C.UTF-8", "already exists; choose another file name", "is not a"),
    ],
)
def test_backup_and_restore_refusals_are_said_in_the_terminal_language(
    deployment: Deployment,
    settings: Settings,
    tmp_path: Path,
    language: str,
    exists: str,
    not_a_backup: str,
) -> None:
    taken = tmp_path / "taken.backup"
    taken.write_text("something else\n", encoding="utf-8")
    env = in_language(settings, language)
    result = CliRunner().invoke(main, ["backup", str(taken)], env=env)
    assert result.exit_code == 1
    assert exists in result.output
    result = CliRunner().invoke(main, ["restore", str(taken), "--force"], env=env)
    assert result.exit_code == 1
    assert not_a_backup in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr_FR.UTF-8", "server.workers vaut 2, mais les limites de fréquence sont comptées"),
        ("es_ES.UTF-8", "server.workers es 2, pero los límites de frecuencia se cuentan"),
        ("ar", "قيمة server.workers هي 2، لكن حدود المعدل"),
        ("C.UTF-8", "server.workers is 2, but rate limits are counted in each process's memory"),
    ],
)
def test_a_server_that_cannot_start_says_why_in_the_terminal_language(
    deployment: Deployment, settings: Settings, language: str, expected: str
) -> None:
    result = CliRunner().invoke(
        main, ["serve", "--workers", "2"], env=in_language(settings, language)
    )
    assert result.exit_code == 1
    assert expected in result.output


def test_where_the_instance_folder_came_from_is_said_in_the_terminal_language(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = in_language(settings, "fr_FR.UTF-8", SURVEY_APP_INSTANCE_PATH="")
    env["SURVEY_APP_DATABASE_URL"] = ""
    result = CliRunner().invoke(main, ["db", "current"], env=env)
    assert result.exit_code == 1
    assert (
        f"(d'après le dossier 'instance' par défaut, relatif au dossier de travail {tmp_path})"
        in result.output
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr_FR.UTF-8", "il contient en clair la phrase secrète de la clé"),
        ("es_ES.UTF-8", "contiene en claro la frase de contraseña de la clave"),
        ("ar", "فيه عبارة مرور المفتاح وكلمة مرور المسؤول"),
        ("C.UTF-8", "it holds a demo's key passphrase and admin password in the clear"),
    ],
)
def test_demo_secrets_left_in_production_are_refused_in_the_terminal_language(
    deployment: Deployment, settings: Settings, language: str, expected: str
) -> None:
    demo_secrets.write(settings.instance_path, ["admin password: not-for-real"])
    env = in_language(settings, language, SURVEY_APP_ENVIRONMENT="production")
    result = CliRunner().invoke(main, ["serve"], env=env)
    assert result.exit_code == 1
    assert expected in result.output


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr_FR.UTF-8", "impossible de joindre la base de données"),
        ("es_ES.UTF-8", "no se puede acceder a la base de datos"),
        ("ar", "تعذّر الوصول إلى قاعدة البيانات"),
        ("C.UTF-8", "cannot reach the database"),
    ],
)
@pytest.mark.parametrize("command", [["db", "current"], ["db", "upgrade"], ["report", "export"]])
def test_a_database_that_does_not_answer_is_said_in_the_terminal_language(
    settings: Settings, language: str, expected: str, command: list[str], tmp_path: Path
) -> None:
    nowhere = "postgresql://survey@127.0.0.1:1/nothing"
    env = in_language(settings, language, SURVEY_APP_DATABASE_URL=nowhere)
    if command[0] == "report":
        command = [*command, "minimal", "-o", str(tmp_path / "report.csv")]
    result = CliRunner().invoke(main, command, env=env)
    assert result.exit_code == 1
    assert expected in result.output and "Traceback" not in result.output


def test_a_real_terminal_asking_for_french_reads_french() -> None:
    """Run as an operator runs it: Python sets LC_CTYPE to C.UTF-8 at start when the locale
    that LANG names is not installed; the language asked for is LANG's all the same."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("LC_", "LANG", "SURVEY_APP_"))
    }
    env.update(LANG="fr_FR.UTF-8", LC_CTYPE="C.UTF-8", SURVEY_APP_SERVER_PORT="abc")
    found = subprocess.run(
        [sys.executable, "-c", "from survey_app.cli import main; main()", "db", "current"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert found.returncode == 1
    assert "configuration : server.port : un nombre entier est attendu" in found.stderr


@pytest.mark.parametrize(
    ("language", "args", "expected"),
    [
        ("fr_FR.UTF-8", ["--help"], "Enquêtes de retour des bénéficiaires, anonymes et scellées."),
        ("fr_FR.UTF-8", ["--help"], "Schéma de la base de données."),
        ("es_ES.UTF-8", ["serve", "--help"], "Dirección en la que escuchar"),
        ("ar", ["backup", "--help"], "اكتب نسخة متسقة من قاعدة البيانات في PATH"),
        ("C.UTF-8", ["backup", "--help"], "Write a consistent copy of the database to PATH"),
    ],
)
def test_help_is_read_in_the_terminal_language(
    settings: Settings, language: str, args: list[str], expected: str
) -> None:
    result = CliRunner().invoke(main, args, env=in_language(settings, language))
    assert result.exit_code == 0
    assert expected in result.output
    # Read in French once, the help is English again for an English terminal.
    english = CliRunner().invoke(main, args, env=in_language(settings, "C.UTF-8"))
    assert "Show this message and exit." in english.output
    assert "bénéficiaires" not in english.output and "Dirección" not in english.output


def test_every_help_text_is_in_the_catalogue_and_translated() -> None:
    texts = {text for _owner, _name, text in texts_of(main)}
    assert len(texts) > 80
    assert not texts - message_ids(), "run scripts/update-translations"
    for language in ("fr", "es", "ar"):
        path = ROOT / "survey_app" / "translations" / language / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as handle:
            translated = {m.id for m in read_po(handle) if isinstance(m.id, str) and m.string}
        assert not texts - translated, language
