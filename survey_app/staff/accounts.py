"""Staff accounts: Argon2id password hashes (argon2-cffi defaults follow RFC 9106)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from ..messages import N_, DomainError
from ..models import User

MIN_PASSWORD_LENGTH = 12
# zxcvbn's scale: 3 is "safely unguessable" for an online attack, at least 10^8 guesses.
MIN_SCORE = 3
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
_hasher = PasswordHasher()


class AccountError(DomainError):
    """A request about an account that cannot be carried out; the message says why."""


class PasswordTooShort(AccountError):
    message_id = N_("Passwords must have at least %(count)d characters.")

    def __init__(self) -> None:
        super().__init__(count=MIN_PASSWORD_LENGTH)


class UserNameRefused(AccountError):
    message_id = N_(
        "User name '%(username)s': use 2 to 63 lower-case letters, digits, dots, dashes or "
        "underscores."
    )

    def __init__(self, username: str) -> None:
        super().__init__(username=username)


class UserNameTaken(AccountError):
    message_id = N_("User '%(username)s' already exists.")

    def __init__(self, username: str) -> None:
        super().__init__(username=username)


class PasswordTooCommon(AccountError):
    message_id = N_(
        "This password is too easy to guess: it is a common password, or is built from one or "
        "from repeated or sequential characters. A few unrelated words make a good one."
    )


def too_easy_to_guess(password: str, user_inputs: Sequence[str] = ()) -> bool:
    """Whether `password` falls to a guessing attack that starts with the usual guesses.

    zxcvbn (offline: its lists ship with the package) matches it against ranked lists of the
    most common passwords from published breaches, common words and names, keyboard patterns,
    repeats, sequences and dates, and estimates the guesses needed. Under 10^8 guesses (score
    below 3) is refused: "password1234" and "aaaaaaaaaaaa" are, within the first thousand.
    """
    # zxcvbn's cost grows with length; a long password is not weak for want of the tail.
    return int(zxcvbn(password[:100], user_inputs=list(user_inputs))["score"]) < MIN_SCORE


def check_new_password(password: str, username: str = "") -> None:
    """Raise AccountError when `password` may not be chosen."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort()
    if too_easy_to_guess(password, [username] if username else []):
        raise PasswordTooCommon()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort()
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
        raise UserNameRefused(username)
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise UserNameTaken(username)
    check_new_password(password, username)
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
