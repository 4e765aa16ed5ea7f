"""The choices sheet of an XLSForm: option lists by name, checked only when a question uses them.

Forms often carry lists no question uses (left over from a template); problems in those do
not stop an import, so each list is checked the first time a converted question asks for it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .loader import FORBIDDEN_IN_VALUE, LIST_NAME, OPTION_KEY, RESERVED_VALUES
from .xlsform_files import ChoiceFileError, ChoiceFiles
from .xlsform_findings import Findings
from .xlsform_languages import Language, LanguagePlan
from .xlsform_media import TAKEN_COLUMNS, MediaFiles
from .xlsform_sheets import Column, Row, Sheet

# Choices-sheet columns that are not extra keys of an option.
_NOT_EXTRAS = frozenset(
    {
        "list_name",
        "name",
        "label",
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


# More options than this from one file: the import warns that the page gets long.
LONG_LIST = 60
# The name a list of the external_choices sheet is registered under (it may share its name
# with a list of the choices sheet).
EXTERNAL_SUFFIX = " (external_choices)"
_MEDIA = frozenset({"image", "audio", "video", "big-image"})
_FORBIDDEN_RUN = re.compile(FORBIDDEN_IN_VALUE.pattern + "+")


def identifier(text: str, *, fallback: str) -> str:
    """`text` made into `[a-z_][a-z0-9_]*`: accents dropped, other characters become `_`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9_]+", "_", ascii_text.lower()).strip("_") or fallback
    return f"{fallback}_{slug}" if slug[0].isdigit() else slug


@dataclass
class ChoiceList:
    name: str  # as written in the form
    key: str  # the [choices.<key>] name in the survey file
    rows: list[Row] = field(default_factory=list)
    options: list[dict[str, Any]] = field(default_factory=list)
    values: set[str] = field(default_factory=set)
    checked: bool = False
    # extra keys that merged duplicate options hold several values of (space-separated)
    merged_keys: set[str] = field(default_factory=set)
    # option names with spaces or quotes -> the value they are stored as
    renamed: dict[str, str] = field(default_factory=dict)
    # the sheet the rows are on (a file's rows are read as a sheet named after the file)
    sheet: Sheet | None = None


