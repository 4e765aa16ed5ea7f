"""`survey-app users`: staff accounts and their roles, from the terminal.

Temporary passwords are printed once; the person chooses their own at the first sign-in.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..messages import N_
from ..models import Programme, Role, User
from ..staff import accounts, audit, auth, programme_admin, user_admin
from . import Context, friendly_errors, pass_context, refused
from .operator import actor as operator_name

ROLE_NAMES = [role.value for role in Role]


def register(main: click.Group) -> None:
    main.add_command(users)


def _actor() -> audit.Actor:
    return audit.Actor(operator_name())


@click.group()
def users() -> None:
    """Staff accounts: administrators, analysts, viewers and caseworkers."""


@users.command("create-admin")
@click.argument("username")
@pass_context
@friendly_errors(user_admin.UserAdminError)
def create_admin(ctx: Context, username: str) -> None:
    """Create the first deployment administrator, USERNAME (asks for a password)."""
    with ctx.require_current_schema().session() as session:
        user_admin.refuse_second_administrator(session, username)
        password = click.prompt(
            f"Password for {username} ({accounts.MIN_PASSWORD_LENGTH} characters or more)",
            hide_input=True,
            confirmation_prompt="Repeat the password",
        )
        user = user_admin.create_first_administrator(session, _actor(), username, password)
    click.echo(
        f"created administrator {user.username}; sign in at /auth/sign-in, where you will be "
        "asked to set up two-step sign-in"
    )


@users.command("add")
@click.argument("username")
@click.option("--programme", help="Programme (its id, e.g. city-shelter) to give a role in.")
@click.option("--role", type=click.Choice(ROLE_NAMES), help="Role in that programme.")
@click.option("--superadmin", is_flag=True, help="Make a deployment administrator.")
@pass_context
@friendly_errors(user_admin.UserAdminError, programme_admin.ProgrammeAdminError)
def add(
    ctx: Context, username: str, programme: str | None, role: str | None, superadmin: bool
) -> None:
    """Create account USERNAME with a temporary password (printed once)."""
    if (programme is None) != (role is None):
        raise refused(N_("give --programme and --role together"))
    with ctx.require_current_schema().session() as session:
        found = programme_admin.find_programme(session, programme) if programme else None
        user, password = user_admin.create_user(
            session,
            _actor(),
            username,
            programme=found,
            role=Role(role) if role else None,
            superadmin=superadmin,
        )
    click.echo(f"created {user.username}; temporary password (shown once): {password}")
    click.echo("they must choose their own password at their first sign-in")


@users.command("list")
@pass_context
def list_users(ctx: Context) -> None:
    """List accounts, their roles, two-step sign-in and state."""
    now = datetime.now(UTC)
    with ctx.require_current_schema().session() as session:
        slugs = {pid: value for pid, value in session.execute(select(Programme.id, Programme.slug))}
        for user in session.scalars(
            select(User).options(selectinload(User.memberships)).order_by(User.username)
        ):
            roles = [f"{slugs[m.programme_id]}:{m.role.value}" for m in user.memberships]
            if user.is_superadmin:
                roles.insert(0, "deployment-admin")
            state = "active"
            if not user.active:
                state = "switched off"
            elif auth.locked_until(user, now) is not None:
                state = "locked"
            elif user.must_change_password:
                state = "must change password"
            click.echo(
                f"{user.username}\t{','.join(roles) or '-'}\t"
                f"2fa {'on' if user.totp_secret else 'off'}\t{state}"
            )


def _find_user(session: Session, username: str, add_options: str = "") -> User:
    """The account, or an error that points to the command that creates one."""
    try:
        return user_admin.find_user(session, username)
    except user_admin.UnknownUser as error:
        raise refused(
            N_(
                "There is no user called '%(username)s'. Check the spelling (`survey-app users "
                "list`), or create the account first: survey-app users add %(username)s%(options)s"
            ),
            username=error.username,
            options=add_options,
        ) from None


@users.command("reset-password")
@click.argument("username")
@click.option("--two-factor", is_flag=True, help="Also reset two-step sign-in (lost phone).")
@pass_context
@friendly_errors(user_admin.UserAdminError, programme_admin.ProgrammeAdminError)
def reset_password(ctx: Context, username: str, two_factor: bool) -> None:
    """Give USERNAME a temporary password (printed once) and end their sessions."""
    with ctx.require_current_schema().session() as session:
        user = _find_user(session, username)
        password = user_admin.reset_password(session, _actor(), user)
        if two_factor:
            user_admin.reset_two_factor(session, _actor(), user)
    click.echo(f"temporary password for {user.username} (shown once): {password}")
    if two_factor:
        click.echo("two-step sign-in reset: they set it up again at their next sign-in")


@users.command("set-role")
@click.argument("username")
@click.argument("programme")
@click.argument("role", type=click.Choice([*ROLE_NAMES, "none"]))
@pass_context
@friendly_errors(user_admin.UserAdminError, programme_admin.ProgrammeAdminError)
def set_role(ctx: Context, username: str, programme: str, role: str) -> None:
    """Give USERNAME the ROLE in PROGRAMME (`none` removes them from it)."""
    with ctx.require_current_schema().session() as session:
        options = "" if role == "none" else f" --programme {programme} --role {role}"
        user = _find_user(session, username, options)
        found = programme_admin.find_programme(session, programme)
        outcome = user_admin.set_role(
            session, _actor(), user, found, None if role == "none" else Role(role)
        )
    click.echo(outcome)
