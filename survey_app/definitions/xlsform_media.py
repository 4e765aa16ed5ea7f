"""Pictures and sounds of an XLSForm (`image`, `media::image`, `audio`, per language) taken
along by the import.

ODK keeps a form's pictures in its media folder; here they are the files next to the form (or
in the folder given with `--files`). Each picture or sound a label or an option names is
checked as the survey loader checks it (by content, size capped) and copied into the survey's
media folder by `write_import`. One that is missing or cannot be used is named in a note, and
the row keeps its text: never a silent drop.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from .media import MediaFile, check_audio_file, check_image_file
from .xlsform_findings import Findings
from .xlsform_languages import LanguagePlan
from .xlsform_sheets import Column, Row

PICTURE_COLUMNS = frozenset({"image", "big-image"})
SOUND_COLUMNS = frozenset({"audio"})
TAKEN_COLUMNS = PICTURE_COLUMNS | SOUND_COLUMNS
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class MediaFiles:
    """The pictures of one import, read from `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        # name in the survey's media folder -> the file it is copied from
        self.copied: dict[str, Path] = {}
        self._checked: dict[tuple[str, str], MediaFile | str] = {}

    def taken(
        self,
        row: Row,
        columns: Sequence[Column],
        languages: LanguagePlan,
        findings: Findings,
        sheet: str,
    ) -> tuple[dict[str, str] | None, dict[str, str] | None, list[str]]:
        """The row's pictures and sounds by language as the survey names them, and the files
        written in the row that cannot be used (each noted with the reason)."""
        found: dict[str, dict[str, str]] = {"image": {}, "audio": {}}
        unshown: list[str] = []
        for column in sorted(columns, key=lambda column: column.language is not None):
            written = row.get(column.header)
            if column.base not in TAKEN_COLUMNS or not written:
                continue
            kind = "audio" if column.base in SOUND_COLUMNS else "image"
            checked = self._check(written, kind)
            if isinstance(checked, str):
                if written not in unshown:
                    unshown.append(written)
                    what = "sound is not played" if kind == "audio" else "picture is not shown"
                    findings.note(sheet, row.number, f"the {what}: {checked}{self._hint()}")
                continue
            found[kind][languages.code_for(column.language)] = checked.name
        pictures, sounds = (
            {code: found[kind][code] for code in languages.codes if code in found[kind]}
            for kind in ("image", "audio")
        )
        return pictures or None, sounds or None, unshown

    def _check(self, written: str, kind: str) -> MediaFile | str:
        if (written, kind) not in self._checked:
            if Path(written).name != written or "\\" in written or written in {".", ".."}:
                self._checked[written, kind] = f"{kind} {written!r} is not a file name"
            else:
                path = self.folder / written
                checked = (
                    check_audio_file(path, written)
                    if kind == "audio"
                    else check_image_file(path, written)
                )
                if isinstance(checked, MediaFile):
                    name = self._name(written)
                    checked = MediaFile(
                        name, checked.content_type, checked.width, checked.height, checked.digest
                    )
                    self.copied[name] = self.folder / written
                self._checked[written, kind] = checked
        return self._checked[written, kind]

    def _name(self, written: str) -> str:
        """A name the survey file can use: letters, digits, '_', '-' and '.'."""
        name = _UNSAFE.sub("_", written).lstrip("._-") or "picture"
        stem, dot, suffix = name.rpartition(".")
        unique, counter = name, 1
        while unique in self.copied and self.copied[unique] != self.folder / written:
            counter += 1
            unique = f"{stem}_{counter}{dot}{suffix}" if dot else f"{name}_{counter}"
        return unique

    def _hint(self) -> str:
        return (
            "; respondents see the text only (put the file next to the form, or name its "
            "folder with --files)"
        )
