"""The demo's one-time secrets, kept in a file of the instance folder until someone deletes it.

The demo prints its key passphrase and admin password once; a lost terminal must not lock a
newcomer out, so they are also written to ``instance/demo-secrets.txt`` (owner only). A real
deployment must never run with that file beside its database: production serving refuses to.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..messages import N_, DomainError

FILE_NAME = "demo-secrets.txt"


class DemoSecretsPresent(DomainError):
    """Production serving was asked for while the demo's secrets lie in the instance folder."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            N_(
                "%(path)s exists: it holds a demo's key passphrase and admin password in the "
                "clear. This instance was set up by `survey-app demo`; a real deployment needs "
                "its own instance folder (see README, 'Running it for real'). If you mean to "
                "keep this one, write the secrets down, delete the file, and start again."
            ),
            path=str(path),
        )
        self.path = path


def path_in(instance_path: Path) -> Path:
    return instance_path / FILE_NAME


def write(instance_path: Path, lines: Sequence[str]) -> Path:
    """Write the secrets readable by their owner only (0600, whatever the umask)."""
    path = path_in(instance_path)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("Demo secrets of this instance. Write them down, then delete this file.\n")
        handle.writelines(f"{line}\n" for line in lines)
    return path


def refuse_if_present(instance_path: Path) -> None:
    path = path_in(instance_path)
    if path.exists():
        raise DemoSecretsPresent(path.resolve())


def boxed(lines: Sequence[str], saved_in: Path) -> str:
    """The secrets in a box that stands out from the output above it."""
    body = [
        "WRITE THESE DOWN: they are shown only this once.",
        "",
        *(f"  {line}" for line in lines),
        "",
        f"Also saved (readable by you only) in {saved_in}",
        "Delete that file once the secrets are somewhere safe.",
    ]
    width = max(len(line) for line in body)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *(f"| {line.ljust(width)} |" for line in body), rule])
