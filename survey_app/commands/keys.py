"""`survey-app keys`: each programme's key ring."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..intake.responses import current_key
from ..keys import custody, sealing
from ..keys.custody import add_key
from ..messages import N_
from ..models import KeyStatus, Programme, ProgrammeKey
from ..operations.erasure import flush_deleted
from . import Context, friendly_errors, operator, pass_context, refused

# `add_key` is part of this module's interface: the demo and the tests install keys with it.
__all__ = ["add_key", "keys", "register"]

KEY_ERRORS = (custody.CustodyError, sealing.SealingError)


def register(main: click.Group) -> None:
    main.add_command(keys)


@click.group()
def keys() -> None:
    """Key rings: responses are sealed to a programme's current public key."""


@keys.command("create")
@click.argument("programme")
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the private key only in this passphrase-protected file, off the server.",
)
@operator.passphrase_file_option()
@pass_context
@friendly_errors(*KEY_ERRORS)
def create(
    ctx: Context, programme: str, key_file: Path | None, passphrase_file: Path | None
) -> None:
    """Create PROGRAMME's first key pair, or a new one (the old one is retired, still readable)."""
    database = ctx.require_current_schema()
    with database.session() as session:
        found = custody.find_programme(session, programme)
        if key_file is not None and key_file.exists():
            raise custody.KeyFileExists(key_file)
        row = custody.create_key(
            session,
            found,
            operator.new_passphrase(passphrase_file),
            actor=operator.actor(),
            key_file=key_file,
        )
    where = f"in {key_file} only" if key_file else "on the server, wrapped by the passphrase"
    click.echo(f"key {row.key_id} is now {programme}'s current key; private key kept {where}")


def _custody_label(key: ProgrammeKey) -> str:
    if key.status is KeyStatus.DESTROYED:
        return "destroyed"
    return "server (wrapped)" if key.wrapped_private_key else "off-server key file"


@keys.command("list")
@click.argument("programme")
@pass_context
@friendly_errors(*KEY_ERRORS)
def list_keys(ctx: Context, programme: str) -> None:
    """List PROGRAMME's keys and how many responses each seals."""
    with ctx.require_current_schema().session() as session:
        found = custody.find_programme(session, programme)
        counts = custody.response_counts(session, found.id)
        for key in custody.ring(session, found.id):
            click.echo(
                f"{key.key_id}\t{key.status.value}\t{_custody_label(key)}\t"
                f"{counts.get(key.key_id, 0)} responses\tcreated {key.created_at:%Y-%m-%d}"
            )


@keys.command("rotate")
@click.argument("programme")
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the new private key only in this passphrase-protected file, off the server.",
)
@operator.passphrase_file_option()
@pass_context
@friendly_errors(*KEY_ERRORS)
def rotate(
    ctx: Context, programme: str, key_file: Path | None, passphrase_file: Path | None
) -> None:
    """Seal new responses to a new key pair; the old key is retired and stays readable.

    When the server holds the current private key, give the ring's passphrase: the new key is
    wrapped with it too.
    """
    database = ctx.require_current_schema()
    with database.session() as session:
        found = custody.find_programme(session, programme)
        previous = current_key(session, found.id)
        if previous is None:
            raise custody.NoKeyToRotate(programme)
        if key_file is not None and key_file.exists():
            raise custody.KeyFileExists(key_file)
        if custody.holds_private_key(previous):
            secret = operator.passphrase(passphrase_file, f"Passphrase of {programme}'s keys")
        else:
            secret = operator.new_passphrase(passphrase_file)
        with custody.refusal_recorded(
            database, found.id, actor=operator.actor(), purpose="keys rotate"
        ):
            rotation = custody.rotate(
                session, found, secret, actor=operator.actor(), key_file=key_file
            )
    click.echo(
        f"key {rotation.new_key_id} is now {programme}'s current key; "
        f"key {rotation.retired_key_id} is retired and still opens the responses sealed to it"
    )


@keys.command("change-passphrase")
@click.argument("programme")
@operator.key_file_option("Also rewrap the private key in this off-server key file, in place.")
@operator.passphrase_file_option(purpose="the current passphrase")
@operator.passphrase_file_option("--new-passphrase-file", purpose="the new passphrase")
@pass_context
@friendly_errors(*KEY_ERRORS)
def change_passphrase(
    ctx: Context,
    programme: str,
    key_file: Path | None,
    passphrase_file: Path | None,
    new_passphrase_file: Path | None,
) -> None:
    """Rewrap every key of PROGRAMME that the current passphrase opens under a new one."""
    file_text = operator.key_file_text(key_file)
    database = ctx.require_current_schema()
    with database.session() as session:
        found = custody.find_programme(session, programme)
        old = operator.passphrase(passphrase_file, "Current passphrase")
        new = operator.new_passphrase(new_passphrase_file)
        with custody.refusal_recorded(
            database, found.id, actor=operator.actor(), purpose="keys change-passphrase"
        ):
            change = custody.change_passphrase(
                session, found, old, new, actor=operator.actor(), key_file_text=file_text
            )
        if key_file is not None and change.key_file_text is not None:
            # Inside the transaction: if the file cannot be replaced, the ring is not changed.
            operator.replace_key_file(key_file, change.key_file_text)
    click.echo(f"rewrapped under the new passphrase: {', '.join(change.rewrapped)}")
    if change.untouched:
        click.echo(
            f"not opened by the current passphrase, left as they were: {', '.join(change.untouched)}",
            err=True,
        )


