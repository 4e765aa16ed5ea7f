"""What every command group shares: lazily built settings and database, and error handling."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from babel.support import Translations
from sqlalchemy.exc import OperationalError

from .. import migrate
from ..config import (
    CONFIG_ENV,
    ENV_PREFIX,
    ConfigError,
    Settings,
    load_settings,
    make_instance_folder,
)
from ..db import Database
from ..messages import N_, DomainError

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """Settings and database, built on first use so `--help` never touches either."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._database: Database | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings()
            except ConfigError as error:
                raise refused(
                    N_("configuration: %(problem)s"), problem=in_operator_language(error)
                ) from None
        return self._settings

    @property
    def database(self) -> Database:
        """The existing database; a command that needs data never creates an empty one."""
        if self._database is None:
            missing = self.settings.missing_database_file()
            if missing is not None:
                raise click.ClickException(in_operator_language(NoDatabase(self.settings, missing)))
            self._database = self._open()
        return self._database

    def database_to_set_up(self) -> Database:
        """The database, created (with its instance folder) if there is none yet."""
        if self._database is None:
            make_instance_folder(self.settings.instance_path)
            self._database = self._open()
        return self._database

    def _open(self) -> Database:
        return Database(
            self.settings.database_url,
            sqlite_busy_timeout_ms=self.settings.database.sqlite_busy_timeout_ms,
        )

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None

    def require_current_schema(self) -> Database:
        database = self.database
        try:
            up_to_date = migrate.is_up_to_date(database)
        except OperationalError as error:
            raise cannot_reach(database, error) from None
        if not up_to_date:
            raise refused(
                N_("the database schema is not up to date; run `survey-app db upgrade` first")
            )
        return database


def cannot_reach(database: Database, error: OperationalError) -> click.ClickException:
    """The refusal of a command whose database does not answer, saying how to choose another."""
    return refused(
        N_("cannot reach the database %(url)s: %(problem)s. %(how)s"),
        url=database.engine.url.render_as_string(),
        problem=str(error.orig).strip().splitlines()[0],
        how=in_operator_language(CommandRefused(HOW_TO_CHOOSE, **_SETTING_NAMES)),
    )


