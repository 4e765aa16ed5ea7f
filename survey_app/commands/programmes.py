"""`survey-app programmes`: the programmes that share a deployment."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from ..intake.help_contacts import HelpFileError, parse_help_contacts
from ..models import Programme
from ..staff import audit, programme_admin
from . import Context, friendly_errors, operator, pass_context


def _actor() -> audit.Actor:
    return audit.Actor(operator.actor())


def register(main: click.Group) -> None:
    main.add_command(programmes)


@click.group()
def programmes() -> None:
    """Programmes: each owns its surveys, keys, links and reports."""


@programmes.command("create")
@click.argument("slug")
@click.option(
    "--name", required=True, help="Full name, shown to staff only (up to 200 characters)."
)
@click.option(
    "--public-title",
    default="Feedback",
    show_default=True,
    help="Neutral title respondents see; never name the programme's purpose.",
)
@click.option(
    "--retention-days",
    default=730,
    show_default=True,
    type=int,
    help=f"Days responses are kept (1 to {programme_admin.MAX_RETENTION_DAYS}).",
)
@pass_context
@friendly_errors(programme_admin.ProgrammeAdminError)
def create(ctx: Context, slug: str, name: str, public_title: str, retention_days: int) -> None:
    """Create programme SLUG."""
    details = programme_admin.ProgrammeDetails(name, public_title, retention_days)
    with ctx.require_current_schema().session() as session:
        programme = programme_admin.create_programme(session, _actor(), slug, details)
    click.echo(f"created programme {programme.slug}")


@programmes.command("list")
@pass_context
def list_programmes(ctx: Context) -> None:
    """List programmes."""
    with ctx.require_current_schema().session() as session:
        for programme in session.scalars(select(Programme).order_by(Programme.slug)):
            click.echo(
                f"{programme.slug}\t{programme.name}\tretention {programme.retention_days} days"
            )


@programmes.command("set-help")
@click.argument("slug")
@click.argument("help_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_context
@friendly_errors(programme_admin.ProgrammeAdminError)
def set_help(ctx: Context, slug: str, help_file: Path) -> None:
    """Set the help and referral contacts shown on every respondent page, per language.

    HELP_FILE is TOML with one array of contacts per language code, for example:

    \b
    [[en]]
    name = "Support line (free, 24 hours)"
    phone = "+44 800 0000"
    hours = "24/7"
    """
    try:
        contacts = parse_help_contacts(help_file.read_text(encoding="utf-8"))
    except HelpFileError as error:
        raise click.ClickException(f"{help_file}: {error}") from None
    with ctx.require_current_schema().session() as session:
        found = programme_admin.find_programme(session, slug)
        programme_admin.set_help_contacts(session, _actor(), found, contacts)
    click.echo(
        f"help contacts of {slug}: {', '.join(f'{k} ({len(v)})' for k, v in sorted(contacts.items()))}"
    )
