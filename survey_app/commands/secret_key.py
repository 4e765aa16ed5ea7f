"""`survey-app secret-key`: the key that signs session cookies, shared by every server."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click

from ..messages import N_
from ..operations.deployment import forget_secret_key
from . import Context, pass_context, refused


def register(main: click.Group) -> None:
    main.add_command(secret_key)


@click.group("secret-key")
def secret_key() -> None:
    """Make the secret key file several servers share; forget its recorded fingerprint."""


@secret_key.command("new")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def new(path: Path) -> None:
    """Write a new random secret key to PATH (mode 0600); never overwrites a file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise refused(
            N_("%(path)s exists already; a key in use is never overwritten (move it away first)"),
            path=str(path),
        ) from None
    except OSError as error:
        raise refused(
            N_("cannot create %(path)s: %(reason)s"), path=str(path), reason=error.strerror
        ) from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    click.echo(f'wrote {path}; copy it to every server and set security.secret_key_file = "{path}"')


@secret_key.command("forget")
@pass_context
def forget(ctx: Context) -> None:
    """Forget the key fingerprint recorded in the database (after replacing the key everywhere).

    The next server to start records its own key's fingerprint; servers with another key then
    refuse to start.
    """
    database = ctx.require_current_schema()
    if forget_secret_key(database):
        click.echo("forgotten; the next server to start records its key's fingerprint")
    else:
        click.echo("no fingerprint was recorded")
