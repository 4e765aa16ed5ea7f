"""Staff sign-in and what each role may do.

Sign-in is a password (Argon2id, see `accounts`) and, for anyone who has enrolled, a TOTP code.
Repeated failures lock the account for a while; a locked account gets the same answer as a wrong
password or an unknown user name, so that the answer never tells which user names exist. A TOTP code is accepted one time step either
side of now (valid_window=1) and never twice: the last accepted step is remembered per user.

Roles are per programme. A deployment administrator (`User.is_superadmin`) holds every admin
permission in every programme and may create programmes, but is no analyst: unsealed answers
stay with a programme's analysts.

Every outcome that matters is written to the audit log here, so the web and the command line
record the same things.
"""

from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import pyotp
from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.orm import Session

from ..keys import totp_secrets
from ..messages import N_, DomainError
from ..models import Programme, Role, User
from . import accounts, audit

TOTP_ISSUER = "Feedback staff"
TOTP_VALID_WINDOW = 1
UNKNOWN_USER = "(unknown user name)"


class Permission(enum.StrEnum):
    # Deployment-wide: only deployment administrators.
    CREATE_PROGRAMMES = "create-programmes"
    # Per programme.
    MANAGE_PROGRAMME = "manage-programme"  # name, public title, retention
    MANAGE_MEMBERS = "manage-members"  # accounts and roles
    MANAGE_LINKS = "manage-links"  # distribution links and access codes
    MANAGE_KEYS = "manage-keys"
    VIEW_AUDIT = "view-audit"
    ENTER_RESPONSES = "enter-responses"  # caseworker-assisted entry, paper forms
    VIEW_REPORTS = "view-reports"  # published aggregates
    REFRESH_REPORTS = "refresh-reports"  # unlocks the key
    READ_FREE_TEXT = "read-free-text"  # redacted
    EXPORT_MICRODATA = "export-microdata"


GLOBAL_PERMISSIONS = frozenset({Permission.CREATE_PROGRAMMES})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        {
            Permission.MANAGE_PROGRAMME,
            Permission.MANAGE_MEMBERS,
            Permission.MANAGE_LINKS,
            Permission.MANAGE_KEYS,
            Permission.VIEW_AUDIT,
            Permission.ENTER_RESPONSES,
            Permission.VIEW_REPORTS,
        }
    ),
    Role.ANALYST: frozenset(
        {
            Permission.VIEW_REPORTS,
            Permission.REFRESH_REPORTS,
            Permission.READ_FREE_TEXT,
            Permission.EXPORT_MICRODATA,
        }
    ),
    Role.VIEWER: frozenset({Permission.VIEW_REPORTS}),
    Role.CASEWORKER: frozenset({Permission.ENTER_RESPONSES}),
}

# Key holders and administrators: a stolen password alone must not be enough.
TWO_FACTOR_ROLES = frozenset({Role.ADMIN, Role.ANALYST})


# ------------------------------------------------------------------ permissions


def can(user: User, permission: Permission, programme_id: int | None = None) -> bool:
    """Whether `user` may do `permission` in programme `programme_id`.

    Deployment-wide permissions take no programme; every other one needs one.
    """
    if not user.active:
        return False
    if permission in GLOBAL_PERMISSIONS:
        return user.is_superadmin
    if programme_id is None:
        raise ValueError(f"{permission.value} is granted per programme: pass the programme id")
    if user.is_superadmin and permission in ROLE_PERMISSIONS[Role.ADMIN]:
        return True
    return any(
        m.programme_id == programme_id and permission in ROLE_PERMISSIONS[m.role]
        for m in user.memberships
    )


def can_anywhere(user: User, permission: Permission) -> bool:
    """Whether `user` holds `permission` in at least one programme (or deployment-wide)."""
    if not user.active:
        return False
    if user.is_superadmin and (
        permission in GLOBAL_PERMISSIONS or permission in ROLE_PERMISSIONS[Role.ADMIN]
    ):
        return True
    return any(permission in ROLE_PERMISSIONS[m.role] for m in user.memberships)


