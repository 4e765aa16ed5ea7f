"""The secrets kept outside the database, saved beside a backup and brought back with it.

`survey-app backup PATH` also writes ``PATH.keys`` (0600): a JSON object with the secret key
(sessions, CSRF) and the code key (the keyed hash of printed access codes). Without the code
key a restored database could not recognise a single printed code card; without the secret key
every staff session ends. Keep the ``.keys`` file apart from the database copy where you can:
together they let someone test guesses of unspent codes, which is what the code key prevents.

`survey-app restore PATH` reads ``PATH.keys`` when it is there. A key set in the configuration
(or a shared key file) is left alone and only compared; a key held in the instance folder is
written back (the one it replaces is kept as ``<name>.replaced``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..config import KEY_FILES, Settings, ensure_key, make_instance_folder
from ..messages import N_, DomainError

FORMAT = "survey-app keys v1"


class KeyBackupError(DomainError):
    """The keys file cannot be read or used; the message says why."""


@dataclass(frozen=True)
class KeyRestore:
    written: tuple[str, ...]
    same: tuple[str, ...]
    # Keys set in the configuration whose value differs from the backup's: the operator decides.
    differ: tuple[str, ...]


def keys_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".keys")


def save_keys(settings: Settings, backup: Path) -> Path:
    path = keys_path(backup)
    document = {"format": FORMAT, **{name: ensure_key(settings, name) for name in KEY_FILES}}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
    return path


def restore_keys(settings: Settings, backup: Path) -> KeyRestore | None:
    path = keys_path(backup)
    if not path.exists():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise KeyBackupError(
            N_("%(path)s cannot be read as a keys file: %(error)s"),
            path=str(path),
            error=str(error),
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise KeyBackupError(
            N_("%(path)s is not a keys file of this app (format %(format)s)"),
            path=str(path),
            format=repr(FORMAT),
        )
    written: list[str] = []
    same: list[str] = []
    differ: list[str] = []
    make_instance_folder(settings.instance_path)
    for name, file_name in KEY_FILES.items():
        saved = document.get(name)
        if not isinstance(saved, str) or len(saved) < 32:
            raise KeyBackupError(
                N_("%(path)s: %(name)s is missing or too short"), path=str(path), name=name
            )
        configured = getattr(settings.security, name) or getattr(settings.security, f"{name}_file")
        if configured:
            (same if ensure_key(settings, name) == saved else differ).append(name)
            continue
        target = settings.instance_path / file_name
        if target.exists():
            if target.read_text(encoding="ascii").strip() == saved:
                same.append(name)
                continue
            target.replace(target.with_name(file_name + ".replaced"))
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(saved)
        written.append(name)
    return KeyRestore(tuple(written), tuple(same), tuple(differ))
