"""`survey-app audit`: read the audit log and check that its chain is intact."""

from __future__ import annotations

import click

from ..messages import N_
from ..staff import audit, programme_admin
from . import Context, friendly_errors, pass_context, refused


def register(main: click.Group) -> None:
    main.add_command(audit_group)


@click.group("audit")
def audit_group() -> None:
    """The audit log of sign-ins, account, role, programme, key and link changes, reports."""


@audit_group.command("verify")
@pass_context
def verify(ctx: Context) -> None:
    """Check the hash chain; list every edited, removed or inserted row (exit status 1)."""
    with ctx.require_current_schema().session() as session:
        problems = audit.verify_chain(session)
        head = audit.head_hash(session)
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        raise refused(
            N_("the audit log has been tampered with: %(count)d problem(s) listed above"),
            count=len(problems),
        )
    click.echo(f"audit log intact; newest hash {head} (note it down to anchor the chain)")


@audit_group.command("list")
@click.option("--actor", help="Only events by this user name (or cli:LOGIN).")
@click.option("--action", help="Only this action, e.g. auth.sign-in-failed.")
@click.option("--programme", help="Only events of this programme (its id).")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@pass_context
@friendly_errors(programme_admin.ProgrammeAdminError)
def list_events(
    ctx: Context, actor: str | None, action: str | None, programme: str | None, limit: int
) -> None:
    """Print the newest events, newest first."""
    with ctx.require_current_schema().session() as session:
        programme_ids = (
            [programme_admin.find_programme(session, programme).id] if programme else None
        )
        events = audit.find_events(
            session,
            audit.AuditFilter(actor=actor, action=action, programme_ids=programme_ids),
            limit=limit,
        )
        for event in events:
            click.echo(
                f"{event.id}\t{event.at:%Y-%m-%d %H:%M:%S}\t{event.actor}\t{event.action}\t"
                f"{event.programme_id or '-'}\t{event.detail}"
            )
