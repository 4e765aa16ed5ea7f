"""Pushing deleted data out of the database files, as far as each database allows.

SQLite runs with ``secure_delete`` (freed cells are zeroed), but in WAL mode the old page
versions linger in the ``-wal`` file until a checkpoint; a TRUNCATE checkpoint copies the
zeroed pages back and empties the WAL. PostgreSQL keeps old row versions until VACUUM; only
VACUUM FULL rewrites a table so they are gone from its data files (its WAL and any archive
still hold them until they are recycled: see README, "Retention").
"""

from __future__ import annotations

import logging

from sqlalchemy import text

from ..db import Database

log = logging.getLogger(__name__)


def flush_deleted(database: Database, *tables: str, rewrite: bool = False) -> None:
    """After deleting or overwriting rows of ``tables``, push the old bytes out where possible.

    ``rewrite`` asks PostgreSQL for VACUUM FULL (an exclusive lock while the table is
    rewritten: use it for small tables); otherwise a plain VACUUM marks the space reusable.
    """
    if database.is_sqlite:
        with database.engine.connect() as connection:
            busy, _frames, _done = connection.exec_driver_sql(
                "PRAGMA wal_checkpoint(TRUNCATE)"
            ).one()
        if busy:
            log.warning(
                "WAL checkpoint blocked by a reader; deleted pages stay in the WAL until the next one"
            )
        return
    with database.engine.connect() as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in tables:
            # Table names come from this code, never from input.
            statement = f"VACUUM {'FULL ' if rewrite else ''}{table}"
            autocommit.execute(text(statement))