def programmes_where(session: Session, user: User, permission: Permission) -> list[Programme]:
    """The programmes in which `user` holds `permission`, by name."""
    programmes = session.scalars(select(Programme).order_by(Programme.name))
    return [p for p in programmes if can(user, permission, p.id)]


def is_member(user: User, programme_id: int) -> bool:
    return any(m.programme_id == programme_id for m in user.memberships)


def role_in(user: User, programme_id: int) -> Role | None:
    return next((m.role for m in user.memberships if m.programme_id == programme_id), None)


def requires_two_factor(user: User) -> bool:
    return user.is_superadmin or any(m.role in TWO_FACTOR_ROLES for m in user.memberships)


def can_manage_user(actor: User, target: User) -> bool:
    """Deployment administrators manage everyone; a programme admin manages the accounts that
    belong only to programmes they administer (else they could take over another programme's
    analyst)."""
    if actor.is_superadmin and actor.active:
        return True
    if target.is_superadmin or not target.memberships:
        return False
    return all(can(actor, Permission.MANAGE_MEMBERS, m.programme_id) for m in target.memberships)


def shares_programme(actor: User, target: User) -> bool:
    mine = {m.programme_id for m in actor.memberships}
    return any(m.programme_id in mine for m in target.memberships)


# ------------------------------------------------------------------ sign-in


@dataclass(frozen=True)
class LockoutPolicy:
    failures: int = 5
    minutes: int = 15


DEFAULT_LOCKOUT = LockoutPolicy()


class SignInError(DomainError):
    """Sign-in refused; the message says what the person can do about it."""


class WrongCredentials(SignInError):
    """A wrong user name or password, or a locked account: one answer for all three, so that
    the answer never tells whether a user name exists."""

    message_id = N_(
        "That user name and password do not match, or the account is locked for a while after "
        "too many attempts. Wait %(minutes)d minutes or ask an administrator."
    )

    def __init__(self, minutes: int = DEFAULT_LOCKOUT.minutes) -> None:
        super().__init__(minutes=minutes)


class AccountLocked(WrongCredentials):
    """Too many failures in a row; `until` is for the audit log and administrators only."""

    def __init__(self, until: datetime, minutes: int = DEFAULT_LOCKOUT.minutes) -> None:
        self.until = until
        super().__init__(minutes)


class AccountDisabled(SignInError):
    message_id = N_("This account is switched off. Ask an administrator to switch it on.")


class WrongCode(SignInError):
    message_id = N_(
        "That code is not right. Enter the 6-digit code your authenticator app shows now; "
        "if it keeps failing, check that your device's clock is set automatically."
    )


class TwoStepSecretUnreadable(SignInError):
    """The stored TOTP secret does not open with this server's TOTP key (a lost or wrong key)."""

    message_id = N_(
        "Two-step sign-in cannot be checked on this server. Ask an administrator to reset "
        "your two-step sign-in."
    )


class CodeAlreadyUsed(SignInError):
    message_id = N_(
        "That code has already been used. Wait for your authenticator app to show a new "
        "code and enter that one."
    )


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def locked_until(user: User, now: datetime) -> datetime | None:
    until = user.locked_until
    return until if until is not None and until > now else None


@cache
def _decoy_hash() -> str:
    return accounts.hash_password("decoy password for unknown user names")


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def check_password(
    session: Session,
    username: str,
    password: str,
    *,
    now: datetime,
    policy: LockoutPolicy = DEFAULT_LOCKOUT,
) -> User:
    """The user whose password this is, or a SignInError (counted towards a lockout)."""
    user = find_user(session, username)
    if user is None:
        # Take as long as a real check, so timing does not tell which user names exist; and
        # never record what was typed: it may be someone's password.
        accounts.password_matches(_decoy_hash(), password)
        audit.record(session, UNKNOWN_USER, "auth.sign-in-failed", None, "no such user name")
        raise WrongCredentials(policy.minutes)
    # Checked even when locked, so that a locked account answers as slowly as any other.
    matches = accounts.password_matches(user.password_hash, password)
    until = locked_until(user, now)
    if until is not None:
        audit.record(session, user.username, "auth.sign-in-failed", None, "account is locked")
        raise AccountLocked(until, policy.minutes)
    if not matches:
        _count_failure(session, user, now, policy, "wrong password")
        raise WrongCredentials(policy.minutes)
    if not user.active:
        audit.record(session, user.username, "auth.sign-in-failed", None, "account switched off")
        raise AccountDisabled()
    return user


