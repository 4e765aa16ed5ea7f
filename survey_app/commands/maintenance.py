"""`survey-app backup`, `restore` and `purge`: looking after the data over time."""

from __future__ import annotations

from pathlib import Path

import click

from .. import migrate
from ..config import ConfigError
from ..intake.release import pending, release_all, release_if_due
from ..keys.key_backup import KeyBackupError, keys_path, restore_keys, save_keys
from ..operations import backup as backups
from ..operations.erasure import flush_deleted
from ..operations.retention import purge as purge_expired
from ..operations.traffic import stored_counts
from ..staff import audit
from . import Context, friendly_errors, in_operator_language, operator, pass_context


def register(main: click.Group) -> None:
    for command in (backup, restore, purge, release, traffic):
        main.add_command(command)


@click.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@pass_context
@friendly_errors(backups.BackupError, ConfigError)
def backup(ctx: Context, path: Path | None) -> None:
    """Write a consistent copy of the database to PATH (default: instance/backups/).

    Responses in it stay sealed and private keys stay wrapped; the file is readable by its
    owner only. Give a folder to get a dated file name in it.
    """
    database = ctx.database
    if path is None:
        path = backups.default_path(ctx.settings.instance_path, database)
    elif path.is_dir():
        path = path / backups.default_path(path, database).name
    backups.backup(database, path)
    keys = save_keys(ctx.settings, path)
    with database.session() as session:
        audit.record(session, operator.actor(), "backup", None, f"backup written to {path}")
    click.echo(f"backup written to {path} ({path.stat().st_size:,} bytes)")
    click.echo(
        f"keys kept outside the database written to {keys}: keep it safe, apart from the "
        "backup if you can; a restore without it voids printed code cards"
    )


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@pass_context
@friendly_errors(backups.BackupError, ConfigError)
def restore(ctx: Context, path: Path, force: bool) -> None:
    """Bring back the backup in PATH, replacing the database's contents.

    The keys saved beside it (PATH.keys) come back too, so printed code cards keep working.
    """
    database = ctx.database_to_set_up()
    backups.restore(database, path, force=force)
    try:
        keys = restore_keys(ctx.settings, path)
    except KeyBackupError as error:
        raise click.ClickException(in_operator_language(error)) from None
    if keys is None:
        click.echo(
            f"no {keys_path(path).name} beside the backup: the keys in this instance stay; "
            "codes printed before the backup open only with the code key of that time",
            err=True,
        )
    else:
        for name in keys.written:
            click.echo(f"{name} restored from {keys_path(path).name}")
        for name in keys.differ:
            click.echo(
                f"security.{name} is set in the configuration and differs from the backup's; "
                f"set it to the value in {keys_path(path)}",
                err=True,
            )
    with database.session() as session:
        audit.record(session, operator.actor(), "restore", None, f"restored from {path}")
    revision = migrate.current_revision(database)
    click.echo(f"restored {path}; database at revision {revision}")
    if not migrate.is_up_to_date(database):
        click.echo("the backup is from an older version: run `survey-app db upgrade`", err=True)


@click.command()
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000))
@pass_context
def purge(ctx: Context, dry_run: bool, batch_size: int) -> None:
    """Delete responses past each programme's retention period, and expired drafts.

    Run it daily (see README, "Retention"). Deleted rows are overwritten on SQLite.
    """
    database = ctx.require_current_schema()
    if not dry_run:
        with database.session() as session:
            moved = release_if_due(session)
        if moved:
            click.echo(f"{moved} responses released from the inbox")
    report = purge_expired(database, actor=operator.actor(), dry_run=dry_run, batch_size=batch_size)
    verb = "would be removed" if dry_run else "removed"
    for item in report.surveys:
        click.echo(
            f"{item.programme} / {item.survey_id}: {item.responses} responses {verb} "
            f"(periods up to {item.through_period})"
        )
    if not report.surveys:
        click.echo("no responses are past their programme's retention period")
    click.echo(f"{report.drafts} expired drafts {verb}")
    for period in sorted(set(report.unreadable_periods)):
        click.echo(f"period {period!r} cannot be read, so its responses are kept", err=True)
    if not dry_run and (report.responses or report.drafts):
        flush_deleted(database, "responses", "drafts")


@click.command()
@click.option(
    "--now",
    "right_now",
    is_flag=True,
    help="Release everything waiting, even mid-day (cuts the day into two batches).",
)
@pass_context
def release(ctx: Context, right_now: bool) -> None:
    """Move responses waiting in the inbox into the response table, in random order.

    This happens by itself when someone starts a survey on a new day (UTC); run it daily (or
    let `survey-app purge` do it) so a quiet survey's responses do not wait. See README,
    "What is kept".
    """
    database = ctx.require_current_schema()
    with database.session() as session:
        moved = release_all(session) if right_now else release_if_due(session)
        waiting = pending(session)
    click.echo(f"{moved} responses released; {waiting} waiting for the next release")


@click.command()
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 3660))
@pass_context
def traffic(ctx: Context, days: int) -> None:
    """Respondent requests per day, route and status (they are counted, never logged).

    A server adds its counts for a day when the day ends or when it stops; the counts of the
    day in progress are in its memory until then.
    """
    database = ctx.require_current_schema()
    rows = stored_counts(database, days)
    if not rows:
        click.echo("no respondent request counts stored yet")
        return
    click.echo("day\troute\tstatus\tcount")
    for row in rows:
        click.echo(f"{row.day}\t{row.route}\t{row.status}\t{row.count}")