class ChoiceLists:
    def __init__(
        self,
        sheet: Sheet | None,
        languages: LanguagePlan,
        findings: Findings,
        *,
        allow_duplicates: bool = False,
        external: Sheet | None = None,
        files: ChoiceFiles | None = None,
        media: MediaFiles | None = None,
    ) -> None:
        self.media = media
        # settings: allow_choice_duplicates, which cascading lists use for one place under two
        self.allow_duplicates = allow_duplicates
        self.languages = languages
        self.findings = findings
        self.sheet = sheet
        self.files = files
        self.lists: dict[str, ChoiceList] = {}
        # extra column header -> key of the option in the survey file (bare choice_filter name)
        self.extra_keys: dict[str, str] = {}
        self.keys: set[str] = set()  # list keys in the survey file
        self._register(sheet, "")
        # `select_one_external list`: lists of the external_choices sheet
        self._register(external, EXTERNAL_SUFFIX)

    def _register(self, sheet: Sheet | None, suffix: str) -> None:
        if sheet is None:
            return
        list_header = _plain_header(sheet, "list_name")
        if list_header is None:
            return
        self._add_extra_keys(column.header for column in sheet.columns if _is_extra(column))
        keys = self.keys
        for row in sheet.rows:
            name = row.get(list_header)
            if not name:
                continue
            if f"{name}{suffix}" not in self.lists:
                key = name if LIST_NAME.match(name) else identifier(name, fallback="list")
                key = _unique(key, keys)
                keys.add(key)
                self.lists[f"{name}{suffix}"] = ChoiceList(name=name, key=key, sheet=sheet)
            self.lists[f"{name}{suffix}"].rows.append(row)

    def _add_extra_keys(self, headers: Iterable[str]) -> None:
        for header in headers:
            if header in self.extra_keys:
                continue
            key = header
            if OPTION_KEY.match(key) is None:
                key = identifier(key, fallback="key")
            self.extra_keys[header] = key

    def from_file(
        self,
        file_name: str,
        value_column: str,
        label_columns: dict[str, str],
        where: tuple[str, int, str],
        keep: Callable[[dict[str, str]], bool] | None = None,
        described: str = "",
        filter_columns: tuple[str, ...] = (),
    ) -> str | None:
        """Register the options of the file `file_name` given next to the form, from its
        `value_column` and its `label_columns` (language code -> column); `keep` picks rows.
        Returns the list's name for `use`, or None after noting the problem at `where`
        (sheet, row, column)."""
        name = f"{file_name} {value_column} {sorted(label_columns.items())} {described}"
        if name in self.lists:
            return name
        sheet_name, row_number, column = where
        if self.files is None:
            self.findings.problem(
                sheet_name, row_number, column, f"the file '{file_name}' cannot be read here"
            )
            return None
        try:
            read = self.files.read(file_name)
        except ChoiceFileError as error:
            self.findings.problem(sheet_name, row_number, column, str(error))
            return None
        wanted = [value_column, *label_columns.values()]
        missing = [c for c in dict.fromkeys([*wanted, *filter_columns]) if c not in read.columns]
        if missing:
            self.findings.problem(
                sheet_name,
                row_number,
                column,
                f"'{file_name}' has no column {', '.join(repr(c) for c in missing)} (its "
                f"columns: {', '.join(read.columns)})",
            )
            return None
        extras = [
            c for c in read.columns if c not in wanted and c not in {"name", "label", "list_name"}
        ]
        self._add_extra_keys(extras)
        columns = [
            Column("name", "name", None),
            *(
                Column(f"label::{code}", "label", Language(code=code, name=None))
                for code in label_columns
            ),
            *(Column(c, c, None) for c in extras),
        ]
        rows = tuple(
            Row(
                row.line,
                {
                    "name": row.cells.get(value_column, ""),
                    **{f"label::{code}": row.cells.get(c, "") for code, c in label_columns.items()},
                    **{c: row.cells.get(c, "") for c in extras},
                },
            )
            for row in read.rows
            if keep is None or keep(row.cells)
        )
        if not rows:
            self.findings.problem(
                sheet_name, row_number, column, f"'{file_name}' gives no option to this question"
            )
            return None
        sheet = Sheet(name=file_name, columns=tuple(columns), rows=rows)
        labels = " and ".join(f"'{c}'" for c in dict.fromkeys(label_columns.values()))
        self.findings.note(
            sheet_name,
            row_number,
            f"{len(rows)} options read from '{file_name}' (values from column '{value_column}', "
            f"labels from {labels}); the survey keeps them, the file is not read again",
        )
        if len(rows) > LONG_LIST:
            self.findings.note(
                sheet_name,
                row_number,
                f"warning: '{file_name}' gives this question {len(rows)} options, all shown on "
                f"one page unless a choice_filter narrows them: a long page to scroll on a "
                f"phone, and a heavy one on a slow connection; split the list (e.g. region "
                f"first, then a choice_filter) or shorten it",
            )
        stem = file_name.rsplit(".", 1)[0]
        key = _unique(identifier(stem, fallback="list"), self.keys)
        self.keys.add(key)
        self.lists[name] = ChoiceList(name=file_name, key=key, rows=list(rows), sheet=sheet)
        return name

    def use(self, name: str) -> ChoiceList | None:
        """The list called `name`, checked on first use; None if the sheet has no such list."""
        choice_list = self.lists.get(name)
        if choice_list is not None and not choice_list.checked:
            self._check(choice_list)
        return choice_list

    def with_other(self, name: str) -> ChoiceList | None:
        """List `name` with the option 'other' that `or_other` on another question adds to it:
        in ODK, every question using the list then offers it (without a text box)."""
        base = self.use(name)
        if base is None:
            return None
        derived_name = f"{name} or_other"
        if derived_name not in self.lists:
            key = _unique(f"{base.key}_or_other", self.keys)
            self.keys.add(key)
            other = {
                "value": "other",
                "label": {code: "Other" for code in self.languages.codes},
            }
            self.lists[derived_name] = ChoiceList(
                name=derived_name,
                key=key,
                rows=base.rows,
                options=[*base.options, other],
                values={*base.values, "other"},
                checked=True,
                merged_keys=base.merged_keys,
                sheet=base.sheet,
            )
        return self.lists[derived_name]

    def used(self) -> list[ChoiceList]:
        return [choice_list for choice_list in self.lists.values() if choice_list.checked]

    def _check(self, choice_list: ChoiceList) -> None:
        sheet = choice_list.sheet
        assert sheet is not None  # lists only exist when there is a sheet or a file
        choice_list.checked = True
        name_header = _plain_header(sheet, "name")
        label_columns = [column for column in sheet.columns if column.base == "label"]
        first_row: dict[str, int] = {}
        if choice_list.key != choice_list.name and choice_list.name != sheet.name:
            self.findings.note(
                sheet.name,
                choice_list.rows[0].number,
                f"list name '{choice_list.name}' renamed to '{choice_list.key}'",
            )
        for row in choice_list.rows:
            value = row.get(name_header) if name_header else ""
            if not value:
                self.findings.problem(
                    sheet.name,
                    row.number,
                    "name",
                    f"an option of list '{choice_list.name}' has no name (its value)",
                )
                continue
            if value in first_row:
                if self.allow_duplicates:
                    self._merge(choice_list, row, value, first_row[value], label_columns)
                    continue
                self.findings.problem(
                    sheet.name,
                    row.number,
                    name_header,
                    f"option '{value}' appears twice in list '{choice_list.name}' "
                    f"(also row {first_row[value]})",
                )
                continue
            first_row[value] = row.number
            if value in RESERVED_VALUES:
                self.findings.problem(
                    sheet.name,
                    row.number,
                    name_header,
                    f"option name '{value}' cannot be a value: '_pnts' is reserved",
                )
                continue
            if FORBIDDEN_IN_VALUE.search(value):
                # A value is never shown; it needs no spaces or quotes to be safe in
                # expressions and in multiple-choice answers (values joined by spaces).
                written = value
                value = _unique(
                    _FORBIDDEN_RUN.sub("_", written).strip("_") or "option", set(first_row)
                )
                first_row[value] = row.number
                choice_list.renamed[written] = value
                self.findings.note(
                    sheet.name,
                    row.number,
                    f"option '{written}' of list '{choice_list.name}' is stored as '{value}' "
                    f"(values have no spaces or quotes); a relevant, constraint or "
                    f"choice_filter comparing an answer with '{written}' compares with "
                    f"'{value}'",
                )
            label = localised(row, label_columns, self.languages, self.findings, sheet.name)
            pictures, sounds, unshown = (
                self.media.taken(row, sheet.columns, self.languages, self.findings, sheet.name)
                if self.media is not None
                else (None, None, [])
            )
            media = list(
                dict.fromkeys(
                    [
                        *unshown,
                        *(
                            row.get(column.header)
                            for column in sheet.columns
                            if column.base in _MEDIA
                            and (self.media is None or column.base not in TAKEN_COLUMNS)
                            and row.get(column.header)
                        ),
                    ]
                )
            )
            if label is None and (pictures or sounds):
                label = {self.languages.default: value}
                files = sorted({*(pictures or {}).values(), *(sounds or {}).values()})
                self.findings.note(
                    sheet.name,
                    row.number,
                    f"warning: option '{value}' of list '{choice_list.name}' is only a picture "
                    f"or sound ({', '.join(files)}): it is shown with its name '{value}' as its "
                    f"text: give it a label",
                )
            elif label is None and media:
                # A picture-only option (faces on a satisfaction scale): pictures are not
                # shown yet, so the option's name stands in, and the author is told.
                label = {self.languages.default: value}
                self.findings.note(
                    sheet.name,
                    row.number,
                    f"warning: option '{value}' of list '{choice_list.name}' has only a "
                    f"picture or sound ({', '.join(media)}), which is not shown; respondents "
                    f"see its name '{value}' instead: give it a label",
                )
            elif label is not None and media:
                self.findings.note(
                    sheet.name,
                    row.number,
                    f"option '{value}': its picture or sound ({', '.join(media)}) is not shown, "
                    f"only its label",
                )
            if label is None:
                self.findings.problem(
                    sheet.name, row.number, "label", f"option '{value}' has no label"
                )
                continue
            option: dict[str, Any] = {"value": value, "label": label}
            if pictures:
                option["image"] = pictures
            if sounds:
                option["audio"] = sounds
            for header, key in self.extra_keys.items():
                if row.get(header):
                    option[key] = row.get(header)
            choice_list.options.append(option)
            choice_list.values.add(value)

    def _merge(
        self,
        choice_list: ChoiceList,
        row: Row,
        value: str,
        first: int,
        label_columns: list[Any],
    ) -> None:
        """A second option with the same name (allow_choice_duplicates): in ODK both store the
        same answer, so they are one option, whose differing columns hold both values."""
        sheet = choice_list.sheet
        assert sheet is not None
        option = next((o for o in choice_list.options if o["value"] == value), None)
        label = localised(row, label_columns, self.languages, Findings(), sheet.name)
        if option is None or label != option["label"]:
            self.findings.problem(
                sheet.name,
                row.number,
                "label",
                f"option '{value}' appears twice in list '{choice_list.name}' (also row "
                f"{first}) with a different label; both would store '{value}', so respondents "
                f"could not be told apart: give them different names",
            )
            return
        merged: list[str] = []
        for header, key in self.extra_keys.items():
            extra = row.get(header)
            held = str(option.get(key, ""))
            if extra == held or extra in held.split():
                continue
            if not extra or not held or any(" " in text for text in (extra, held)):
                self.findings.problem(
                    sheet.name,
                    row.number,
                    header,
                    f"option '{value}' appears twice in list '{choice_list.name}' (also row "
                    f"{first}) with {header} '{extra}' and '{held}', which cannot be merged",
                )
                return
            option[key] = f"{held} {extra}"
            choice_list.merged_keys.add(key)
            merged.append(f"{header} is {' or '.join(option[key].split())}")
        self.findings.note(
            sheet.name,
            row.number,
            f"option '{value}' appears twice in list '{choice_list.name}' (also row {first}), "
            f"as allow_choice_duplicates allows: both store '{value}', so they are one option"
            + (f", offered when {'; '.join(merged)}" if merged else ""),
        )


def localised(
    row: Row,
    columns: list[Any],
    languages: LanguagePlan,
    findings: Findings,
    sheet: str,
) -> dict[str, str] | None:
    """A row's text in each language, in survey language order; None if it has none at all.

    Languages with no text are left out and noted: filling them with another language's text
    would hide a missing translation from `surveys check`.
    """
    texts: dict[str, str] = {}
    # A column that names its language wins over a plain column holding the default language.
    for column in sorted(columns, key=lambda column: column.language is not None):
        value = row.get(column.header)
        if value:
            texts[languages.code_for(column.language)] = value
    if not texts:
        return None
    for code in languages.codes:
        if code not in texts:
            findings.untranslated(code, sheet, row.number)
    return {code: texts[code] for code in languages.codes if code in texts}


def _is_extra(column: Column) -> bool:
    return column.language is None and column.base not in _NOT_EXTRAS


def _plain_header(sheet: Sheet, base: str) -> str | None:
    column = sheet.column(base)
    return column.header if column else None


def _unique(candidate: str, taken: set[str]) -> str:
    unique, counter = candidate, 1
    while unique in taken:
        counter += 1
        unique = f"{candidate}_{counter}"
    return unique
