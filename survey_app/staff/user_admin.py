"""What administrators do to staff accounts: create them, reset them, give and take roles.

Passwords set here are temporary: shown once to the administrator, who passes them on; the
person must choose their own at the next sign-in. Every change is audited, in the same
transaction, under the acting person's name.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..messages import N_, DomainError
from ..models import Membership, Programme, Role, User
from . import accounts, audit, auth

# Unambiguous when read aloud or copied from a screen: no 0/O, 1/l/I.
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class UserAdminError(DomainError):
    """An account change that cannot be made; the message says what to do instead."""

    field = ""


class UnknownUser(UserAdminError):
    field = "username"
    message_id = N_(
        "There is no user called '%(username)s'. Check the spelling, or create the account "
        "first (Administration, Accounts, New account)."
    )

    def __init__(self, username: str) -> None:
        self.username = username
        super().__init__(username=username)


class UserNameInvalid(UserAdminError):
    """The account cannot be made as asked; carries the accounts module's reason."""

    field = "username"

    def __init__(self, refused: accounts.AccountError) -> None:
        super().__init__(refused.message, **refused.params)


class AlreadyMember(UserAdminError):
    field = "username"
    message_id = N_(
        "%(username)s is already a member of this programme (as %(role)s); change their role "
        "in the list of members instead."
    )

    def __init__(self, username: str, role: Role) -> None:
        super().__init__(username=username, role=role.value)


class OwnAccount(UserAdminError):
    """Nobody changes their own account's standing, so that nobody locks themselves out."""

    SWITCH_OFF = N_(
        "You cannot switch off yourself: ask another administrator, so that no one can lock "
        "themselves out by mistake."
    )
    CHANGE_ROLE = N_(
        "You cannot change the role of yourself: ask another administrator, so that no one can "
        "lock themselves out by mistake."
    )
    REMOVE = N_(
        "You cannot remove yourself: ask another administrator, so that no one can lock "
        "themselves out by mistake."
    )


class AdministratorExists(UserAdminError):
    message_id = N_(
        "An administrator already exists (%(existing)s); sign in as them to add accounts, or "
        "use `survey-app users add %(username)s --superadmin`."
    )

    def __init__(self, existing: str, username: str) -> None:
        super().__init__(existing=existing, username=username)


def temporary_password() -> str:
    raw = "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise UnknownUser(username.strip())
    return user


def create_user(
    session: Session,
    actor: audit.Actor,
    username: str,
    *,
    programme: Programme | None = None,
    role: Role | None = None,
    superadmin: bool = False,
) -> tuple[User, str]:
    """A new account with a temporary password (returned, never stored in the clear)."""
    password = temporary_password()
    try:
        user = accounts.create_user(
            session, username.strip().lower(), password, superadmin=superadmin
        )
    except accounts.AccountError as error:
        raise UserNameInvalid(error) from None
    user.must_change_password = True
    kind = "deployment administrator" if superadmin else "staff account"
    audit.record(session, actor.name, "user.create", None, f"created {kind} {user.username}")
    if programme is not None and role is not None:
        grant_role(session, actor, user, programme, role)
    return user, password


def refuse_second_administrator(session: Session, username: str) -> None:
    """Raise if the deployment has an administrator already (checked before asking a password)."""
    existing = session.scalar(select(User.username).where(User.is_superadmin.is_(True)))
    if existing is not None:
        raise AdministratorExists(existing, username)


def create_first_administrator(
    session: Session, actor: audit.Actor, username: str, password: str
) -> User:
    """The deployment's first administrator, with a password they chose themselves."""
    refuse_second_administrator(session, username)
    try:
        user = accounts.create_user(session, username.strip().lower(), password, superadmin=True)
    except accounts.AccountError as error:
        raise UserNameInvalid(error) from None
    audit.record(
        session, actor.name, "user.create", None, f"created first administrator {user.username}"
    )
    return user


def reset_password(session: Session, actor: audit.Actor, target: User) -> str:
    """A new temporary password; the person's sessions end and the lockout is lifted."""
    password = temporary_password()
    target.password_hash = accounts.hash_password(password)
    target.must_change_password = True
    target.session_epoch += 1
    target.failed_logins = 0
    target.locked_until = None
    audit.record(
        session,
        actor.name,
        "user.password-reset",
        None,
        f"temporary password for {target.username}",
    )
    return password


