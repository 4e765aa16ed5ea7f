"""`survey-app report`: read sealed responses back with a programme's key, publish reports.

`survey-app report SURVEY_ID` prints plain answer counts (`report counts`); the other commands
refresh the published report, download it, or export redacted microdata for analysts.
"""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click

from ..definitions import Survey as Definition
from ..definitions import load_directory
from ..intake.responses import SurveyNotAssigned
from ..keys import custody, sealing
from ..messages import N_
from ..reports import audited, exports, formats
from ..reports import refresh as refreshing
from ..reports.redaction import Redactor
from . import Context, friendly_errors, operator, pass_context, refused

REPORT_ERRORS = (
    *refreshing.refresh_errors(),
    audited.NoSnapshot,
    exports.UnknownView,
    formats.UnknownFormat,
)


def register(main: click.Group) -> None:
    main.add_command(report)


class _CountsByDefault(click.Group):
    """A group whose first argument, when it names no command, is a survey to count."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["counts", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_CountsByDefault)
def report() -> None:
    """Answer counts, published reports and analyst exports.

    `survey-app report SURVEY_ID` is short for `survey-app report counts SURVEY_ID`.
    """


@report.command("counts")
@click.argument("survey_id")
@operator.key_file_option("The programme's key file, if its private key is kept off the server.")
@operator.passphrase_file_option()
@pass_context
@friendly_errors(custody.CustodyError, sealing.SealingError, SurveyNotAssigned)
def counts(
    ctx: Context, survey_id: str, key_file: Path | None, passphrase_file: Path | None
) -> None:
    """Print answer counts per question of SURVEY_ID, opened with the programme's key."""
    database = ctx.require_current_schema()
    survey = load_directory(ctx.settings.surveys_dir).surveys.get(survey_id)
    if survey is None:
        raise refused(
            N_("no valid survey '%(survey)s' in %(folder)s; see `survey-app surveys check`"),
            survey=survey_id,
            folder=str(ctx.settings.surveys_dir),
        )
    read = audited.answer_counts(
        database,
        survey,
        operator.passphrase(passphrase_file),
        operator.key_file_text(key_file),
        actor=operator.actor(),
    )
    counts, missing = read.counts, read.not_unlocked
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


def _current(ctx: Context, survey_id: str) -> Definition:
    catalogue = load_directory(ctx.settings.surveys_dir).surveys
    with ctx.database.session() as session:
        return refreshing.current_definition(session, survey_id, catalogue)


class _ProgressBar:
    """The refresh's progress, as a bar on the terminal."""

    def __init__(self, stack: ExitStack) -> None:
        self.stack = stack
        self.bar: Any = None

    def start(self, total: int) -> None:
        bar = click.progressbar(length=total, label="Opening responses", file=sys.stderr)
        self.bar = self.stack.enter_context(bar)

    def advance(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)


@report.command("refresh")
@click.argument("survey_id")
@operator.key_file_option("The programme's key file, if its private key is kept off the server.")
@operator.passphrase_file_option()
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Processes that open responses (default: one per CPU core).",
)
@click.option(
    "--breakdown",
    "breakdowns",
    multiple=True,
    metavar="DIMENSION",
    help="Show this breakdown with every question on the report page: site, round, channel or "
    "a disaggregation question's id; at most two (repeat the option). The others stay on the "
    "breakdowns pages.",
)
@pass_context
@friendly_errors(*REPORT_ERRORS)
def refresh(
    ctx: Context,
    survey_id: str,
    key_file: Path | None,
    passphrase_file: Path | None,
    workers: int | None,
    breakdowns: tuple[str, ...],
) -> None:
    """Open every response of SURVEY_ID and publish its report for viewers."""
    database = ctx.require_current_schema()
    current = _current(ctx, survey_id)
    file_text = operator.key_file_text(key_file)
    secret = operator.passphrase(passphrase_file)
    with ExitStack() as stack:
        outcome = refreshing.refresh(
            database,
            current,
            ctx.settings.reports.threshold,
            secret,
            actor=operator.actor(),
            key_file_text=file_text,
            workers=workers,
            progress=_ProgressBar(stack),
            breakdowns=breakdowns,
        )
    unreadable = sum(outcome.unreadable.values())
    click.echo(
        f"{survey_id}: report published (snapshot {outcome.snapshot_id}) from "
        f"{outcome.responses} responses, threshold {outcome.threshold}"
    )
    if outcome.waiting:
        open_rounds = ", ".join(outcome.open_rounds) or "none"
        click.echo(
            f"{outcome.waiting} responses wait for their round to close and be published "
            f"(open round: {open_rounds})"
        )
    if unreadable:
        reasons = ", ".join(f"{count} {reason}" for reason, count in outcome.unreadable.items())
        click.echo(f"{unreadable} responses could not be opened ({reasons})", err=True)
        for key_id, why, count in outcome.not_unlocked:
            click.echo(f"  {count} sealed to key {key_id} ({why})", err=True)


class _RegisteredFormat(click.Choice[str]):
    """A choice among the formats registered when the command runs (see reports.formats)."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(formats.FORMATS)

    @choices.setter
    def choices(self, _value: object) -> None:
        pass


@report.command("export")
@click.argument("survey_id")
@click.option(
    "--format",
    "fmt",
    type=_RegisteredFormat(),
    default="csv",
    show_default=True,
    help="One of the formats of the report page's downloads.",
)
@click.option(
    "--view",
    default="all",
    show_default=True,
    help="A filter of the published report, such as site=North or round=2026-Q3.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
@pass_context
@friendly_errors(*REPORT_ERRORS)
def export(ctx: Context, survey_id: str, fmt: str, view: str, output: Path) -> None:
    """Write the published report of SURVEY_ID as CSV, XLSX, JSON or another format of the
    report page's downloads (no key needed)."""
    database = ctx.require_current_schema()
    download = audited.download(database, survey_id, fmt, actor=operator.actor(), view_id=view)
    output.write_bytes(download.content)
    click.echo(f"wrote {output} ({len(download.content)} bytes)")


@report.command("microdata")
@click.argument("survey_id")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
@operator.key_file_option("The programme's key file, if its private key is kept off the server.")
@operator.passphrase_file_option()
@pass_context
@friendly_errors(*REPORT_ERRORS)
def microdata(
    ctx: Context,
    survey_id: str,
    output: Path,
    key_file: Path | None,
    passphrase_file: Path | None,
) -> None:
    """Write every response of SURVEY_ID as CSV for analysis: free text redacted, rare
    combinations of site and disaggregation answers merged or withheld."""
    database = ctx.require_current_schema()
    current = _current(ctx, survey_id)
    file_text = operator.key_file_text(key_file)
    secret = operator.passphrase(passphrase_file)
    result = audited.microdata(
        database,
        current,
        ctx.settings.reports.threshold,
        secret,
        actor=operator.actor(),
        redactor=Redactor(
            ctx.settings.reports.redact_names, ctx.settings.reports.phone_region or None
        ),
        key_file_text=file_text,
    )
    _write_private(output, result.text.encode("utf-8-sig"))
    click.echo(f"wrote {output}: {result.rows} rows, {result.withheld} withheld")
    for change in result.changes:
        click.echo(f"  {change}")
    if result.unreadable:
        click.echo(f"{result.unreadable} responses could not be opened", err=True)


def _write_private(path: Path, content: bytes) -> None:
    """Microdata is readable by its owner only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
