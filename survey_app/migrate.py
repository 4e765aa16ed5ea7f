"""Alembic, driven from code so operators never edit alembic.ini.

Alembic is imported by the functions that use it, not with this module: most commands (and
`survey-app --help`) never migrate, and importing Alembic costs more than the rest of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .db import Database

if TYPE_CHECKING:
    from alembic.config import Config


class MigrationsMissing(Exception):
    """Neither an installed copy nor a source checkout holds the migrations."""


def migrations_dir() -> Path:
    """The migrations inside an installed wheel, or the top-level migrations/ of a checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "migrations", package.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise MigrationsMissing(
        f"the database migrations are missing beside {package}; reinstall survey-app"
    )


def alembic_config(database: Database) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    from alembic import command

    with database.engine.begin() as connection:
        config = alembic_config(database)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(database: Database, revision: str) -> None:
    from alembic import command

    with database.engine.begin() as connection:
        config = alembic_config(database)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(database: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(database: Database) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(database)).get_current_head()


def is_up_to_date(database: Database) -> bool:
    return current_revision(database) == head_revision(database)
