"""Import an XLSForm (.xls or .xlsx) as a survey file.

`convert_xlsform` reads the survey, choices and settings sheets and returns the TOML text of
the survey with notes about everything it changed, dropped or assumed. Identifying metadata
(start, end, deviceid, username, audit...) is dropped with a note. Rows that cannot be
converted stop the import: `UnconvertibleRows` lists each of them (sheet, row number as Excel
shows it, column, reason) and no text is produced. The result is checked with the survey
loader before it is returned, so an `ImportResult` always holds a survey the app can load
(apart from translations the form itself lacks, which are noted and left for `surveys check`).

`write_import` writes the result into a surveys folder, atomically and without overwriting.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .loader import LANGUAGE_CODE, SURVEY_ID, load_survey_text
from .media import MEDIA_FOLDER, media_folder
from .validation import SurveyDefinitionError
from .xlsform_choices import ChoiceLists
from .xlsform_files import ChoiceFiles
from .xlsform_findings import ConversionNote, ConversionProblem, Findings
from .xlsform_languages import Language, LanguagePlan, language_from_header
from .xlsform_media import MediaFiles
from .xlsform_sheets import (
    CHOICES_SHEET,
    EXTERNAL_CHOICES_SHEET,
    SETTINGS_SHEET,
    SURVEY_SHEET,
    Sheet,
    WorkbookUnreadable,
    read_workbook,
    sheet_names,
)
from .xlsform_survey import SurveySheet
from .xlsform_toml import render_survey

__all__ = [
    "ConversionNote",
    "ConversionProblem",
    "ImportResult",
    "InvalidSurveyId",
    "NotAnXLSForm",
    "NothingToConvert",
    "SurveyExists",
    "UnconvertibleRows",
    "UnknownLanguage",
    "XLSFormError",
    "convert_xlsform",
    "write_import",
]

FORMAT_VERSION = 1
SURVEY_FILE_SUFFIX = ".toml"
# Columns whose language suffix adds a language to the survey (media columns do not).
_TEXT_COLUMNS = frozenset({"label", "hint", "constraint_message"})
_USED_SETTINGS = frozenset(
    {"form_title", "form_id", "default_language", "version", "allow_choice_duplicates"}
)


class XLSFormError(Exception):
    """The form cannot be imported; `problems` lists what is wrong, `notes` what was changed."""

    def __init__(
        self,
        message: str,
        problems: tuple[ConversionProblem, ...] = (),
        notes: tuple[ConversionNote, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems
        self.notes = notes

    def __str__(self) -> str:
        return "\n".join([self.message, *(f"  {problem}" for problem in self.problems)])


class NotAnXLSForm(XLSFormError):
    """The file is not an .xlsx workbook, cannot be read, or has no usable survey sheet."""


class UnconvertibleRows(XLSFormError):
    """Rows that cannot be converted, each listed with its sheet, row, column and reason."""


class NothingToConvert(UnconvertibleRows):
    """Every row was dropped (identifying metadata, unused calculations): no survey is left."""


class InvalidSurveyId(XLSFormError):
    """The survey id asked for cannot name a survey file."""


class UnknownLanguage(XLSFormError):
    """The default language asked for is not one the form is written in."""


class SurveyExists(XLSFormError):
    """A survey file with this id is already in the folder, and overwriting was not asked."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} already exists; use --force to replace it")
        self.path = path


@dataclass(frozen=True)
class ImportResult:
    survey_id: str
    toml_text: str
    notes: tuple[ConversionNote, ...]
    # the form's question names and the ids they have in the survey file (for comparisons)
    names: dict[str, str] = field(default_factory=dict)
    # the form's row names (questions, groups, dropped rows) and the rows they are on
    name_rows: dict[str, int] = field(default_factory=dict)
    # pictures to copy into the survey's media folder: name there -> the form's file
    media: dict[str, Path] = field(default_factory=dict)


