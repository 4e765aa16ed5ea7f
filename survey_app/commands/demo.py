"""`survey-app demo`: a ready-to-try instance on SQLite, served by waitress."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path

import click
from sqlalchemy import select

from .. import migrate
from ..config import Settings, load_settings
from ..db import Database
from ..definitions import Survey, load_directory
from ..intake.distribution import create_link
from ..keys import sealing
from ..models import DistributionLink, Programme, SurveyAssignment
from ..operations import demo_secrets
from ..operations.sample_data import store_generated
from ..reports.refresh import refresh
from ..staff.accounts import create_user
from . import Context, pass_context, run_server_or_explain, server_options, with_server
from .keys import add_key

DEMO_PROGRAMME = "demo"
DEMO_SITES = ("Central office", "Outreach")
DEMO_HELP = {
    "en": [{"name": "Support line (free, 24 hours)", "phone": "+1 555 0100", "hours": "24/7"}],
    "fr": [{"name": "Ligne d'écoute (gratuite, 24 h/24)", "phone": "+1 555 0100", "hours": "24/7"}],
    "es": [
        {"name": "Línea de apoyo (gratuita, 24 horas)", "phone": "+1 555 0100", "hours": "24/7"}
    ],
    "ar": [{"name": "خط الدعم (مجاني، على مدار الساعة)", "phone": "+1 555 0100", "hours": "24/7"}],
}


def register(main: click.Group) -> None:
    main.add_command(demo)


@click.command()
@click.option("--no-serve", is_flag=True, help="Set up the demo data, then stop.")
@click.option(
    "--sample-responses",
    default=300,
    show_default=True,
    type=click.IntRange(0, 20000),
    help="Made-up responses per survey, sealed and reported on first run, so there is a report to see.",
)
@server_options
@pass_context
def demo(
    ctx: Context, no_serve: bool, sample_responses: int, host: str | None, port: int | None
) -> None:
    """Set up demo data (first run only) and serve the app on this machine."""
    settings = ctx.settings
    if settings.environment == "production" and not settings.database.url:
        # A demo is served over plain http on this machine: cookies cannot be Secure-only.
        settings = load_settings(overrides={"environment": "development"})
    settings = with_server(settings, host=host, port=port)
    ctx._settings = settings
    if not no_serve:
        from ..operations.server import (  # the web app, imported only to serve
            ServeError,
            check_port,
        )

        # Before any set-up output, so a busy port is the one line the newcomer sees.
        try:
            check_port(settings.server.host, settings.server.port)
        except ServeError as error:
            raise click.ClickException(str(error)) from None
    database = ctx.database_to_set_up()
    migrate.upgrade(database)
    loaded = load_directory(settings.surveys_dir)
    for problem in loaded.problems:
        click.echo(f"survey not served: {problem}", err=True)
    secrets_shown: list[str] = []
    new_instance = False
    passphrase = ""
    with database.session() as session:
        programme = session.scalar(select(Programme).where(Programme.slug == DEMO_PROGRAMME))
        if programme is None:
            programme = Programme(
                slug=DEMO_PROGRAMME,
                name="Demo programme",
                public_title="Feedback",
                retention_days=730,
                help_contacts=DEMO_HELP,
            )
            session.add(programme)
            session.flush()
            passphrase = "-".join(secrets.token_hex(3) for _ in range(4))
            add_key(session, programme, sealing.generate_key(passphrase), keep_private=True)
            admin_password = secrets.token_urlsafe(12)
            create_user(session, "admin", admin_password, superadmin=True)
            secrets_shown += [
                f"key passphrase of programme 'demo': {passphrase}",
                f"admin account: admin / {admin_password}",
            ]
            new_instance = True
        for survey_id in sorted(loaded.surveys):
            if session.get(SurveyAssignment, survey_id) is None:
                session.add(SurveyAssignment(id=survey_id, programme_id=programme.id))
                session.flush()
                for site in DEMO_SITES:
                    create_link(session, programme, survey_id, site)
        links = session.scalars(
            select(DistributionLink)
            .where(DistributionLink.programme_id == programme.id)
            .order_by(DistributionLink.survey_id, DistributionLink.site)
        ).all()
        base = f"http://{settings.server.host}:{settings.server.port}"
        click.echo(f"\nStaff sign-in: {base}/auth/sign-in   (reports at {base}/reports/)")
        click.echo("\nSurvey links (open one on a phone-sized browser window):")
        for link in links:
            click.echo(f"  {base}/s/{link.token}   {link.survey_id} at {link.site}")
    if secrets_shown:
        # Kept on disk at once, so that nothing going wrong below loses them.
        saved_secrets = demo_secrets.write(settings.instance_path, secrets_shown).resolve()
    if new_instance and sample_responses:
        _publish_samples(database, loaded.surveys, sample_responses, passphrase, settings)
    if not secrets_shown:
        saved = demo_secrets.path_in(settings.instance_path)
        kept = f" and saved in {saved.resolve()}" if saved.exists() else ""
        click.echo(
            f"\nDemo data was set up earlier; its secrets were shown then{kept}. "
            f"Delete {settings.instance_path}/ to start afresh."
        )
    command = Path(sys.argv[0]).name if Path(sys.argv[0]).parent == Path() else sys.argv[0]
    example = next(iter(sorted(loaded.surveys)), "SURVEY_ID")
    click.echo(f"\nRead the answers back with: {command} report {example}")
    if not no_serve:
        click.echo(f"\nServing on {base}  (Ctrl+C to stop)")
    if secrets_shown:
        # Last, so they do not scroll away among the other lines.
        click.echo("\n" + demo_secrets.boxed(secrets_shown, saved_secrets) + "\n")
    if not no_serve:
        from ..operations.server import serve

        run_server_or_explain(serve, settings)


def _publish_samples(
    database: Database,
    surveys: Mapping[str, Survey],
    count: int,
    passphrase: str,
    settings: Settings,
) -> None:
    """Made-up responses for each survey, and a published report of them."""
    click.echo(f"\nSealing {count} made-up responses per survey and publishing their reports...")
    today = date.today()
    days = [today - timedelta(days=offset) for offset in (200, 110, 20)]
    for survey in surveys.values():
        store_generated(
            database, survey, count, sites=DEMO_SITES, days=days, period=settings.privacy.period
        )
        refresh(
            database, survey, settings.reports.threshold, passphrase, actor="cli:demo", workers=1
        )
