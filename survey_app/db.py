"""Engine and session set-up, shared by the web app, the CLI and the tests."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.exc import InvalidatePoolError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Stable constraint names, so Alembic autogenerate and batch operations agree across databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A moment stored in UTC and always read back as an aware UTC datetime.

    PostgreSQL keeps the zone (timestamptz); SQLite drops it and hands back a naive value that
    was written in UTC. One column type for both, so no code compares naive with aware times.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive one is taken to be UTC already (as the database stores it)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# What runs statements in a transaction: an ORM session, or a plain connection where a request
# only runs statements built once (a respondent's).
Executor = Session | Connection


def dialect_name(db: Executor) -> str:
    bind = db.get_bind() if isinstance(db, Session) else db
    return bind.dialect.name


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the operator used."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def protect_sqlite_files(url: str) -> None:
    """The SQLite database and its -wal and -shm files readable by their owner only.

    SQLite creates -wal and -shm with the database file's mode, so creating that file 0600
    first (whatever the umask) covers all three; existing files are tightened too.
    """
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o777 != 0o600:
            file.chmod(0o600)


def make_engine(url: str, *, sqlite_busy_timeout_ms: int = 5000, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        protect_sqlite_files(url)
        engine = create_engine(
            url, connect_args={"timeout": sqlite_busy_timeout_ms / 1000}, **kwargs
        )
        _configure_sqlite(engine, sqlite_busy_timeout_ms)
        return engine
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


# A pooled connection unused for longer than this is tested before a request gets it.
IDLE_BEFORE_PING_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Test a pooled connection before use only if it sat unused for a while.

    A connection can die while it waits in the pool: the database restarted, or something on
    the way closed it. SQLAlchemy's pool_pre_ping tests every connection at every checkout, a
    round trip for each request; under load a connection is back in use within milliseconds,
    so only one that has waited longer is tested. A dead one is replaced before the request
    sees it (the pool retries on DisconnectionError); a connection that dies in the moment
    between two uses fails that one request, and the pool then replaces every connection.
    """

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        # None: a connection made just now.
        if returned_at is None or time.monotonic() - returned_at < IDLE_BEFORE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            alive = False
            cause = f": {error}"
        else:
            cause = ""
        if not alive:
            # As pool_pre_ping does: the server probably restarted, so every connection made
            # before this one is replaced too, not only the one that failed.
            raise InvalidatePoolError(f"a pooled connection failed its test{cause}")


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # Deleted rows (responses, drafts, released inbox rows) are overwritten with zeros
        # rather than left in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        # Checkpoint after every commit and cut the WAL back to nothing when it restarts, so
        # the WAL holds the last transaction or two, not a history of the day in order.
        cursor.execute("PRAGMA wal_autocheckpoint=1")
        cursor.execute("PRAGMA journal_size_limit=0")
        cursor.close()


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, *, sqlite_busy_timeout_ms: int = 5000) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, sqlite_busy_timeout_ms=sqlite_busy_timeout_ms)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A plain connection, without the ORM, for a request whose every write is one
        conditional statement that decides on its own (its row count says whether it won a
        race); writes that must happen together go in `together`.

        A respondent's request runs only statements built once, and the session's bookkeeping
        cost more than running them. On PostgreSQL each statement commits as it runs: a
        transaction around a request would cost a BEGIN and a COMMIT round trip, and would
        give a request nothing more (at READ COMMITTED each statement sees what was committed
        when it began, in a transaction or not). On SQLite the request is one transaction,
        rolled back on any error: SQLite begins it only at the first write, and a round trip
        costs nothing there.
        """
        if self.is_sqlite:
            with self.engine.begin() as connection:
                yield connection
            return
        with self.engine.connect() as connection:
            yield connection.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def together(self, connection: Connection) -> Iterator[None]:
        """The writes inside happen all or none, on a connection from `connection()`."""
        if self.is_sqlite:  # the request's own transaction already holds them together
            yield
            return
        connection.exec_driver_sql("BEGIN")
        try:
            yield
            # PostgreSQL answers COMMIT in a failed transaction by rolling back, without an
            # error: a failure caught inside must not pass for writes kept.
            if _failed_transaction(connection):
                raise WritesNotKept()
        except BaseException:
            with contextlib.suppress(SQLAlchemyError):
                connection.exec_driver_sql("ROLLBACK")
            raise
        connection.exec_driver_sql("COMMIT")

    def dispose(self) -> None:
        self.engine.dispose()


class WritesNotKept(Exception):
    """Writes meant to go together failed, and were rolled back together."""

    def __init__(self) -> None:
        super().__init__("a statement failed inside writes that go together; none of them was kept")


def _failed_transaction(connection: Connection) -> bool:
    from psycopg.pq import TransactionStatus

    driver: Any = connection.connection.driver_connection
    info = getattr(driver, "info", None)
    return info is not None and info.transaction_status == TransactionStatus.INERROR


def insert_or_ignore(session: Session, table: Any, values: dict[str, Any]) -> bool:
    """INSERT a row unless one with the same key exists; True if this call inserted it.

    The database decides (ON CONFLICT DO NOTHING), so two processes racing to add the same row
    both succeed and exactly one of them reports that it inserted it.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Without preserve_rowcount, an INSERT's row count reads -1 on PostgreSQL (psycopg).
    statement = insert(table).values(**values).on_conflict_do_nothing()
    result = session.execute(statement.execution_options(preserve_rowcount=True))
    return getattr(result, "rowcount", 0) == 1
