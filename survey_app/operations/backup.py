"""Consistent copies of the database, and bringing one back.

A backup is the database as it is: responses stay sealed, private keys stay wrapped, so a copy
is no more readable than the server. SQLite is copied with its online backup API (a consistent
snapshot while the app keeps running); PostgreSQL with ``pg_dump --format=custom`` and brought
back with ``pg_restore --clean``. Backup files are created readable by their owner only.

When the database URL confines the app to one schema (``options=-csearch_path=NAME``), only that
schema is dumped; otherwise the whole database is.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import URL

from .. import models  # noqa: F401  (registers every table with Base.metadata)
from ..db import Base, Database
from ..messages import N_, DomainError

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
_SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*([^\s]+)")


class BackupError(DomainError):
    """Base class for every backup or restore that cannot go ahead."""


class ToolMissing(BackupError):
    def __init__(self, tool: str) -> None:
        super().__init__(
            N_(
                "%(tool)s is not installed or not on PATH; install the PostgreSQL client tools "
                "(same major version as the server, or newer)"
            ),
            tool=tool,
        )


class BackupExists(BackupError):
    def __init__(self, path: Path) -> None:
        super().__init__(N_("%(path)s already exists; choose another file name"), path=str(path))


class DatabaseNotEmpty(BackupError):
    def __init__(self) -> None:
        super().__init__(
            N_(
                "the database already holds data; restoring would replace all of it. "
                "Take a backup of it first, then run restore again with --force"
            )
        )


class NotABackup(BackupError):
    """The file is not a backup this database can restore."""


_DAMAGED = N_("%(path)s is damaged: %(problem)s")


class ToolFailed(BackupError):
    def __init__(self, tool: str, stderr: str) -> None:
        lines = [line for line in stderr.strip().splitlines() if line.strip()]
        if lines:
            super().__init__(
                N_("%(tool)s failed: %(message)s"), tool=tool, message=" / ".join(lines[-5:])
            )
        else:
            super().__init__(N_("%(tool)s failed and said nothing"), tool=tool)


def suffix_for(database: Database) -> str:
    return ".sqlite3" if database.is_sqlite else ".pgdump"


def default_path(instance_path: Path, database: Database, now: datetime | None = None) -> Path:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return instance_path / "backups" / f"survey-{moment:%Y%m%dT%H%M%SZ}{suffix_for(database)}"


@contextmanager
def _private_new_file(path: Path) -> Iterator[Path]:
    """Create `path` empty, 0600, in a 0700 folder; remove it if writing it fails."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupExists(path) from None
    os.close(descriptor)
    try:
        yield path
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def backup(database: Database, destination: Path) -> Path:
    """Write a consistent copy of the database to `destination` (a new file)."""
    with _private_new_file(destination):
        if database.is_sqlite:
            _backup_sqlite(database, destination)
        else:
            _run(
                _pg_tool("pg_dump"),
                database,
                "--format=custom",
                f"--file={destination}",
                *_schema_arguments(database),
            )
    return destination


def is_empty(database: Database) -> bool:
    """True if none of the app's tables holds a row (a fresh or freshly migrated database)."""
    present = set(inspect(database.engine).get_table_names())
    with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in present and connection.scalar(select(func.count()).select_from(table)):
                return False
    return True


def restore(database: Database, source: Path, *, force: bool = False) -> None:
    """Replace the database's contents with the backup in `source`."""
    _check_kind(database, source)
    if not force and not is_empty(database):
        raise DatabaseNotEmpty()
    if database.is_sqlite:
        _restore_sqlite(database, source)
    else:
        _run(
            _pg_tool("pg_restore"),
            database,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            str(source),
        )
    # Pooled connections may hold the old schema or pages.
    database.engine.dispose()


