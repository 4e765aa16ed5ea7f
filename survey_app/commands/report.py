"""`survey-app report`: read sealed responses back with a programme's key."""

from __future__ import annotations

from pathlib import Path

import click

from .. import sealing
from ..definitions import load_directory
from ..models import Survey
from ..reports.counts import count_answers
from ..responses import open_responses, wrapped_keys
from . import Context, friendly_errors, pass_context


def register(main: click.Group) -> None:
    main.add_command(report)


def unlock(wrapped: list[sealing.WrappedKey], key_file: Path | None) -> sealing.UnlockedKeys:
    """Prompt for the passphrase and unlock the ring (plus an off-server key file if given)."""
    if key_file is not None:
        try:
            wrapped = [*wrapped, sealing.read_key_file(key_file.read_text(encoding="utf-8"))]
        except OSError as error:
            raise click.ClickException(
                f"cannot read key file {key_file}: {error.strerror}"
            ) from None
    if not wrapped:
        raise click.ClickException(
            "this programme has no private key on the server; pass --key-file with its key file"
        )
    passphrase = click.prompt("Passphrase", hide_input=True, err=True)
    return sealing.UnlockedKeys.unlock(wrapped, passphrase)


@click.command()
@click.argument("survey_id")
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The programme's key file, if its private key is kept off the server.",
)
@pass_context
@friendly_errors(sealing.SealingError)
def report(ctx: Context, survey_id: str, key_file: Path | None) -> None:
    """Print answer counts per question of SURVEY_ID, opened with the programme's key."""
    database = ctx.require_current_schema()
    survey = load_directory(ctx.settings.surveys_dir).surveys.get(survey_id)
    if survey is None:
        raise click.ClickException(
            f"no valid survey {survey_id!r} in {ctx.settings.surveys_dir}; see `survey-app surveys check`"
        )
    with database.session() as session:
        assigned = session.get(Survey, survey_id)
        if assigned is None:
            raise click.ClickException(
                f"survey {survey_id!r} has no responses and no programme yet"
            )
        with unlock(wrapped_keys(session, assigned.programme_id), key_file) as keys:
            counts = count_answers(survey, open_responses(session, survey_id, keys))
    click.echo(f"{survey_id}: {counts.responses} responses")
    if counts.unreadable:
        click.echo(f"{len(counts.unreadable)} responses could not be opened:", err=True)
        for item in counts.unreadable:
            click.echo(
                f"  {item.response_id} (version {item.survey_version}): {item.reason}", err=True
            )
    for question in survey.questions():
        if question.id not in counts.by_question:
            continue
        click.echo(f"\n{question.id}: {survey.text(question.label, survey.default_language)}")
        for answer, number in sorted(counts.by_question[question.id].items()):
            click.echo(f"  {answer}: {number}")
