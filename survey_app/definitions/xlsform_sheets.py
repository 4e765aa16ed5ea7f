"""Reading an XLSForm workbook into plain rows of text, and making sense of its column headers.

The workbook is read by pyxform, the reference XLSForm converter, so that `.xls`, `.xlsx` and
`.xlsm` files are read exactly as ODK and KoboToolbox read them, and every column header is
understood as pyxform understands it: its aliases (`bind::relevant`, `relevance`,
`bind:constraint`, `caption`, `list name`...) and its language suffixes (`label::English (en)`,
`label:Français`). We keep rows rather than pyxform's nested JSON because every note and
refusal must name the row it is about, and pyxform's JSON has no row numbers.

Everything the converter needs is read into memory here, so the converter never sees a
spreadsheet library's types.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .xlsform_languages import Language, language_from_header

SURVEY_SHEET = "survey"
CHOICES_SHEET = "choices"
SETTINGS_SHEET = "settings"
EXTERNAL_CHOICES_SHEET = "external_choices"


class WorkbookUnreadable(Exception):
    """The file is not a workbook pyxform can read; the message says why."""


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


# pyxform groups some columns under bind/control/media; these are the names the converter
# reads them by (`bind::relevant` and `relevance` are both ("bind", "relevant")).
_GROUPED = {
    "relevant": "relevant",
    "required": "required",
    "constraint": "constraint",
    "jr:constraintMsg": "constraint_message",
    "jr:requiredMsg": "required_message",
    "calculate": "calculation",
    "readonly": "read_only",
    "appearance": "appearance",
    "jr:count": "repeat_count",
    "image": "image",
    "big-image": "big-image",
    "audio": "audio",
    "video": "video",
}
_GROUPS = frozenset({"bind", "control", "media"})
# pyxform's names for the survey's own settings, back to the XLSForm column names.
_SETTINGS_NAMES = {"title": "form_title", "id_string": "form_id"}


def read_workbook(path: Path) -> dict[str, Sheet]:
    """The survey, choices, settings and external_choices sheets (those present), keyed by
    lower-case name."""
    from pyxform.errors import PyXFormError  # only when a form is imported: a slow import

    try:
        # openpyxl warns about spreadsheet features it drops (extensions, data validation);
        # they do not matter for a form definition, and a warning must not become a failure.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            data = _read(path)
    except PyXFormError as error:
        raise WorkbookUnreadable(str(error)) from error
    except Exception as error:
        # The spreadsheet libraries raise many unrelated types for a damaged file.
        raise WorkbookUnreadable(f"{type(error).__name__}: {error}") from error
    sheets: dict[str, Sheet] = {}
    for name in (SURVEY_SHEET, CHOICES_SHEET, SETTINGS_SHEET, EXTERNAL_CHOICES_SHEET):
        rows = getattr(data, name, None)
        header = getattr(data, f"{name}_header", None)
        if rows is None:
            continue
        headers = list(header[0]) if header else []
        sheets[name] = _read_sheet(name, headers, rows)
    return sheets


def sheet_names(path: Path) -> list[str]:
    """Every sheet's name as the workbook spells it (for a message about a missing sheet)."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            return list(_read(path).sheet_names or [])
    except Exception:
        return []


def _read(path: Path) -> Any:
    from pyxform.errors import PyXFormError
    from pyxform.xls2json_backends import get_xlsform

    # Only spreadsheets: pyxform would also try any file as Markdown or CSV text.
    for file_type in (".xlsx", ".xls"):
        try:
            return get_xlsform(str(path), file_type=file_type)
        except PyXFormError as error:
            last = error
    raise last


def _sheet_headers(name: str) -> tuple[dict[str, Any], set[str]]:
    """The columns pyxform expects on a sheet, and its aliases for other spellings."""
    from pyxform import aliases, constants
    from pyxform.question import MultipleChoiceQuestion
    from pyxform.survey import Survey

    if name == SURVEY_SHEET:
        return aliases.survey_header, set(MultipleChoiceQuestion.get_slot_names())
    if name == CHOICES_SHEET:
        columns = {constants.LIST_NAME_S, constants.NAME, constants.LABEL, "media"}
        return aliases.list_header, columns
    return aliases.settings_header, set(Survey.get_slot_names())


def _read_sheet(name: str, headers: list[str], rows: Sequence[dict[str, str]]) -> Sheet:
    from pyxform.parsing.sheet_headers import process_header

    header_aliases, known = _sheet_headers(name)
    double_colon = any("::" in header for header in headers)
    columns = []
    for header in headers:
        _, tokens = process_header(header, double_colon, header_aliases, known)
        columns.append(_column(header, tokens, name))
    data = []
    # pyxform keeps blank rows inside a sheet so that row numbers stay right; the first row
    # of the sheet is its header.
    for index, cells in enumerate(rows, start=2):
        text = {key: str(value).strip() for key, value in cells.items() if str(value).strip()}
        if text:
            data.append(Row(number=index, cells=text))
    return Sheet(name=name, columns=tuple(columns), rows=tuple(data))


def _column(header: str, tokens: tuple[str, ...], sheet: str) -> Column:
    if len(tokens) >= 2 and tokens[0] in _GROUPS and tokens[1] in _GROUPED:
        tokens = (_GROUPED[tokens[1]], *tokens[2:])
    base = _base_name(tokens[0].lower())
    if sheet == SETTINGS_SHEET:
        base = _SETTINGS_NAMES.get(tokens[0], base)
    if len(tokens) == 1:
        return Column(header=header, base=base, language=None)
    language = "::".join(tokens[1:]).strip()
    if base in TRANSLATABLE and language:
        return Column(header=header, base=base, language=language_from_header(language))
    return Column(header=header, base=_base_name(header.lower()), language=None)


# Base names that may carry a language suffix; for other headers a colon is part of the name
# (e.g. `body::accuracyThreshold`).
TRANSLATABLE = frozenset(
    {
        "label",
        "hint",
        "guidance_hint",
        "constraint_message",
        "required_message",
        "image",
        "audio",
        "video",
        "big-image",
        "media::image",
        "media::audio",
        "media::video",
        "media::big-image",
    }
)


def _base_name(text: str) -> str:
    return re.sub(r"\s+", "_", text.strip())
