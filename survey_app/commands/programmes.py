"""`survey-app programmes`: the programmes that share a deployment."""

from __future__ import annotations

import re

import click
from sqlalchemy import select

from ..models import Programme
from . import Context, pass_context

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def register(main: click.Group) -> None:
    main.add_command(programmes)


@click.group()
def programmes() -> None:
    """Programmes: each owns its surveys, keys, links and reports."""


@programmes.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Full name, shown to staff only.")
@click.option(
    "--public-title",
    default="Feedback",
    show_default=True,
    help="Neutral title respondents see; never name the programme's purpose.",
)
@click.option("--retention-days", default=730, show_default=True, type=click.IntRange(1))
@pass_context
def create(ctx: Context, slug: str, name: str, public_title: str, retention_days: int) -> None:
    """Create programme SLUG."""
    if not SLUG.match(slug):
        raise click.ClickException(
            f"programme id {slug!r}: use 2-63 lower-case letters, digits and dashes"
        )
    with ctx.require_current_schema().session() as session:
        if session.scalar(select(Programme).where(Programme.slug == slug)):
            raise click.ClickException(f"programme {slug!r} already exists")
        session.add(
            Programme(
                slug=slug,
                name=name,
                public_title=public_title,
                retention_days=retention_days,
                help_contacts={},
            )
        )
    click.echo(f"created programme {slug}")


@programmes.command("list")
@pass_context
def list_programmes(ctx: Context) -> None:
    """List programmes."""
    with ctx.require_current_schema().session() as session:
        for programme in session.scalars(select(Programme).order_by(Programme.slug)):
            click.echo(
                f"{programme.slug}\t{programme.name}\tretention {programme.retention_days} days"
            )