def check_code(
    session: Session,
    user: User,
    code: str,
    *,
    now: datetime,
    totp_key: str,
    policy: LockoutPolicy = DEFAULT_LOCKOUT,
) -> None:
    """Accept `user`'s TOTP code once, or raise a SignInError (counted towards a lockout).

    `totp_key` opens the stored secret (see totp_secrets); it is never in the database."""
    until = locked_until(user, now)
    if until is not None:
        raise AccountLocked(until, policy.minutes)
    if not user.totp_secret:
        raise ValueError("this user has no two-step sign-in to check")
    try:
        secret = totp_secrets.open_secret(totp_key, user.id, user.totp_secret)
    except totp_secrets.TotpSecretUnreadable:
        what = "two-step secret does not open with this server's TOTP key"
        audit.record(session, user.username, "auth.sign-in-failed", None, what)
        raise TwoStepSecretUnreadable() from None
    step = matching_step(secret, code, now)
    if step is None:
        _count_failure(session, user, now, policy, "wrong two-step code")
        raise WrongCode()
    # A secret stored before sealing existed is sealed now, in the same UPDATE.
    values: dict[str, object] = {"totp_last_step": step}
    if not totp_secrets.is_sealed(user.totp_secret):
        values["totp_secret"] = totp_secrets.seal(totp_key, user.id, secret)
    # Taking the step is one conditional UPDATE: of several sign-ins sending the same code at
    # once, the database lets exactly one move totp_last_step forward.
    taken = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(values)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(taken) != 1:
        _count_failure(session, user, now, policy, "two-step code used twice")
        raise CodeAlreadyUsed()
    user.totp_last_step = step