@keys.command("export-public")
@click.argument("programme")
@click.option("--key-id", help="Export this key instead of the current one.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the PEM to this file instead of standard output.",
)
@pass_context
@friendly_errors(*KEY_ERRORS)
def export_public(ctx: Context, programme: str, key_id: str | None, output: Path | None) -> None:
    """Print PROGRAMME's current public key (PEM), e.g. to seal responses collected elsewhere."""
    with ctx.require_current_schema().session() as session:
        pem = custody.export_public(session, custody.find_programme(session, programme), key_id)
    if output is None:
        click.echo(pem, nl=False)
        return
    output.write_text(pem, encoding="ascii")
    click.echo(f"public key written to {output}", err=True)


def _programme_of(ctx: Context, slug: str) -> Programme:
    with ctx.require_current_schema().session() as session:
        return custody.find_programme(session, slug)


@keys.command("verify")
@click.argument("programme")
@operator.key_file_option("The programme's key file, if its private key is kept off the server.")
@operator.passphrase_file_option()
@click.option("--sample", default=20, show_default=True, type=click.IntRange(1))
@pass_context
@friendly_errors(*KEY_ERRORS)
def verify(
    ctx: Context,
    programme: str,
    key_file: Path | None,
    passphrase_file: Path | None,
    sample: int,
) -> None:
    """Unlock PROGRAMME's keys and open a random sample of the responses sealed to each."""
    file_text = operator.key_file_text(key_file)
    database = ctx.require_current_schema()
    found = _programme_of(ctx, programme)
    secret = operator.passphrase(passphrase_file)
    checks = custody.verify_ring(
        database, found, secret, file_text, actor=operator.actor(), sample_size=sample
    )
    for check in checks:
        if check.status is KeyStatus.DESTROYED:
            state = "destroyed: its responses cannot be opened"
        elif not check.unlocked:
            state = "NOT UNLOCKED: the passphrase (or key file) does not open it"
        else:
            state = f"sampled {check.sampled}: {check.opened} ok, {len(check.failures)} failed"
        click.echo(f"{check.key_id}\t{check.status.value}\t{check.responses} responses\t{state}")
        for failure in check.failures:
            click.echo(f"  {failure}", err=True)
    if not all(check.healthy for check in checks):
        sys.exit(1)


@keys.command("destroy")
@click.argument("key_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_context
@friendly_errors(*KEY_ERRORS)
def destroy(ctx: Context, key_id: str, yes: bool) -> None:
    """Destroy retired key KEY_ID: whatever is still sealed to it becomes unreadable forever."""
    database = ctx.require_current_schema()
    with database.session() as session:
        key = session.get(ProgrammeKey, key_id.strip().lower())
        if key is None:
            raise refused(
                N_("there is no key '%(key)s'; see `survey-app keys list PROGRAMME`"), key=key_id
            )
        found = key.programme
        impact = custody.destruction_impact(session, found, key.key_id)
        if not yes:
            total = sum(impact.values())
            parts = ", ".join(f"{survey}: {count}" for survey, count in impact.items())
            surveys = f" ({parts})" if parts else ""
            click.echo(
                f"Destroying key {key.key_id} of programme {found.slug} makes "
                f"{total} response{'s' if total != 1 else ''}{surveys} unreadable forever. "
                "Nobody, including you, will be able to open them again.",
                err=True,
            )
            if impact:
                click.echo(
                    f"To keep them, run `survey-app keys reseal {found.slug}` first.", err=True
                )
            click.confirm("Destroy the key?", abort=True, err=True)
        destruction = custody.destroy(session, found, key.key_id, actor=operator.actor())
    flush_deleted(database, "programme_keys", rewrite=True)
    click.echo(
        f"key {destruction.key_id} destroyed; {custody.describe_impact(destruction.unreadable)}"
    )
    if destruction.was_off_server:
        click.echo("Delete every copy of its key file too.", err=True)
    click.echo(
        "Backups made before now still hold the key, wrapped by the passphrase it had then: "
        "delete them, or they can still be read.",
        err=True,
    )


@keys.command("reseal")
@click.argument("programme")
@operator.key_file_option(
    "The key file of an older key kept off the server, to move its responses."
)
@operator.passphrase_file_option()
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000))
@pass_context
@friendly_errors(*KEY_ERRORS)
def reseal(
    ctx: Context,
    programme: str,
    key_file: Path | None,
    passphrase_file: Path | None,
    batch_size: int,
) -> None:
    """Move responses sealed to PROGRAMME's older keys onto its current key.

    Safe to interrupt: each batch is its own transaction, every row stays readable by its old
    key or the new one, and running it again carries on.
    """
    database = ctx.require_current_schema()
    file_text = operator.key_file_text(key_file)
    found = _programme_of(ctx, programme)
    with database.session() as session:
        unlocked = custody.unlock_audited(
            database,
            session,
            found.id,
            operator.passphrase(passphrase_file),
            file_text,
            actor=operator.actor(),
            purpose="keys reseal",
        )
    with unlocked:
        progress = custody.reseal(
            database,
            found.id,
            unlocked,
            actor=operator.actor(),
            batch_size=batch_size,
            after_batch=lambda p: click.echo(f"  {p.moved} responses moved so far", err=True),
        )
    click.echo(f"{progress.moved} responses moved to key {progress.target_key_id}")
    for failure in progress.unreadable:
        click.echo(f"  could not be opened, left as it was: {failure}", err=True)
    for key_id, count in sorted(progress.left_on.items()):
        click.echo(f"key {key_id} still seals {count} responses", err=True)
    if progress.unreadable:
        sys.exit(1)