def _check_kind(database: Database, source: Path) -> None:
    try:
        with source.open("rb") as handle:
            start = handle.read(len(SQLITE_MAGIC))
    except OSError as error:
        raise NotABackup(
            N_("cannot read %(path)s: %(error)s"), path=str(source), error=str(error.strerror)
        ) from None
    expected, kind = (
        (SQLITE_MAGIC, "SQLite") if database.is_sqlite else (PG_CUSTOM_MAGIC, "pg_dump custom")
    )
    if not start.startswith(expected):
        raise NotABackup(
            N_(
                "%(path)s is not a %(kind)s backup, which is what this database (%(kind)s) restores"
            ),
            path=str(source),
            kind=kind,
        )


# --- SQLite --------------------------------------------------------------------------------


def _backup_sqlite(database: Database, destination: Path) -> None:
    raw = database.engine.raw_connection()
    try:
        source: sqlite3.Connection = raw.driver_connection  # type: ignore[assignment]
        target = sqlite3.connect(destination)
        try:
            source.backup(target)
            # One self-contained file, with no -wal beside it.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    finally:
        raw.close()


def _restore_sqlite(database: Database, source: Path) -> None:
    backup_copy = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        try:
            (verdict,) = backup_copy.execute("PRAGMA quick_check").fetchone()
            tables = {row[0] for row in backup_copy.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError as error:
            raise NotABackup(_DAMAGED, path=str(source), problem=str(error)) from None
        if verdict != "ok":
            raise NotABackup(_DAMAGED, path=str(source), problem=str(verdict))
        if "alembic_version" not in tables:
            raise NotABackup(
                N_("%(path)s is a SQLite file but not a backup of this app"), path=str(source)
            )
        raw = database.engine.raw_connection()
        try:
            backup_copy.backup(raw.driver_connection)  # type: ignore[arg-type]
        finally:
            raw.close()
    finally:
        backup_copy.close()


# --- PostgreSQL ----------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    # Debian and Ubuntu keep the versioned tools off PATH; take the newest.
    candidates = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    if candidates:
        return max(candidates, key=_major_version)
    raise ToolMissing(name)


def _major_version(path: str) -> int:
    match = re.search(r"/postgresql/(\d+)/", path)
    return int(match.group(1)) if match else 0


@dataclass(frozen=True)
class _Connection:
    conninfo: str
    password: str | None
    schema: str | None


def _quote_conninfo(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _connection(url: URL) -> _Connection:
    parts: dict[str, str] = {}
    if url.host:
        parts["host"] = url.host
    if url.port:
        parts["port"] = str(url.port)
    if url.username:
        parts["user"] = url.username
    if url.database:
        parts["dbname"] = url.database
    for key, value in url.query.items():
        parts[key] = value if isinstance(value, str) else value[-1]
    conninfo = " ".join(f"{key}={_quote_conninfo(value)}" for key, value in parts.items())
    return _Connection(conninfo, url.password, _schema_from_options(parts.get("options", "")))


def _schema_from_options(options: str) -> str | None:
    match = _SEARCH_PATH.search(options)
    if not match:
        return None
    for name in match.group(1).split(","):
        name = name.strip().strip('"')
        if name and name != "$user":
            return name
    return None


def _schema_arguments(database: Database) -> list[str]:
    schema = _connection(database.engine.url).schema
    if schema is None:
        return []
    # Quoted, so the name is matched exactly rather than as a pattern.
    return [f'--schema="{schema.replace(chr(34), chr(34) * 2)}"']


def _run(tool: str, database: Database, *arguments: str) -> None:
    connection = _connection(database.engine.url)
    environment = dict(os.environ)
    if connection.password is not None:
        # In the environment, never on the command line where `ps` shows it.
        environment["PGPASSWORD"] = connection.password
    result = subprocess.run(  # noqa: S603  (fixed tool, arguments from configuration)
        [tool, "--no-password", f"--dbname={connection.conninfo}", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    if result.returncode != 0:
        raise ToolFailed(Path(tool).name, result.stderr)