def complete_sign_in(
    session: Session,
    user: User,
    *,
    with_code: bool,
    now: datetime,
    policy: LockoutPolicy = DEFAULT_LOCKOUT,
) -> None:
    """Clear the failure count, unless a lock was set since the password was checked (by
    failures sent at the same time): then the sign-in is refused like any locked one."""
    cleared = session.execute(
        update(User)
        .where(User.id == user.id, or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(failed_logins=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(cleared) != 1:
        audit.record(session, user.username, "auth.sign-in-failed", None, "account is locked")
        raise AccountLocked(now + timedelta(minutes=policy.minutes), policy.minutes)
    user.failed_logins = 0
    user.locked_until = None
    how = "with password and two-step code" if with_code else "with password"
    audit.record(session, user.username, "auth.sign-in", None, how)


def record_sign_out(session: Session, user: User, *, reason: str = "signed out") -> None:
    """End every session of the user: a copied session cookie stops working too."""
    user.session_epoch += 1
    audit.record(session, user.username, "auth.sign-out", None, reason)


def _count_failure(
    session: Session, user: User, now: datetime, policy: LockoutPolicy, what: str
) -> None:
    """Count one failure and lock the account at the limit, or raise AccountLocked.

    Counted in the database, never read then written: failures sent at the same moment each
    add one, exactly one of them brings the count to the limit and sets the lock, and the
    ones counted past it are refused as locked. A lock that has run out starts a new count.
    """
    lock_ended = and_(User.locked_until.is_not(None), User.locked_until <= now)
    failures = session.execute(
        update(User)
        .where(User.id == user.id)
        .values(
            failed_logins=case((lock_ended, 1), else_=User.failed_logins + 1),
            locked_until=case((lock_ended, None), else_=User.locked_until),
        )
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    if failures < policy.failures:
        audit.record(session, user.username, "auth.sign-in-failed", None, what)
        return
    if failures > policy.failures:  # locked meanwhile by a failure sent at the same time
        audit.record(session, user.username, "auth.sign-in-failed", None, "account is locked")
        raise AccountLocked(now + timedelta(minutes=policy.minutes), policy.minutes)
    until = now + timedelta(minutes=policy.minutes)
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(locked_until=until)
        .execution_options(synchronize_session=False)
    )
    user.locked_until = until
    audit.record(
        session,
        user.username,
        "auth.locked",
        None,
        f"{what}; locked for {policy.minutes} minutes after {policy.failures} failed attempts",
    )
    raise AccountLocked(until, policy.minutes)


# ------------------------------------------------------------------ TOTP


def new_totp_secret() -> str:
    return str(pyotp.random_base32())


def provisioning_uri(secret: str, username: str) -> str:
    return str(pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER))


def grouped(secret: str, size: int = 4) -> str:
    """The secret as people copy it best: ABCD EFGH IJKL ..."""
    return " ".join(secret[i : i + size] for i in range(0, len(secret), size))


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code `code` is, within one step either side of now."""
    code = code.replace(" ", "").strip()
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(totp.timecode(now))
    for step in range(current - TOTP_VALID_WINDOW, current + TOTP_VALID_WINDOW + 1):
        if hmac.compare_digest(str(totp.generate_otp(step)), code):
            return step
    return None


def enrol_two_factor(
    session: Session, user: User, secret: str, code: str, *, now: datetime, totp_key: str
) -> None:
    """Turn on two-step sign-in once the person proves their app holds `secret`, which is
    stored sealed under `totp_key`."""
    step = matching_step(secret, code, now)
    if step is None:
        raise WrongCode()
    user.totp_secret = totp_secrets.seal(totp_key, user.id, secret)
    user.totp_last_step = step
    audit.record(session, user.username, "user.two-factor-enrol", None, "two-step sign-in on")


# ------------------------------------------------------------------ passwords


class PasswordChangeError(DomainError):
    """A new password that cannot be accepted; the message says why."""


class WrongCurrentPassword(PasswordChangeError):
    message_id = N_("Your current password is not right. Type the password you use now.")


class PasswordsDiffer(PasswordChangeError):
    message_id = N_("The two new passwords are not the same. Type the new password twice.")


class PasswordUnchanged(PasswordChangeError):
    message_id = N_("The new password is the same as the current one. Choose another.")


class PasswordTooShort(PasswordChangeError):
    message_id = N_(
        "The new password needs at least %(count)d characters; a few unrelated words make a "
        "good one."
    )

    def __init__(self) -> None:
        super().__init__(count=accounts.MIN_PASSWORD_LENGTH)


class PasswordTooCommon(PasswordChangeError):
    message_id = N_(
        "This password is too easy to guess: it is a common password, or is built from one or "
        "from repeated or sequential characters. A few unrelated words make a good one."
    )


class PasswordIsUserName(PasswordChangeError):
    message_id = N_("The new password must not contain your user name. Choose another.")


def change_password(session: Session, user: User, current: str, new: str, repeated: str) -> None:
    """Set a new password chosen by its owner; every other session of theirs ends."""
    if not accounts.password_matches(user.password_hash, current):
        raise WrongCurrentPassword()
    if new != repeated:
        raise PasswordsDiffer()
    if new == current:
        raise PasswordUnchanged()
    if user.username in new.lower():
        raise PasswordIsUserName()
    if len(new) < accounts.MIN_PASSWORD_LENGTH:
        raise PasswordTooShort()
    if accounts.too_easy_to_guess(new, [user.username]):
        raise PasswordTooCommon()
    user.password_hash = accounts.hash_password(new)
    user.must_change_password = False
    user.session_epoch += 1
    audit.record(session, user.username, "auth.password-change", None, "changed own password")
