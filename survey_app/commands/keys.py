"""`survey-app keys`: each programme's key ring."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import sealing
from ..models import KeyStatus, Programme, ProgrammeKey, Response
from ..responses import current_key
from . import Context, friendly_errors, pass_context


def register(main: click.Group) -> None:
    main.add_command(keys)


def prompt_new_passphrase() -> str:
    return str(
        click.prompt(
            "New passphrase (12 characters or more)",
            hide_input=True,
            confirmation_prompt="Repeat the passphrase",
        )
    )


def find_programme(session: Session, slug: str) -> Programme:
    programme = session.scalar(select(Programme).where(Programme.slug == slug))
    if programme is None:
        raise click.ClickException(f"no programme {slug!r}; see `survey-app programmes list`")
    return programme


def add_key(
    session: Session, programme: Programme, wrapped: sealing.WrappedKey, *, keep_private: bool
) -> ProgrammeKey:
    previous = current_key(session, programme.id)
    if previous is not None:
        previous.status = KeyStatus.RETIRED
    row = ProgrammeKey(
        key_id=wrapped.key_id,
        programme_id=programme.id,
        public_key=wrapped.public_raw,
        wrapped_private_key=wrapped.wrapped_private if keep_private else None,
        status=KeyStatus.CURRENT,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return row


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
@pass_context
@friendly_errors(sealing.SealingError)
def create(ctx: Context, programme: str, key_file: Path | None) -> None:
    """Create PROGRAMME's first key pair, or a new one (the old one is retired, still readable)."""
    database = ctx.require_current_schema()
    with database.session() as session:
        found = find_programme(session, programme)
        if key_file is not None and key_file.exists():
            raise click.ClickException(f"{key_file} already exists; choose another file name")
        wrapped = sealing.generate_key(prompt_new_passphrase())
        if key_file is not None:
            key_file.write_text(sealing.write_key_file(wrapped), encoding="utf-8")
            key_file.chmod(0o600)
        add_key(session, found, wrapped, keep_private=key_file is None)
    where = f"in {key_file} only" if key_file else "on the server, wrapped by the passphrase"
    click.echo(f"key {wrapped.key_id} is now {programme}'s current key; private key kept {where}")


@keys.command("list")
@click.argument("programme")
@pass_context
def list_keys(ctx: Context, programme: str) -> None:
    """List PROGRAMME's keys and how many responses each seals."""
    with ctx.require_current_schema().session() as session:
        found = find_programme(session, programme)
        counts = dict(
            session.execute(
                select(Response.key_id, func.count()).group_by(Response.key_id)
            ).tuples()
        )
        for key in session.scalars(
            select(ProgrammeKey)
            .where(ProgrammeKey.programme_id == found.id)
            .order_by(ProgrammeKey.created_at)
        ):
            custody = "server (wrapped)" if key.wrapped_private_key else "off-server key file"
            click.echo(
                f"{key.key_id}\t{key.status.value}\t{custody}\t"
                f"{counts.get(key.key_id, 0)} responses\tcreated {key.created_at:%Y-%m-%d}"
            )
