"""`survey-app surveys`: check, import and assign survey definitions."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from ..definitions import load_directory
from ..definitions.xlsform import XLSFormError, convert_xlsform, write_import
from ..intake.help_contacts import HelpFileError, read_help_file
from ..messages import N_
from ..models import Programme
from ..staff import audit, programme_admin
from . import Context, friendly_errors, operator, pass_context, refused


def register(main: click.Group) -> None:
    main.add_command(surveys)


@click.group()
def surveys() -> None:
    """Survey definitions in the surveys folder."""


@surveys.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Fail on warnings too (e.g. missing translations).")
@pass_context
def check(ctx: Context, directory: Path | None, strict: bool) -> None:
    """Validate every survey file; print one line per error and per warning.

    Errors stop a survey from being served; warnings do not (a missing translation is shown
    in the survey's default language), unless --strict is given.
    """
    folder = directory or ctx.settings.surveys_dir
    loaded = load_directory(folder)
    errors = [problem for problem in loaded.problems if not problem.warning]
    warnings = [p for p in loaded.problems if p.warning] + loaded.warnings
    for problem in [*errors, *warnings]:
        click.echo(str(problem), err=True)
    for survey_id, survey in sorted(loaded.surveys.items()):
        click.echo(f"ok  {survey_id} version {survey.version} ({', '.join(survey.language_codes)})")
    for warning in _help_warnings(ctx):
        click.echo(f"warning: {warning}", err=True)
    counted = f"{len(errors)} error(s) and {len(warnings)} warning(s) in {folder}"
    if errors or (strict and warnings):
        raise click.ClickException(counted + (" (--strict: warnings fail)" if not errors else ""))
    if warnings:
        click.echo(counted, err=True)


def _help_warnings(ctx: Context) -> list[str]:
    """Programmes whose respondents would see no help contacts of the programme's own.

    Only when the database is there and current: checking survey files needs no database."""
    settings = ctx.settings
    if settings.missing_database_file() is not None:
        return []
    try:
        database = ctx.require_current_schema()
    except click.ClickException:
        return []
    try:
        default = read_help_file(settings.respondent.default_help_file)
    except HelpFileError as error:
        return [f"respondent.default_help_file: {error}"]
    with database.session() as session:
        without = [p.slug for p in session.scalars(select(Programme)) if not p.help_contacts]
    fallback = (
        "respondents see the default from respondent.default_help_file"
        if default
        else "and respondent.default_help_file names no default: respondents see no one to call"
    )
    return [
        f"programme {slug} has no help contacts ({fallback}); "
        f"add them on its admin page or with `survey-app programmes set-help {slug} FILE`"
        for slug in sorted(without)
    ]


@surveys.command("import")
@click.argument("form", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id", "survey_id", help="Survey id to use instead of the form's form_id.")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the TOML file (default: the surveys folder).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing survey file.")
@click.option(
    "--files",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder holding the files of choices the form names (select_one_from_file, "
    "search()); default: the form's folder.",
)
@pass_context
@friendly_errors(XLSFormError)
def import_form(
    ctx: Context,
    form: Path,
    survey_id: str | None,
    output_dir: Path | None,
    force: bool,
    files: Path | None,
) -> None:
    """Convert an XLSForm FORM.xlsx into a survey file.

    Options kept in CSV or XML files next to the form are copied into the survey file.
    """
    result = convert_xlsform(form, survey_id=survey_id, files=files)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    path = write_import(result, output_dir or ctx.settings.surveys_dir, overwrite=force)
    click.echo(f"wrote {path}; check it with `survey-app surveys check`")


@surveys.command("assign")
@click.argument("survey_id")
@click.argument("programme")
@pass_context
@friendly_errors(programme_admin.ProgrammeAdminError)
def assign(ctx: Context, survey_id: str, programme: str) -> None:
    """Give SURVEY_ID to PROGRAMME: its responses are sealed to that programme's key."""
    if survey_id not in load_directory(ctx.settings.surveys_dir).surveys:
        raise refused(
            N_("no valid survey '%(survey)s'; see `survey-app surveys check`"), survey=survey_id
        )
    with ctx.require_current_schema().session() as session:
        found = programme_admin.find_programme(session, programme)
        programme_admin.assign_survey(session, audit.Actor(operator.actor()), found, survey_id)
    click.echo(f"survey {survey_id} belongs to programme {programme}")
