"""Staff accounts: Argon2id password hashes (argon2-cffi defaults follow RFC 9106)."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import User

MIN_PASSWORD_LENGTH = 12
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
_hasher = PasswordHasher()


class AccountError(Exception):
    """A request about an account that cannot be carried out; the message says why."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"passwords must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    session: Session, username: str, password: str, *, superadmin: bool = False
) -> User:
    if not USERNAME.match(username):
        raise AccountError(
            f"user name {username!r}: use 2-63 lower-case letters, digits, dots, dashes or underscores"
        )
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} already exists")
    user = User(
        username=username,
        password_hash=hash_password(password),
        is_superadmin=superadmin,
        active=True,
        failed_logins=0,
        must_change_password=False,
        session_epoch=0,
    )
    session.add(user)
    session.flush()
    return user
