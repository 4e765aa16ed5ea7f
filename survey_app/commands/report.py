"""`survey-app report`: read sealed responses back with a programme's key."""

from __future__ import annotations

from pathlib import Path

import click

from .. import audit, custody, sealing
from ..definitions import load_directory
from ..models import Survey
from ..reports.counts import count_answers
from ..responses import open_responses
from . import Context, friendly_errors, operator, pass_context


def register(main: click.Group) -> None:
    main.add_command(report)


@click.command()
@click.argument("survey_id")
@operator.key_file_option("The programme's key file, if its private key is kept off the server.")
@operator.passphrase_file_option()
@pass_context
@friendly_errors(custody.CustodyError, sealing.SealingError)
def report(
    ctx: Context, survey_id: str, key_file: Path | None, passphrase_file: Path | None
) -> None:
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
        file_text = operator.key_file_text(key_file)
        secret = operator.passphrase(passphrase_file)
        with custody.unlock_programme(session, assigned.programme_id, secret, file_text) as keys:
            counts = count_answers(survey, open_responses(session, survey_id, keys))
            missing = custody.keys_not_unlocked(session, survey_id, keys)
        audit.record(
            session,
            operator.actor(),
            "key.unlock",
            assigned.programme_id,
            f"report on {survey_id}: {counts.responses} opened, {len(counts.unreadable)} not",
        )
    click.echo(f"{survey_id}: {counts.responses} responses")
    if counts.unreadable:
        click.echo(f"{len(counts.unreadable)} responses could not be opened:", err=True)
        for key_id, status, count in missing:
            click.echo(f"  {count} sealed to key {key_id} ({status})", err=True)
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