def convert_xlsform(
    path: Path,
    *,
    survey_id: str | None = None,
    default_language: str | None = None,
    files: Path | None = None,
) -> ImportResult:
    """Convert the XLSForm at `path`; `survey_id` and `default_language` override the form's
    settings (form_id, default_language). Choice lists kept in files (`select_one_from_file`,
    `search()`) are read from `files`, by default the form's own folder. Raises an
    XLSFormError subclass on failure."""
    path = Path(path)
    sheets = _read_form(path)
    findings = Findings()
    settings = _settings(sheets.get(SETTINGS_SHEET), findings)
    identifier = _survey_id(path, survey_id, settings, findings)
    survey_sheet = sheets[SURVEY_SHEET]
    choices_sheet = sheets.get(CHOICES_SHEET)
    languages = _plan_languages(
        [
            survey_sheet,
            *(sheets[n] for n in (CHOICES_SHEET, EXTERNAL_CHOICES_SHEET) if n in sheets),
        ],
        default_language,
        settings.get("default_language", ""),
        findings,
    )
    duplicates = settings.get("allow_choice_duplicates", "").strip().lower() in {"yes", "true"}
    media = MediaFiles(path.parent if files is None else Path(files))
    choice_lists = ChoiceLists(
        choices_sheet,
        languages,
        findings,
        allow_duplicates=duplicates,
        external=sheets.get(EXTERNAL_CHOICES_SHEET),
        files=ChoiceFiles(path.parent if files is None else Path(files)),
        media=media,
    )
    converted = SurveySheet(survey_sheet, choice_lists, languages, findings, media).convert()
    if converted is None:
        raise UnconvertibleRows(
            f"{path.name}: {_count(findings.problems, 'row')} cannot be converted; "
            f"nothing was written",
            findings.sorted_problems(),
            findings.sorted_notes(),
        )
    if not converted.pages:
        findings.problem(
            SURVEY_SHEET,
            None,
            None,
            "no question is left to convert (every row was dropped; see the notes)",
        )
        raise NothingToConvert(
            f"{path.name}: no question is left to convert; nothing was written",
            findings.sorted_problems(),
            findings.sorted_notes(),
        )
    document: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "survey": _survey_table(identifier, path, settings, languages, findings),
    }
    if converted.choices:
        document["choices"] = converted.choices
    document["pages"] = converted.pages
    if converted.calculations:
        document["calculations"] = converted.calculations
    text = render_survey(document)
    _check_with_loader(document, identifier, languages, converted.rows, findings)
    findings.note_untranslated()
    if media.copied:
        findings.note(
            SURVEY_SHEET,
            None,
            f"{len(media.copied)} picture{'s' if len(media.copied) > 1 else ''} or sound"
            f"{'s' if len(media.copied) > 1 else ''} of labels and options copied into "
            f"{MEDIA_FOLDER}/{identifier}/ beside the survey",
        )
    return ImportResult(
        survey_id=identifier,
        toml_text=text,
        notes=findings.sorted_notes(),
        names=converted.names,
        name_rows=converted.name_rows,
        media=dict(media.copied),
    )


