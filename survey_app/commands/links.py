"""`survey-app links` and `survey-app codes`: distribution links and single-use access codes."""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..config import ensure_key
from ..messages import N_
from ..models import DistributionLink, Programme
from ..staff import audit, programme_admin
from . import Context, friendly_errors, pass_context, refused
from .operator import actor as operator_name

LIST_COLUMNS = ("token", "programme", "survey", "site", "access", "state")


def register(main: click.Group) -> None:
    main.add_command(links)
    main.add_command(codes)


def _actor() -> audit.Actor:
    return audit.Actor(operator_name())


def _find_link(session: Session, token: str) -> DistributionLink:
    link = session.get(DistributionLink, token)
    if link is None:
        raise refused(N_("no link '%(token)s'; see `survey-app links list`"), token=token)
    return link


@click.group()
def links() -> None:
    """Distribution links: one per survey and site, handed out to respondents."""


@links.command("create")
@click.argument("programme")
@click.argument("survey_id")
@click.option("--site", required=True, help="Where the link is handed out (a place, no names).")
@click.option("--requires-code", is_flag=True, help="Ask each respondent for a single-use code.")
@pass_context
@friendly_errors(programme_admin.ProgrammeAdminError)
def create(ctx: Context, programme: str, survey_id: str, site: str, requires_code: bool) -> None:
    """Create a link to SURVEY_ID for PROGRAMME at a site."""
    with ctx.require_current_schema().session() as session:
        found = programme_admin.find_programme(session, programme)
        link = programme_admin.create_link(
            session, _actor(), found, survey_id, site, requires_code=requires_code
        )
    click.echo(f"created link {link.token}: /s/{link.token}")
    if requires_code:
        click.echo(f"make access codes with `survey-app codes create {link.token} --count 50`")


@links.command("list")
@click.argument("programme", required=False)
@pass_context
@friendly_errors(programme_admin.ProgrammeAdminError)
def list_links(ctx: Context, programme: str | None) -> None:
    """List links (of PROGRAMME, or of every programme)."""
    with ctx.require_current_schema().session() as session:
        query = select(DistributionLink, Programme.slug).join(
            Programme, Programme.id == DistributionLink.programme_id
        )
        if programme:
            query = query.where(
                DistributionLink.programme_id
                == programme_admin.find_programme(session, programme).id
            )
        found = session.execute(
            query.order_by(Programme.slug, DistributionLink.survey_id, DistributionLink.site)
        ).all()
    click.echo("\t".join(LIST_COLUMNS))
    if not found:
        click.echo(
            "no links" + (f" in {programme}" if programme else "") + "; make one with "
            "`survey-app links create PROGRAMME SURVEY_ID --site SITE`"
        )
    for link, slug in found:
        click.echo(
            f"{link.token}\t{slug}\t{link.survey_id}\t{link.site}\t"
            f"{'codes' if link.requires_code else 'open'}\t{'on' if link.active else 'off'}"
        )


@links.command("disable")
@click.argument("token")
@pass_context
def disable(ctx: Context, token: str) -> None:
    """Switch link TOKEN off: it stops answering at once."""
    with ctx.require_current_schema().session() as session:
        programme_admin.set_link_active(session, _actor(), _find_link(session, token), False)
    click.echo(f"link {token} switched off")


@links.command("enable")
@click.argument("token")
@pass_context
def enable(ctx: Context, token: str) -> None:
    """Switch link TOKEN back on."""
    with ctx.require_current_schema().session() as session:
        programme_admin.set_link_active(session, _actor(), _find_link(session, token), True)
    click.echo(f"link {token} switched on")


@click.group()
def codes() -> None:
    """Single-use access codes for links that ask for one."""


@codes.command("create")
@click.argument("link")
@click.option("--count", type=int, default=50, show_default=True, help="How many codes (1-5000).")
@pass_context
@friendly_errors(programme_admin.ProgrammeAdminError)
def create_codes(ctx: Context, link: str, count: int) -> None:
    """Make a batch of codes for LINK and print them, this once; only their hashes are kept."""
    with ctx.require_current_schema().session() as session:
        batch, made = programme_admin.create_code_batch(
            session,
            _actor(),
            _find_link(session, link),
            count,
            ensure_key(ctx.settings, "code_key"),
        )
    click.echo(f"batch {batch}: {len(made)} codes for link {link} (shown once)", err=True)
    for code in made:
        click.echo(code)
