"""What every server of one deployment must agree on, checked before a server starts.

Several servers behind one proxy share one database. A session cookie signed by one of them
must be accepted by all, so they must share one secret key. The key itself is never stored in
the database: only a keyed one-way fingerprint of it, which the first server to start records
and every later one compares with its own.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import delete

from ..db import Database, insert_or_ignore
from ..messages import N_, DomainError
from ..models import DeploymentFact

FINGERPRINT_FACT = "secret_key_fingerprint"


class SecretKeyMismatch(DomainError):
    def __init__(self, mine: str, recorded: str) -> None:
        super().__init__(
            N_(
                "this server's secret key (fingerprint %(mine)s) differs from the one the other "
                "servers on this database use (fingerprint %(recorded)s): give every server the "
                "same key (copy the file named by security.secret_key_file, or the same "
                "security.secret_key). If you replaced the key on purpose on every server, run "
                "`survey-app secret-key forget` once, then start them again"
            ),
            mine=mine[:12],
            recorded=recorded[:12],
        )


def secret_key_fingerprint(secret_key: str) -> str:
    """A value that identifies the key without revealing it (HMAC keyed with the key itself)."""
    return hmac.new(
        secret_key.encode(), b"survey-app secret key fingerprint v1", hashlib.sha256
    ).hexdigest()


def check_secret_key(database: Database, secret_key: str) -> None:
    """Record this key's fingerprint if none is, or raise SecretKeyMismatch if it differs."""
    mine = secret_key_fingerprint(secret_key)
    with database.session() as session:
        insert_or_ignore(
            session, DeploymentFact.__table__, {"name": FINGERPRINT_FACT, "value": mine}
        )
        recorded = session.get(DeploymentFact, FINGERPRINT_FACT)
        assert recorded is not None  # inserted just now or earlier, never deleted meanwhile
        if not hmac.compare_digest(recorded.value, mine):
            raise SecretKeyMismatch(mine, recorded.value)


def forget_secret_key(database: Database) -> bool:
    """Drop the recorded fingerprint, so the next server to start records its own key's."""
    with database.session() as session:
        result = session.execute(
            delete(DeploymentFact).where(DeploymentFact.name == FINGERPRINT_FACT)
        )
        return bool(getattr(result, "rowcount", 0))