def write_import(result: ImportResult, directory: Path, *, overwrite: bool = False) -> Path:
    """Write `<survey_id>.toml` into `directory` (created if needed) and return its path.

    The text goes to a temporary file in the same folder first and is then moved into place,
    so the surveys folder never holds a half-written survey. Raises SurveyExists if the file
    exists and `overwrite` is false.
    """
    if SURVEY_ID.match(result.survey_id) is None:
        raise InvalidSurveyId(f"'{result.survey_id}' cannot name a survey file")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{result.survey_id}{SURVEY_FILE_SUFFIX}"
    if target.exists() and not overwrite:
        raise SurveyExists(target)
    if result.media:
        # The pictures first: the survey is served only once its file is there.
        folder = media_folder(directory, result.survey_id)
        for name, source in result.media.items():
            destination = folder / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
    descriptor, temporary_name = tempfile.mkstemp(
        dir=directory, prefix=f".{result.survey_id}.", suffix=".tmp"
    )
    temporary = Path(temporary_name)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(result.toml_text.encode("utf-8"))
            file.flush()
            os.fsync(file.fileno())
        if overwrite:
            os.replace(temporary, target)
        else:
            _move_without_overwriting(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def _move_without_overwriting(source: Path, target: Path) -> None:
    # A hard link fails if the target appeared since the check above; a plain rename would
    # silently replace a file another import has just written.
    try:
        os.link(source, target)
    except FileExistsError:
        raise SurveyExists(target) from None
    except OSError:
        # Some file systems have no hard links; fall back to the checked rename.
        if target.exists():
            raise SurveyExists(target) from None
        os.replace(source, target)


# --------------------------------------------------------------------------- workbook


def _read_form(path: Path) -> dict[str, Sheet]:
    def refuse(message: str) -> NotAnXLSForm:
        return NotAnXLSForm(
            f"{path.name}: {message}",
            (ConversionProblem(SURVEY_SHEET, None, None, message),),
        )

    if not path.is_file():
        raise refuse("no such file")
    try:
        sheets = read_workbook(path)
    except WorkbookUnreadable as error:
        raise refuse(f"not an .xls or .xlsx workbook that can be read ({error})") from None
    survey = sheets.get(SURVEY_SHEET)
    if survey is None:
        found = ", ".join(sheet_names(path)) or "none"
        raise refuse(f"the workbook has no 'survey' sheet (sheets: {found})")
    if survey.column("type") is None:
        raise refuse("the survey sheet has no 'type' column in its first row")
    return sheets


def _settings(sheet: Sheet | None, findings: Findings) -> dict[str, str]:
    """The settings sheet's first row of values, by lower-case column name."""
    if sheet is None or not sheet.rows:
        return {}
    row = sheet.rows[0]
    settings = {column.base.lower(): row.get(column.header) for column in sheet.columns}
    settings = {key: value for key, value in settings.items() if value}
    ignored = sorted(set(settings) - _USED_SETTINGS)
    if ignored:
        findings.note(SETTINGS_SHEET, row.number, f"settings ignored: {', '.join(ignored)}")
    if "version" in settings:
        findings.note(
            SETTINGS_SHEET,
            row.number,
            f"version '{settings['version']}' ignored: a survey's version is made from its content",
        )
    return settings


# --------------------------------------------------------------------------- survey table


def _survey_id(
    path: Path, requested: str | None, settings: dict[str, str], findings: Findings
) -> str:
    if requested is not None:
        if SURVEY_ID.match(requested) is None:
            raise InvalidSurveyId(
                f"survey id '{requested}' is not valid: use lower-case letters, digits, '-' "
                f"and '_', starting with a letter or digit"
            )
        return requested
    written = settings.get("form_id") or path.stem
    ascii_text = unicodedata.normalize("NFKD", written).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9_-]+", "-", ascii_text.lower()).strip("-_") or "survey"
    if slug != written:
        source = "form_id" if settings.get("form_id") else "file name"
        findings.note(
            SETTINGS_SHEET if source == "form_id" else SURVEY_SHEET,
            None,
            f"survey id '{slug}' made from the {source} '{written}'",
        )
    return slug


def _survey_table(
    identifier: str,
    path: Path,
    settings: dict[str, str],
    languages: LanguagePlan,
    findings: Findings,
) -> dict[str, Any]:
    title = settings.get("form_title")
    if not title:
        title = settings.get("form_id") or path.stem
        findings.note(
            SETTINGS_SHEET, None, f"no form_title in the settings sheet; the title is '{title}'"
        )
    if len(languages.codes) > 1:
        # XLSForm has one form_title for all languages, so there is no translation to miss.
        findings.note(
            SETTINGS_SHEET,
            None,
            "form_title is used as the title in every language; translate it in the survey file",
        )
    table: dict[str, Any] = {
        "id": identifier,
        "title": {code: title for code in languages.codes},
        "default_language": languages.default,
        "languages": list(languages.codes),
    }
    if languages.names:
        table["language_names"] = dict(languages.names)
    return table


