"""`survey-app doctor`: check a deployment and say what to fix."""

from __future__ import annotations

import click
from sqlalchemy.exc import OperationalError

from ..db import Database
from ..operations import doctor as checks
from . import Context, no_database_message, pass_context


def register(main: click.Group) -> None:
    main.add_command(doctor)


@click.command()
@click.option("--quiet", "-q", is_flag=True, help="Print only what needs fixing.")
@pass_context
def doctor(ctx: Context, quiet: bool) -> None:
    """Check this deployment: file modes, settings, secrets, the database and every programme.

    Prints one line per check and, for each problem, the fix. Exits with status 1 if anything
    must be fixed; warnings alone leave it at 0. Changes nothing.
    """
    settings = ctx.settings
    findings: list[checks.Finding] = []
    database: Database | None = None
    missing = settings.missing_database_file()
    if missing is not None:
        findings.append(
            checks.Finding("database", checks.Status.FAIL, no_database_message(settings, missing))
        )
    else:
        database = ctx.database
        try:
            database.engine.connect().close()
        except OperationalError as error:
            reason = str(error.orig).strip().splitlines()[0]
            findings.append(
                checks.Finding("database", checks.Status.FAIL, f"cannot connect: {reason}")
            )
            database = None
    findings += checks.run_checks(settings, database)
    for finding in findings:
        if quiet and finding.status is checks.Status.OK:
            continue
        click.echo(f"{finding.status.value:<4}  {finding.check}: {finding.message}")
        if finding.fix:
            click.echo(f"      fix: {finding.fix}")
    failed = sum(finding.status is checks.Status.FAIL for finding in findings)
    warned = sum(finding.status is checks.Status.WARN for finding in findings)
    click.echo(f"{failed} to fix, {warned} to consider, {len(findings) - failed - warned} fine")
    if failed:
        raise SystemExit(1)
