"""What the person at the terminal supplies: passphrases, key files, and their name for the audit."""

from __future__ import annotations

import getpass
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..messages import N_
from . import refused

F = TypeVar("F", bound=Callable[..., Any])


def actor() -> str:
    """Who runs the command, as the audit log names them."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):
        # A container user without a passwd entry.
        return f"cli:uid {os.getuid()}"


def passphrase_file_option(
    name: str = "--passphrase-file", purpose: str = "the passphrase"
) -> Callable[[F], F]:
    return click.option(
        name,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help=f"Read {purpose} from this file (its first line) instead of asking; for scripts.",
    )


def key_file_option(help_text: str) -> Callable[[F], F]:
    return click.option(
        "--key-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help=help_text,
    )


def _from_file(path: Path) -> str:
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        click.echo(f"warning: {path} can be read by other users; `chmod 600 {path}`", err=True)
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0]:
        raise refused(
            N_("%(path)s is empty: its first line must be the passphrase"), path=str(path)
        )
    return lines[0]


def passphrase(path: Path | None, prompt: str = "Passphrase") -> str:
    if path is not None:
        return _from_file(path)
    return str(click.prompt(prompt, hide_input=True, err=True))


def new_passphrase(
    path: Path | None, prompt: str = "New passphrase (12 characters or more)"
) -> str:
    if path is not None:
        return _from_file(path)
    return str(
        click.prompt(prompt, hide_input=True, confirmation_prompt="Repeat the passphrase", err=True)
    )


def key_file_text(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise refused(
            N_("cannot read key file %(path)s: %(reason)s"), path=str(path), reason=str(error)
        ) from None


def replace_key_file(path: Path, text: str) -> None:
    """Write the new text beside the old file, then swap, so a crash never leaves half a key."""
    temporary = path.with_name(f".{path.name}.new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
