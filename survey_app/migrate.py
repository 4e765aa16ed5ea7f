"""Alembic, driven from code so operators never edit alembic.ini.

Alembic is imported by the functions that use it, not with this module: most commands (and
`survey-app --help`) never migrate, and importing Alembic costs more than the rest of them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .db import Database
from .messages import N_, DomainError

if TYPE_CHECKING:
    from alembic.config import Config


class MigrationsMissing(DomainError):
    """Neither an installed copy nor a source checkout holds the migrations."""


def migrations_dir() -> Path:
    """The migrations inside an installed wheel, or the top-level migrations/ of a checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "migrations", package.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise MigrationsMissing(
        N_("the database migrations are missing beside %(package)s; reinstall survey-app"),
        package=str(package),
    )


def alembic_config(database: Database) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


class RevisionRefused(DomainError):
    """A schema revision asked for that the migrations cannot move to."""


def upgrade(database: Database, revision: str = "head") -> None:
    from alembic import command

    _move(database, revision, command.upgrade)


def downgrade(database: Database, revision: str) -> None:
    from alembic import command

    _move(database, revision, command.downgrade)


def _move(database: Database, revision: str, step: Callable[[Config, str], None]) -> None:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    with database.engine.begin() as connection:
        config = alembic_config(database)
        config.attributes["connection"] = connection
        try:
            step(config, revision)
        except CommandError as error:
            if "Can't locate revision" not in str(error):
                raise RevisionRefused(
                    N_("the schema cannot move to revision '%(revision)s': %(reason)s"),
                    revision=revision,
                    reason=str(error),
                ) from None
            known = [r.revision for r in ScriptDirectory.from_config(config).walk_revisions()]
            raise RevisionRefused(
                N_("there is no schema revision '%(revision)s'; the revisions are %(known)s"),
                revision=revision,
                known=", ".join(["base", *reversed(known), "head"]),
            ) from None


def current_revision(database: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(database: Database) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(database)).get_current_head()


def is_up_to_date(database: Database) -> bool:
    return current_revision(database) == head_revision(database)