def database_reached(function: F) -> F:
    """Turn a database that does not answer into `cannot_reach`'s one line and exit status 1
    (for commands that use the database without `Context.require_current_schema`)."""

    @wraps(function)
    def wrapper(ctx: Context, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(ctx, *args, **kwargs)
        except OperationalError as error:
            raise cannot_reach(ctx.database, error) from None

    return wrapper  # type: ignore[return-value]


HOW_TO_CHOOSE = N_(
    "Choose the instance folder with %(instance_variable)s or `instance_path` in the "
    "config file named by %(config_variable)s (or the database with %(database_variable)s / "
    "`database.url` there)"
)
_SETTING_NAMES = {
    "instance_variable": f"{ENV_PREFIX}INSTANCE_PATH",
    "config_variable": CONFIG_ENV,
    "database_variable": f"{ENV_PREFIX}DATABASE_URL",
}


class NoDatabase(DomainError):
    """No database file where the settings say the instance folder is."""

    message_id = N_(
        "no database at %(path)s: looked in the instance folder %(folder)s (from %(source)s). "
        "Choose the instance folder with %(instance_variable)s or `instance_path` in the "
        "config file named by %(config_variable)s (or the database with %(database_variable)s "
        "/ `database.url` there); to start a new one there, run `survey-app db upgrade`."
    )

    def __init__(self, settings: Settings, missing: Path) -> None:
        self.source = describe_instance_source(settings)
        source_id, source_params = self.source
        super().__init__(
            path=str(missing),
            folder=str(missing.parent),
            source=source_id % source_params,
            **_SETTING_NAMES,
        )

    def translated(self, gettext: Callable[[str], str]) -> str:
        source_id, source_params = self.source
        return gettext(self.message) % {**self.params, "source": gettext(source_id) % source_params}


def no_database_message(settings: Settings, missing: Path) -> str:
    return str(NoDatabase(settings, missing))


def describe_instance_source(settings: Settings) -> tuple[str, dict[str, object]]:
    """Where the instance folder came from: a message id (marked with N_) and its parameters."""
    if os.environ.get(f"{ENV_PREFIX}INSTANCE_PATH"):
        return "%(variable)s", {"variable": f"{ENV_PREFIX}INSTANCE_PATH"}
    config_file = os.environ.get(CONFIG_ENV)
    if config_file:
        return "%(variable)s=%(file)s", {"variable": CONFIG_ENV, "file": config_file}
    if settings.instance_path.is_absolute():
        return N_("the settings"), {}
    return N_("the default 'instance', relative to the working folder %(folder)s"), {
        "folder": str(Path.cwd())
    }


pass_context = click.make_pass_decorator(Context, ensure=True)


def server_options(function: F) -> F:
    """--host and --port (and what they override: server.host, server.port)."""
    function = click.option(
        "--port",
        type=click.IntRange(1, 65535),
        help="Port to listen on (default: the setting server.port, SURVEY_APP_SERVER_PORT, or 8000).",
    )(function)
    return click.option(
        "--host",
        help="Address to listen on (default: the setting server.host, or 127.0.0.1).",
    )(function)


def with_server(settings: Settings, **given: Any) -> Settings:
    """`settings` with the server options given on the command line (None: not given)."""
    changes = {name: value for name, value in given.items() if value is not None}
    if not changes:
        return settings
    return settings.replace(server=dataclasses.replace(settings.server, **changes))


TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def in_operator_language(error: Exception) -> str:
    """The error's message in the language the terminal asks for (LANGUAGE, LC_ALL,
    LC_MESSAGES or LANG, as gettext reads them); English when that is not translated."""
    if not isinstance(error, DomainError):
        return str(error)
    language = operator_language()
    if language is None:
        return str(error)
    return error.translated(Translations.load(TRANSLATIONS, [language]).gettext)


def operator_language() -> str | None:
    """The first of LANGUAGE, LC_ALL, LC_MESSAGES and LANG that is set, as gettext reads them,
    without its encoding (``fr_FR.UTF-8`` is ``fr_FR``); None for C or POSIX.

    LC_CTYPE is not read: Python sets it to C.UTF-8 at start when the locale LANG names is not
    installed, and an operator asking for French still reads French.
    """
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "").split(":")[0]
        if not value:
            continue
        language = value.split(".")[0].split("@")[0]
        return None if language in ("C", "POSIX") else language
    return None


class CommandRefused(DomainError):
    """A command that cannot do what it was asked; the message says what to do instead."""


def refused(message_id: str, /, **params: object) -> click.ClickException:
    """The exception that ends a command with `message_id` (marked with N_) in the operator's
    language, parameters filled in."""
    return click.ClickException(in_operator_language(CommandRefused(message_id, **params)))


def friendly_errors(*handled: type[Exception]) -> Callable[[F], F]:
    """Turn the domain's own exceptions into one clear line and exit status 1."""

    def decorate(function: F) -> F:
        @wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except handled as error:
                raise click.ClickException(in_operator_language(error)) from None

        return wrapper  # type: ignore[return-value]

    return decorate


def run_server_or_explain(run: Callable[[Settings], None], settings: Settings) -> None:
    """Serve; a problem that stops the server is one line and exit status 1, not a traceback."""
    from ..operations.deployment import SecretKeyMismatch
    from ..operations.server import ServeError
    from ..web.ratelimit import RateLimitStoreUnavailable

    try:
        run(settings)
    except (ServeError, ConfigError, SecretKeyMismatch, RateLimitStoreUnavailable) as error:
        raise click.ClickException(in_operator_language(error)) from None
