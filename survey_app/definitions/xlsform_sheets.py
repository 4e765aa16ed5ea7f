"""Reading an XLSForm workbook into plain rows of text, and making sense of its column headers.

Everything the converter needs is read into memory here, so the workbook file is closed before
any conversion starts and the converter never sees openpyxl types.
"""

from __future__ import annotations

import datetime
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .xlsform_languages import Language, language_from_header

SURVEY_SHEET = "survey"
CHOICES_SHEET = "choices"
SETTINGS_SHEET = "settings"


class WorkbookUnreadable(Exception):
    """The file is not an .xlsx workbook openpyxl can read; the message says why."""


@dataclass(frozen=True)
class Column:
    """A column header split into its base name (`label`, `hint`...) and optional language."""

    header: str
    base: str
    language: Language | None


@dataclass(frozen=True)
class Row:
    """One non-empty row: its number as Excel shows it, and its cells as text by header."""

    number: int
    cells: dict[str, str]

    def get(self, header: str) -> str:
        return self.cells.get(header, "")


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]

    def column(self, base: str) -> Column | None:
        """The first column with this base name and no language, if any."""
        for column in self.columns:
            if column.base == base and column.language is None:
                return column
        return None


def read_workbook(path: Path) -> dict[str, Sheet]:
    """All sheets of the workbook, keyed by lower-case sheet name."""
    # openpyxl warns about spreadsheet features it drops (extensions, data validation); they do
    # not matter for a form definition, and a warning must not become a failure.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        try:
            import openpyxl  # only when a form is imported: a slow import

            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as error:
            # openpyxl raises many unrelated types for a file that is not a valid workbook
            # (BadZipFile, InvalidFileException, KeyError, XML parse errors...).
            raise WorkbookUnreadable(f"{type(error).__name__}: {error}") from error
        try:
            sheets: dict[str, Sheet] = {}
            for worksheet in workbook.worksheets:
                key = worksheet.title.strip().lower()
                if key not in sheets:
                    sheets[key] = _read_sheet(worksheet.title.strip(), worksheet.iter_rows())
            return sheets
        except Exception as error:
            raise WorkbookUnreadable(f"{type(error).__name__}: {error}") from error
        finally:
            workbook.close()


# Spreadsheet programs may save formatting for a million empty rows (pyxform's UCL biomass form
# does); reading them all takes minutes. No form leaves this many blank rows between questions.
BLANK_ROWS_END_A_SHEET = 1000


def _read_sheet(name: str, rows: Iterable[tuple[Any, ...]]) -> Sheet:
    header: list[str] | None = None
    columns: list[Column] = []
    data: list[Row] = []
    blank_run = 0
    for excel_row in rows:
        values = [cell_text(cell.value) for cell in excel_row if hasattr(cell, "value")]
        if not any(values):
            blank_run += 1
            if blank_run >= BLANK_ROWS_END_A_SHEET:
                break
            continue
        blank_run = 0
        number = _row_number(excel_row)
        if header is None:
            header = values
            columns = [parse_column(text) for text in header if text]
            continue
        cells = {
            header[index]: value
            for index, value in enumerate(values)
            if index < len(header) and header[index] and value
        }
        if cells:
            data.append(Row(number=number, cells=cells))
    return Sheet(name=name, columns=tuple(columns), rows=tuple(data))


def _row_number(excel_row: tuple[object, ...]) -> int:
    for cell in excel_row:
        row = getattr(cell, "row", None)
        if isinstance(row, int):
            return row
    raise WorkbookUnreadable("a row without a row number")


def cell_text(value: object) -> str:
    """A cell's value as the text a form author sees (1.0 -> "1", TRUE -> "true")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value).strip()


_LANGUAGE_SEPARATOR = re.compile(r"::?")

# Base names that may carry a language suffix; for other headers a colon is part of the name
# (e.g. `body::accuracyThreshold`, `jr:constraintMsg`).
TRANSLATABLE = frozenset(
    {"label", "hint", "guidance_hint", "constraint_message", "required_message", "image", "audio",
     "video", "big-image", "media::image", "media::audio", "media::video", "media::big-image"}
)


def parse_column(header: str) -> Column:
    """`label::English (en)` -> base `label`, language en; `list name` -> base `list_name`."""
    lowered = header.strip().lower()
    for base in sorted(TRANSLATABLE, key=len, reverse=True):
        if lowered == base:
            return Column(header=header, base=_base_name(base), language=None)
        if lowered.startswith(base) and _LANGUAGE_SEPARATOR.match(lowered, len(base)):
            rest = _LANGUAGE_SEPARATOR.sub("", header.strip()[len(base):], count=1).strip()
            if rest:
                return Column(header=header, base=_base_name(base),
                              language=language_from_header(rest))
    return Column(header=header, base=_base_name(lowered), language=None)


def _base_name(text: str) -> str:
    return re.sub(r"\s+", "_", text.strip())