# --------------------------------------------------------------------------- languages


def _plan_languages(
    sheets: list[Sheet], requested: str | None, setting: str, findings: Findings
) -> LanguagePlan:
    """The survey's languages, in the order the form's columns first name them."""
    named: dict[str, Language] = {}
    plain = False
    for sheet in sheets:
        for column in sheet.columns:
            if column.base not in _TEXT_COLUMNS or not _has_values(sheet, column.header):
                continue
            if column.language is None:
                plain = True
                continue
            language = column.language
            if language.written is not None and language.code not in named:
                findings.note(
                    sheet.name,
                    1,
                    f"language code '{language.written}' in column '{column.header}' is "
                    f"{language.why}: read as '{language.code}'",
                )
            if not language.recognised or LANGUAGE_CODE.match(language.code) is None:
                findings.problem(
                    sheet.name,
                    1,
                    column.header,
                    f"'{language.name or language.code}' is not a language name this import "
                    f"knows; add its code, e.g. '{column.base}::{language.name} (xx)'",
                )
                continue
            named.setdefault(language.code, language)
    default = _default_language(list(named), plain, requested, setting, findings)
    codes = (default, *(code for code in named if code != default))
    names = tuple((code, language.name) for code, language in named.items() if language.name)
    return LanguagePlan(default=default, codes=codes, names=names)


def _default_language(
    named: list[str], plain: bool, requested: str | None, setting: str, findings: Findings
) -> str:
    if requested:
        code = _code(requested)
        if named and not plain and code not in named:
            raise UnknownLanguage(
                f"the form has no text in '{requested}' (its languages: {', '.join(named)})"
            )
        return code
    if setting:
        code = _code(setting)
        if plain or not named or code in named:
            return code
        findings.note(
            SETTINGS_SHEET,
            None,
            f"default_language '{setting}' has no columns in the form; the default "
            f"language is '{named[0]}'",
        )
        return named[0]
    if named and not plain:
        return named[0]
    findings.note(
        SURVEY_SHEET,
        None,
        "columns without a language (label, hint) are taken as English (en); set "
        "default_language in the settings sheet if they are not",
    )
    return "en"


def _code(text: str) -> str:
    return language_from_header(text).code


def _has_values(sheet: Sheet, header: str) -> bool:
    return any(row.get(header) for row in sheet.rows)


# --------------------------------------------------------------------------- final check


def _check_with_loader(
    document: dict[str, Any],
    identifier: str,
    languages: LanguagePlan,
    rows: dict[str, int],
    findings: Findings,
) -> None:
    """Load the survey as the app will; any problem left is a bug of this import, not of the
    form, except missing translations, which are filled in only for this check."""
    complete = _with_translations(copy.deepcopy(document), languages)
    try:
        load_survey_text(render_survey(complete), f"{identifier}{SURVEY_FILE_SUFFIX}")
    except SurveyDefinitionError as error:
        for problem in error.problems:
            row = rows.get(problem.location or "")
            findings.problem(SURVEY_SHEET, row, None, problem.message if row else str(problem))
        raise UnconvertibleRows(
            f"{identifier}: the converted survey does not load; nothing was written",
            findings.sorted_problems(),
            findings.sorted_notes(),
        ) from None


def _with_translations(value: Any, languages: LanguagePlan) -> Any:
    if isinstance(value, dict):
        if _is_localised(value, languages):
            fallback = value.get(languages.default) or next(iter(value.values()))
            return {code: value.get(code, fallback) for code in languages.codes}
        return {key: _with_translations(item, languages) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_translations(item, languages) for item in value]
    return value


def _is_localised(value: dict[str, Any], languages: LanguagePlan) -> bool:
    return (
        bool(value)
        and set(value) <= set(languages.codes)
        and all(isinstance(text, str) for text in value.values())
    )


def _count(items: list[Any], noun: str) -> str:
    return f"{len(items)} {noun}{'s' if len(items) != 1 else ''}"
