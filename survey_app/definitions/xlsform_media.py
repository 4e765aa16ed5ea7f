"""Pictures of an XLSForm (`image`, `media::image`, per language) taken along by the import.

ODK keeps a form's pictures in its media folder; here they are the files next to the form (or
in the folder given with `--files`). Each picture a label or an option names is checked as the
survey loader checks it (PNG, JPEG or WebP by content, size capped) and copied into the
survey's media folder by `write_import`. One that is missing or cannot be shown is named in a
note, and the row keeps its text: never a silent drop.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from .media import MediaFile, check_image_file
from .xlsform_findings import Findings
from .xlsform_languages import LanguagePlan
from .xlsform_sheets import Column, Row

PICTURE_COLUMNS = frozenset({"image", "big-image"})
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class MediaFiles:
    """The pictures of one import, read from `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        # name in the survey's media folder -> the file it is copied from
        self.copied: dict[str, Path] = {}
        self._checked: dict[str, MediaFile | str] = {}

    def pictures(
        self,
        row: Row,
        columns: Sequence[Column],
        languages: LanguagePlan,
        findings: Findings,
        sheet: str,
    ) -> tuple[dict[str, str] | None, list[str]]:
        """The row's pictures by language as the survey names them, and the files written
        in the row that cannot be shown (each noted with the reason)."""
        shown: dict[str, str] = {}
        unshown: list[str] = []
        for column in sorted(columns, key=lambda column: column.language is not None):
            written = row.get(column.header)
            if column.base not in PICTURE_COLUMNS or not written:
                continue
            checked = self._check(written)
            if isinstance(checked, str):
                if written not in unshown:
                    unshown.append(written)
                    findings.note(
                        sheet, row.number, f"the picture is not shown: {checked}{self._hint()}"
                    )
                continue
            shown[languages.code_for(column.language)] = checked.name
        ordered = {code: shown[code] for code in languages.codes if code in shown}
        return ordered or None, unshown

    def _check(self, written: str) -> MediaFile | str:
        if written not in self._checked:
            if Path(written).name != written or "\\" in written or written in {".", ".."}:
                self._checked[written] = f"image {written!r} is not a file name"
            else:
                checked = check_image_file(self.folder / written, written)
                if isinstance(checked, MediaFile):
                    name = self._name(written)
                    checked = MediaFile(
                        name, checked.content_type, checked.width, checked.height, checked.digest
                    )
                    self.copied[name] = self.folder / written
                self._checked[written] = checked
        return self._checked[written]

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
            "; respondents see the text only (put the picture next to the form, or name its "
            "folder with --files)"
        )
