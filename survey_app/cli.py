"""The ``survey-app`` command."""

from __future__ import annotations

import click

from . import migrate
from .commands import (
    Context,
    database_reached,
    friendly_errors,
    in_operator_language,
    pass_context,
    run_server_or_explain,
    server_options,
    with_server,
)
from .commands.help_texts import HelpInOperatorLanguage
from .operations import demo_secrets


@click.group(cls=HelpInOperatorLanguage)
@click.pass_context
def main(click_context: click.Context) -> None:
    """Anonymous, sealed beneficiary feedback surveys."""
    context = click_context.ensure_object(Context)
    click_context.call_on_close(context.close)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
@pass_context
@database_reached
@friendly_errors(migrate.RevisionRefused, migrate.MigrationsMissing)
def db_upgrade(ctx: Context, revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    database = ctx.database_to_set_up()
    migrate.upgrade(database, revision)
    click.echo(f"database at revision {migrate.current_revision(database)}")


@db.command("downgrade")
@click.argument("revision")
@pass_context
@database_reached
@friendly_errors(migrate.RevisionRefused, migrate.MigrationsMissing)
def db_downgrade(ctx: Context, revision: str) -> None:
    """Undo migrations down to REVISION."""
    migrate.downgrade(ctx.database, revision)
    click.echo(f"database at revision {migrate.current_revision(ctx.database)}")


@db.command("current")
@pass_context
@database_reached
@friendly_errors(migrate.MigrationsMissing)
def db_current(ctx: Context) -> None:
    """Show the schema revision of the database."""
    click.echo(migrate.current_revision(ctx.database) or "empty (run `survey-app db upgrade`)")


@main.command()
@server_options
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Worker processes (gunicorn; default: the setting server.workers, or 1). More than one "
    "needs rate_limits.storage_url.",
)
@pass_context
def serve(ctx: Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the app: gunicorn with several worker processes, or waitress with one."""
    from .operations.server import serve as run_server

    if not ctx.settings.is_development:
        try:
            demo_secrets.refuse_if_present(ctx.settings.instance_path)
        except demo_secrets.DemoSecretsPresent as error:
            raise click.ClickException(in_operator_language(error)) from None
    settings = with_server(ctx.settings, host=host, port=port, workers=workers)
    ctx.require_current_schema()
    run_server_or_explain(run_server, settings)


def _register_commands() -> None:
    from .commands import (
        audit,
        demo,
        doctor,
        keys,
        links,
        maintenance,
        programmes,
        report,
        secret_key,
        surveys,
        users,
    )

    for module in (
        audit,
        doctor,
        demo,
        keys,
        links,
        maintenance,
        programmes,
        report,
        secret_key,
        surveys,
        users,
    ):
        module.register(main)


_register_commands()
