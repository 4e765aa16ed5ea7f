"""What every command group shares: lazily built settings and database, and error handling."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from .. import migrate
from ..config import ConfigError, Settings, load_settings
from ..db import Database

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
                raise click.ClickException(f"configuration: {error}") from None
        return self._settings

    @property
    def database(self) -> Database:
        if self._database is None:
            self.settings.instance_path.mkdir(parents=True, exist_ok=True)
            self._database = Database(
                self.settings.database_url,
                sqlite_busy_timeout_ms=self.settings.database.sqlite_busy_timeout_ms,
            )
        return self._database

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None

    def require_current_schema(self) -> Database:
        database = self.database
        if not migrate.is_up_to_date(database):
            raise click.ClickException(
                "the database schema is not up to date; run `survey-app db upgrade` first"
            )
        return database


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


def friendly_errors(*handled: type[Exception]) -> Callable[[F], F]:
    """Turn the domain's own exceptions into one clear line and exit status 1."""

    def decorate(function: F) -> F:
        @wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except handled as error:
                raise click.ClickException(str(error)) from None

        return wrapper  # type: ignore[return-value]

    return decorate


def run_server_or_explain(run: Callable[[Settings], None], settings: Settings) -> None:
    """Serve; a problem that stops the server is one line and exit status 1, not a traceback."""
    from ..deployment import SecretKeyMismatch
    from ..server import ServeError
    from ..web.ratelimit import RateLimitStoreUnavailable

    try:
        run(settings)
    except (ServeError, ConfigError, SecretKeyMismatch, RateLimitStoreUnavailable) as error:
        raise click.ClickException(str(error)) from None