def reset_two_factor(session: Session, actor: audit.Actor, target: User) -> None:
    """For a lost phone: the person enrols again at the next sign-in (if their role needs it)."""
    target.totp_secret = None
    target.totp_last_step = None
    target.session_epoch += 1
    audit.record(
        session,
        actor.name,
        "user.two-factor-reset",
        None,
        f"two-step sign-in off for {target.username}",
    )


def set_active(session: Session, actor: audit.Actor, target: User, active: bool) -> None:
    if target.id == actor.user_id:
        raise OwnAccount(OwnAccount.SWITCH_OFF)
    if target.active == active:
        return
    target.active = active
    target.session_epoch += 1
    action = "user.activate" if active else "user.deactivate"
    state = "switched on" if active else "switched off"
    audit.record(session, actor.name, action, None, f"{target.username} {state}")


def grant_role(
    session: Session, actor: audit.Actor, user: User, programme: Programme, role: Role
) -> Membership:
    existing = next((m for m in user.memberships if m.programme_id == programme.id), None)
    if existing is not None:
        raise AlreadyMember(user.username, existing.role)
    membership = Membership(user=user, programme_id=programme.id, role=role)
    session.add(membership)
    session.flush()
    audit.record(
        session,
        actor.name,
        "role.grant",
        programme.id,
        f"{user.username} is {role.value} of {programme.slug}",
    )
    return membership


def add_member(
    session: Session,
    actor: audit.Actor,
    acting: User,
    username: str,
    programme: Programme,
    role: Role,
) -> Membership | None:
    """Add the account named `username` to `programme`, or pass the request on (None).

    A deployment administrator adds anyone. A programme administrator adds directly only an
    account that belongs solely to programmes they administer; anyone else (another
    programme's member, a deployment administrator, a name that does not exist) would give
    them that person's details and take the account out of its own administrators' hands. So
    the request is recorded in the audit log for a deployment administrator to act on, and the
    caller answers the same in every such case: the answer never tells which user names exist.
    """
    name = username.strip().lower()
    user = session.scalar(select(User).where(User.username == name))
    if acting.is_superadmin and acting.active:
        if user is None:
            raise UnknownUser(username.strip())
        return grant_role(session, actor, user, programme, role)
    if user is not None and auth.can_manage_user(acting, user):
        return grant_role(session, actor, user, programme, role)
    audit.record(
        session,
        actor.name,
        "role.request",
        programme.id,
        f"asks a deployment administrator to make {name[:64]!r} {role.value} of {programme.slug}",
    )
    return None


def change_role(session: Session, actor: audit.Actor, membership: Membership, role: Role) -> None:
    if membership.user_id == actor.user_id:
        raise OwnAccount(OwnAccount.CHANGE_ROLE)
    if membership.role == role:
        return
    before = membership.role
    membership.role = role
    # A session started under the old role must not keep its rights.
    membership.user.session_epoch += 1
    audit.record(
        session,
        actor.name,
        "role.change",
        membership.programme_id,
        f"{membership.user.username}: {before.value} -> {role.value}",
    )


def remove_membership(session: Session, actor: audit.Actor, membership: Membership) -> None:
    if membership.user_id == actor.user_id:
        raise OwnAccount(OwnAccount.REMOVE)
    user = membership.user
    user.session_epoch += 1
    detail = f"{user.username} is no longer {membership.role.value}"
    programme_id = membership.programme_id
    user.memberships.remove(membership)
    session.flush()
    audit.record(session, actor.name, "role.remove", programme_id, detail)


def set_role(
    session: Session, actor: audit.Actor, user: User, programme: Programme, role: Role | None
) -> str:
    """Give, change or (with None) take away `user`'s role in `programme`; says what it did."""
    existing = next((m for m in user.memberships if m.programme_id == programme.id), None)
    if role is None:
        if existing is None:
            return f"{user.username} has no role in {programme.slug}; nothing to remove"
        remove_membership(session, actor, existing)
        return f"{user.username} is no longer a member of {programme.slug}"
    if existing is None:
        grant_role(session, actor, user, programme, role)
    else:
        change_role(session, actor, existing, role)
    return f"{user.username} is {role.value} of {programme.slug}"
