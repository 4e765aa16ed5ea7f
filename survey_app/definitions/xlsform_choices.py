"""The choices sheet of an XLSForm: option lists by name, checked only when a question uses them.

Forms often carry lists no question uses (left over from a template); problems in those do
not stop an import, so each list is checked the first time a converted question asks for it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from .loader import FORBIDDEN_IN_VALUE, LIST_NAME, OPTION_KEY, RESERVED_VALUES
from .xlsform_findings import Findings
from .xlsform_languages import LanguagePlan
from .xlsform_sheets import CHOICES_SHEET, Row, Sheet

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


class ChoiceLists:
    def __init__(
        self,
        sheet: Sheet | None,
        languages: LanguagePlan,
        findings: Findings,
        *,
        allow_duplicates: bool = False,
    ) -> None:
        # settings: allow_choice_duplicates, which cascading lists use for one place under two
        self.allow_duplicates = allow_duplicates
        self.languages = languages
        self.findings = findings
        self.sheet = sheet
        self.lists: dict[str, ChoiceList] = {}
        # extra column header -> key of the option in the survey file (bare choice_filter name)
        self.extra_keys: dict[str, str] = {}
        self.keys: set[str] = set()  # list keys in the survey file
        if sheet is None:
            return
        list_header = _plain_header(sheet, "list_name")
        if list_header is None:
            return
        for column in sheet.columns:
            if column.language is None and column.base not in _NOT_EXTRAS:
                key = column.header
                if OPTION_KEY.match(key) is None:
                    key = identifier(key, fallback="key")
                self.extra_keys[column.header] = key
        keys = self.keys
        for row in sheet.rows:
            name = row.get(list_header)
            if not name:
                continue
            if name not in self.lists:
                key = name if LIST_NAME.match(name) else identifier(name, fallback="list")
                key = _unique(key, keys)
                keys.add(key)
                self.lists[name] = ChoiceList(name=name, key=key)
            self.lists[name].rows.append(row)

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
            )
        return self.lists[derived_name]

    def used(self) -> list[ChoiceList]:
        return [choice_list for choice_list in self.lists.values() if choice_list.checked]

    def _check(self, choice_list: ChoiceList) -> None:
        assert self.sheet is not None  # lists only exist when there is a choices sheet
        choice_list.checked = True
        name_header = _plain_header(self.sheet, "name")
        label_columns = [column for column in self.sheet.columns if column.base == "label"]
        first_row: dict[str, int] = {}
        if choice_list.key != choice_list.name:
            self.findings.note(
                CHOICES_SHEET,
                choice_list.rows[0].number,
                f"list name '{choice_list.name}' renamed to '{choice_list.key}'",
            )
        for row in choice_list.rows:
            value = row.get(name_header) if name_header else ""
            if not value:
                self.findings.problem(
                    CHOICES_SHEET,
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
                    CHOICES_SHEET,
                    row.number,
                    name_header,
                    f"option '{value}' appears twice in list '{choice_list.name}' "
                    f"(also row {first_row[value]})",
                )
                continue
            first_row[value] = row.number
            if value in RESERVED_VALUES:
                self.findings.problem(
                    CHOICES_SHEET,
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
                    CHOICES_SHEET,
                    row.number,
                    f"option '{written}' of list '{choice_list.name}' is stored as '{value}' "
                    f"(values have no spaces or quotes); a relevant, constraint or "
                    f"choice_filter comparing an answer with '{written}' compares with "
                    f"'{value}'",
                )
            label = localised(row, label_columns, self.languages, self.findings, CHOICES_SHEET)
            media = list(
                dict.fromkeys(
                    row.get(column.header)
                    for column in self.sheet.columns
                    if column.base in _MEDIA and row.get(column.header)
                )
            )
            if label is None and media:
                # A picture-only option (faces on a satisfaction scale): pictures are not
                # shown yet, so the option's name stands in, and the author is told.
                label = {self.languages.default: value}
                self.findings.note(
                    CHOICES_SHEET,
                    row.number,
                    f"warning: option '{value}' of list '{choice_list.name}' has only a "
                    f"picture or sound ({', '.join(media)}), which is not shown; respondents "
                    f"see its name '{value}' instead: give it a label",
                )
            elif label is not None and media:
                self.findings.note(
                    CHOICES_SHEET,
                    row.number,
                    f"option '{value}': its picture or sound ({', '.join(media)}) is not shown, "
                    f"only its label",
                )
            if label is None:
                self.findings.problem(
                    CHOICES_SHEET, row.number, "label", f"option '{value}' has no label"
                )
                continue
            option: dict[str, Any] = {"value": value, "label": label}
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
        option = next((o for o in choice_list.options if o["value"] == value), None)
        label = localised(row, label_columns, self.languages, Findings(), CHOICES_SHEET)
        if option is None or label != option["label"]:
            self.findings.problem(
                CHOICES_SHEET,
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
                    CHOICES_SHEET,
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
            CHOICES_SHEET,
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


def _plain_header(sheet: Sheet, base: str) -> str | None:
    column = sheet.column(base)
    return column.header if column else None


def _unique(candidate: str, taken: set[str]) -> str:
    unique, counter = candidate, 1
    while unique in taken:
        counter += 1
        unique = f"{candidate}_{counter}"
    return unique
