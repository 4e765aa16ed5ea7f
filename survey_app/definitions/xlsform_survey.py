"""The survey sheet of an XLSForm turned into pages of questions.

Conversion runs in passes over all rows, so that every row that cannot be converted is found,
not only the first: classify each row's type, match groups, settle names, build each question,
parse its expressions, and finally refuse rows whose expressions use a question that was
dropped or refused. Only when no row was refused are the pages assembled.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from .expressions import (
    BareName,
    Binary,
    Call,
    Expression,
    ExpressionError,
    Negate,
    Node,
    NumberLiteral,
    Reference,
    StringLiteral,
    parse,
)
from .loader import MAX_SCALE, MIN_SCALE
from .repeats import MAX_REPETITIONS
from .validation import question_location
from .xlsform_choice_sources import options_list, without_search
from .xlsform_choices import ChoiceLists, identifier, localised
from .xlsform_findings import Findings
from .xlsform_identifying import asks_for_identity
from .xlsform_languages import LanguagePlan
from .xlsform_media import TAKEN_COLUMNS, MediaFiles
from .xlsform_sheets import SURVEY_SHEET, Column, Row, Sheet
from .xlsform_types import Kind, ParsedType, parse_type

# Columns the converter reads; any other column with content is reported as ignored.
_READ_COLUMNS = frozenset(
    {
        "type",
        "name",
        "label",
        "hint",
        "image",
        "big-image",
        "audio",
        "required",
        "relevant",
        "constraint",
        "constraint_message",
        "choice_filter",
        "appearance",
        "parameters",
        "default",
        "calculation",
        "repeat_count",
    }
)
_TRUE = frozenset({"yes", "true", "true()", "1", "y"})
_FALSE = frozenset({"no", "false", "false()", "0", "n"})
_CURLY_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
    }
)
_HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
_CALCULATION_REFERENCE = re.compile(r"\$\{([^}\s]+)\}")
_PIPED = _CALCULATION_REFERENCE  # `${name}` inside a label or hint
# Survey-sheet columns holding a picture or sound for the label (not shown by the app).
_MEDIA_COLUMNS = frozenset({"image", "audio", "video", "big-image"})
# Longest expression a calculation may become once written out where it is used.
_MAX_INLINED = 4000
# An XLSForm `range` with these parameters reads as a rating scale of 1..end points.
_RATING_POINTS = range(MIN_SCALE, MAX_SCALE + 1)
# Key order of a question in the survey file.
_QUESTION_KEYS = (
    "id",
    "type",
    "label",
    "hint",
    "image",
    "audio",
    "required",
    "choices",
    "choice_filter",
    "other",
    "scale",
    "min",
    "max",
    "precision",
    "relevant",
    "constraint",
    "constraint_message",
)
# An open-ended repeat, or one counted by a question without a max, is asked at most this often.
DEFAULT_REPETITIONS = 10
_SINGLE_REFERENCE = re.compile(r"\$\{[^}\s]+\}\Z")
# The value an `acknowledge` question records; ours record "yes".
_ACKNOWLEDGED = "OK"


@dataclass(eq=False)
class _Entry:
    """One row of the survey sheet while it is being converted."""

    row: Row
    parsed: ParsedType
    name: str
    qid: str = ""
    question: dict[str, Any] = field(default_factory=dict)
    # column -> (expression text with straight quotes, parsed expression)
    expressions: dict[str, tuple[str, Expression]] = field(default_factory=dict)
    calculation_references: frozenset[str] = frozenset()
    failed: bool = False
    computed: bool = False  # a question with a calculation: shown read-only in ODK, not asked
    groups: tuple[_Entry, ...] = ()  # enclosing groups, outermost first
    repeat: _Entry | None = None  # the enclosing repeat (or loop): its page is asked repeatedly
    last_row: int = 0  # for a group or repeat: the row that closes it

    @property
    def number(self) -> int:
        return self.row.number

    @property
    def kind(self) -> Kind:
        return self.parsed.kind

    @property
    def converted(self) -> bool:
        """A question, group or repeat that will be in the survey file if no other row stops it."""
        return self.kind in {Kind.QUESTION, Kind.BEGIN_GROUP, Kind.BEGIN_REPEAT}


@dataclass(frozen=True)
class ConvertedSurvey:
    pages: list[dict[str, Any]]
    choices: dict[str, dict[str, Any]]
    # where the survey loader's problem locations ("question 'age'") are in the form
    rows: dict[str, int]
    # XLSForm name -> question id in the survey file, for every question kept
    names: dict[str, str]
    # XLSForm name -> its row, for every named row
    name_rows: dict[str, int]
    # calculations that labels and hints insert: id -> expression over the survey's ids
    calculations: dict[str, str] = field(default_factory=dict)


class SurveySheet:
    """Converts one survey sheet; problems and notes go to `findings`."""

    def __init__(
        self,
        sheet: Sheet,
        choices: ChoiceLists,
        languages: LanguagePlan,
        findings: Findings,
        media: MediaFiles | None = None,
    ) -> None:
        self.media = media
        self.sheet = sheet
        self.choices = choices
        self.languages = languages
        self.findings = findings
        self.by_name: dict[str, _Entry] = {}
        # repeat row -> the page asking how many times it is answered, when the form does not say
        self.count_pages: dict[int, dict[str, Any]] = {}
        # rows whose name is already used in another group (the first is in by_name)
        self.also_named: list[_Entry] = []
        self.acknowledged: set[str] = set()
        # lists that `or_other` adds 'other' to -> the first row asking for it
        self.or_other_lists: dict[str, int] = {}
        # row -> the choice_filter a search() on an earlier answer becomes
        self.search_filters: dict[int, str] = {}
        # calculation name -> written out over answers (None: it cannot be computed)
        self.inlined: dict[str, str | None] = {}
        # calculations inserted into labels and hints: id in the survey -> expression
        self.text_calculations: dict[str, str] = {}
        # calculations only labels and hints use, until one of them inserts it
        self.text_only: set[str] = set()

    # ----------------------------------------------------------------- passes

    def convert(self) -> ConvertedSurvey | None:
        """The pages and choice lists, or None when a row could not be converted."""
        entries = self._classify()
        self._match_groups(entries)
        for entry in entries:
            if entry.parsed.other and entry.parsed.list_name:
                self.or_other_lists.setdefault(entry.parsed.list_name, entry.number)
        self._settle_names(entries)
        for entry in entries:
            if entry.converted and not entry.failed:
                self._build(entry)
        self._note_ignored_columns(entries)
        for entry in entries:
            if entry.converted:
                self._parse_expressions(entry)
        self._settle_calculations(entries)
        self._refuse_position_outside_repeats(entries)
        self._rewrite_dropped_references(entries)
        self._refuse_unusable_references(entries)
        if self.findings.problems:
            return None
        pages = self._assemble(entries)
        self._settle_piping(pages, entries)
        choices = {
            choice_list.key: {"options": choice_list.options} for choice_list in self.choices.used()
        }
        rows = {
            question_location(e.qid): e.number for e in entries if e.kind is Kind.QUESTION and e.qid
        }
        rows |= {
            f"page '{e.qid}'": e.number
            for e in entries
            if e.kind in {Kind.BEGIN_GROUP, Kind.BEGIN_REPEAT} and e.qid
        }
        kept = {q["id"] for page in pages for q in page["questions"]}
        names: dict[str, str] = {}
        for e in entries:
            if e.kind is Kind.QUESTION and e.qid in kept:
                names.setdefault(e.name, e.qid)  # a name used in two groups: the first
        name_rows = {name: entry.number for name, entry in self.by_name.items()}
        return ConvertedSurvey(
            pages=pages,
            choices=choices,
            rows=rows,
            names=names,
            name_rows=name_rows,
            calculations=self.text_calculations,
        )

    def _classify(self) -> list[_Entry]:
        type_header = self._header("type")
        name_header = self._header("name")
        entries: list[_Entry] = []
        for row in self.sheet.rows:
            type_text = row.get(type_header) if type_header else ""
            name = row.get(name_header) if name_header else ""
            if not type_text:
                if name or any(
                    column.base == "label" and row.get(column.header)
                    for column in self.sheet.columns
                ):
                    self.findings.problem(SURVEY_SHEET, row.number, "type", "the row has no type")
                continue
            entry = _Entry(row=row, parsed=parse_type(type_text), name=name)
            calculation_header = self._header("calculation")
            if (
                entry.kind is Kind.QUESTION
                and calculation_header
                and row.get(calculation_header)
                and entry.parsed.base != "note"
            ):
                # Computed, not asked (read-only in ODK): a calculation like any other.
                entry.parsed = replace(entry.parsed, kind=Kind.CALCULATE)
                entry.computed = True
            if entry.kind is Kind.UNSUPPORTED:
                self._fail(entry, "type", entry.parsed.reason)
            elif entry.kind is Kind.METADATA:
                self.findings.note(
                    SURVEY_SHEET,
                    row.number,
                    f"'{type_text}' row dropped: {entry.parsed.reason}",
                )
            elif entry.kind is Kind.DROPPED:
                self.findings.note(
                    SURVEY_SHEET,
                    row.number,
                    f"'{type_text}' question '{name}' dropped: {entry.parsed.reason}; "
                    f"respondents are not asked it",
                )
            entries.append(entry)
        return entries

    def _match_groups(self, entries: list[_Entry]) -> None:
        open_blocks: list[_Entry] = []
        for entry in entries:
            if entry.kind in {Kind.END_GROUP, Kind.END_REPEAT}:
                begin = Kind.BEGIN_GROUP if entry.kind is Kind.END_GROUP else Kind.BEGIN_REPEAT
                if open_blocks and open_blocks[-1].kind is begin:
                    open_blocks.pop().last_row = entry.number
                    continue
                still_open = (
                    f" ('{open_blocks[-1].kind.value}' on row {open_blocks[-1].number} is still "
                    f"open)"
                    if open_blocks
                    else ""
                )
                self._fail(
                    entry,
                    "type",
                    f"'{entry.kind.value}' without a matching '{begin.value}'{still_open}",
                )
                continue
            entry.repeat = next(
                (block for block in open_blocks if block.kind is Kind.BEGIN_REPEAT),
                None,
            )
            entry.groups = tuple(block for block in open_blocks if block.kind is Kind.BEGIN_GROUP)
            if entry.kind in {Kind.BEGIN_GROUP, Kind.BEGIN_REPEAT}:
                open_blocks.append(entry)
        for block in open_blocks:
            end = "end group" if block.kind is Kind.BEGIN_GROUP else "end repeat"
            self._fail(block, "type", f"'{block.kind.value}' is never closed by '{end}'")
        for entry in entries:
            if entry.kind is Kind.BEGIN_REPEAT and entry.repeat is not None:
                self._fail(
                    entry,
                    "type",
                    f"a repeat inside a repeat (row {entry.repeat.number}) is not supported: "
                    f"ask the inner questions for each repetition of the outer one instead",
                )

    def _settle_names(self, entries: list[_Entry]) -> None:
        taken: set[str] = set()
        for entry in entries:
            if entry.kind in {Kind.END_GROUP, Kind.END_REPEAT}:
                continue
            if not entry.name:
                if entry.kind in {
                    Kind.QUESTION,
                    Kind.BEGIN_GROUP,
                    Kind.BEGIN_REPEAT,
                    Kind.CALCULATE,
                }:
                    self._fail(entry, "name", "the row has no name")
                continue
            if entry.name in self.by_name:
                first = self.by_name[entry.name]
                same_parent = [e for e in (first, *self.also_named) if e.name == entry.name]
                if any(_parent(other) is _parent(entry) for other in same_parent):
                    self._fail(
                        entry, "name", f"name '{entry.name}' is already used on row {first.number}"
                    )
                    continue
                # As in ODK: a name need only be unique within its group. `${name}` would be
                # ambiguous, and is refused where it is used.
                self.also_named.append(entry)
                continue
            self.by_name[entry.name] = entry
        named = sorted([*self.by_name.values(), *self.also_named], key=lambda e: e.number)
        for entry in named:
            if entry.kind is Kind.QUESTION and not entry.failed:
                entry.qid = self._unique_id(entry, taken)
                taken.add(entry.qid)
        for entry in named:
            if _is_page(entry) and not entry.failed:
                entry.qid = self._unique_id(entry, taken)
                taken.add(entry.qid)

    def _unique_id(self, entry: _Entry, taken: set[str]) -> str:
        candidate = identifier(entry.name, fallback="q")
        unique, counter = candidate, 1
        while unique in taken:
            counter += 1
            unique = f"{candidate}_{counter}"
        first = self.by_name.get(entry.name)
        if first is not None and first is not entry:
            what = _what(entry)
            self.findings.note(
                SURVEY_SHEET,
                entry.number,
                f"{what} name '{entry.name}' is also used on row {first.number}, in another "
                f"group (as ODK allows); this one is '{unique}' in the survey",
            )
        elif unique != entry.name:
            what = _what(entry)
            self.findings.note(
                SURVEY_SHEET,
                entry.number,
                f"{what} name '{entry.name}' renamed to '{unique}' (ids are lower-case letters, "
                f"digits and _, unique in the survey)",
            )
        return unique

    # ----------------------------------------------------------------- one row

    def _build(self, entry: _Entry) -> None:
        if entry.kind is Kind.BEGIN_GROUP:
            self._build_group(entry)
            return
        if entry.kind is Kind.BEGIN_REPEAT:
            self._build_group(entry)
            self._build_repeat(entry)
            return
        label = self._text(entry, "label")
        base = entry.parsed.base
        pictures, sounds, media = (
            self.media.taken(
                entry.row, self.sheet.columns, self.languages, self.findings, SURVEY_SHEET
            )
            if self.media is not None
            else (None, None, [])
        )
        media += [
            entry.row.get(column.header)
            for column in self.sheet.columns
            if column.base in _MEDIA_COLUMNS
            and (self.media is None or column.base not in TAKEN_COLUMNS)
            and entry.row.get(column.header)
        ]
        if label is None and (pictures or sounds):
            label = {self.languages.default: entry.name}
            files = sorted({*(pictures or {}).values(), *(sounds or {}).values()})
            self.findings.note(
                SURVEY_SHEET,
                entry.number,
                f"warning: {'note' if base == 'note' else 'question'} '{entry.name}' is only a "
                f"picture or sound ({', '.join(files)}): it is shown with its name "
                f"'{entry.name}' as its text: give it a label",
            )
        if label is None and media and base == "note":
            # Pictures and sounds are not shown: a note that is only a picture says nothing.
            entry.parsed = replace(entry.parsed, kind=Kind.DROPPED)
            self.findings.note(
                SURVEY_SHEET,
                entry.number,
                f"note '{entry.name}' dropped: it only shows a picture or sound "
                f"({', '.join(media)}), which is not shown",
            )
            return
        named_only = label is None and bool(media)
        if named_only:
            label = {self.languages.default: entry.name}
            self.findings.note(
                SURVEY_SHEET,
                entry.number,
                f"warning: question '{entry.name}' is asked only with a picture or sound "
                f"({', '.join(media)}), which is not shown; respondents see its name "
                f"'{entry.name}' instead: give it a label",
            )
        if label is None:
            self._fail(entry, "label", "the question has no label in any language")
        question: dict[str, Any] = {"id": entry.qid, "type": base, "label": label}
        if pictures:
            question["image"] = pictures
        if sounds:
            question["audio"] = sounds
        hint = self._text(entry, "hint")
        if hint is not None:
            question["hint"] = hint
        if base != "note" and self._required(entry):
            if named_only:
                # Respondents cannot see what is asked: insisting on an answer would force a guess.
                self.findings.note(
                    SURVEY_SHEET,
                    entry.number,
                    f"question '{entry.name}' is no longer required: what it asks is only in "
                    f"its picture or sound, which is not shown",
                )
            else:
                question["required"] = True
        appearances = without_search(self._cell(entry, "appearance")).split()
        if base in {"select_one", "select_multiple"}:
            self._build_select(entry, question)
        elif base == "range":
            self._build_range(entry, question)
            if "rating" in appearances:
                appearances.remove("rating")  # stars: how a rating scale is shown anyway
        elif base == "text" and "multiline" in appearances:
            question["type"] = "longtext"
            appearances.remove("multiline")
        if base == "text" and label is not None:
            asked = asks_for_identity([*label.values(), entry.name.replace("_", " ")])
            if asked is not None:
                self.findings.note(
                    SURVEY_SHEET,
                    entry.number,
                    f"warning: text question '{entry.name}' seems to ask for {asked}, which "
                    f"identifies the respondent and the answers they give; remove it or ask "
                    f"for less (a region, not an address)",
                )
        elif base == "date":
            for appearance, precision in (("month-year", "month"), ("year", "year")):
                if appearance in appearances:
                    question["precision"] = precision
                    appearances.remove(appearance)
        elif base == "acknowledge":
            self.acknowledged.add(entry.name)
        for appearance in appearances:
            self.findings.note(
                SURVEY_SHEET,
                entry.number,
                f"appearance '{appearance}' is not supported and was ignored",
            )
        if self._cell(entry, "default"):
            self.findings.note(
                SURVEY_SHEET,
                entry.number,
                f"default '{self._cell(entry, 'default')}' ignored: answers start empty",
            )
        if self._cell(entry, "parameters") and base != "range" and entry.parsed.source != "file":
            self.findings.note(
                SURVEY_SHEET,
                entry.number,
                f"parameters '{self._cell(entry, 'parameters')}' ignored",
            )
        if self._cell(entry, "choice_filter") and base not in {
            "select_one",
            "select_multiple",
        }:
            self.findings.note(
                SURVEY_SHEET,
                entry.number,
                "choice_filter ignored: the question has no choices",
            )
        entry.question = question

    def _build_group(self, entry: _Entry) -> None:
        title = self._text(entry, "label")
        entry.question = {"id": entry.qid}
        if title is not None:
            entry.question["title"] = title
        hint = self._text(entry, "hint")
        if hint is not None:
            entry.question["intro"] = hint  # shown under the page title, as ODK shows it
        for appearance in self._cell(entry, "appearance").split():
            if appearance != "field-list":  # each page already shows its questions together
                self.findings.note(
                    SURVEY_SHEET,
                    entry.number,
                    f"appearance '{appearance}' is not supported and was ignored",
                )

    def _build_repeat(self, entry: _Entry) -> None:
        """How many times the repeat's page is asked: once per option of a loop's list, the
        form's repeat_count, or, for an open-ended repeat, an answer to a question added before
        it (in ODK the respondent adds repetitions one at a time)."""
        question = entry.question
        if entry.parsed.base == "loop":
            list_name = entry.parsed.list_name or ""
            choice_list = self.choices.use(list_name)
            if choice_list is None:
                self._fail(entry, "type", f"choice list '{list_name}' is not in the choices sheet")
                return
            other_row = self.or_other_lists.get(list_name)
            if other_row is not None and "other" not in choice_list.values:
                # As pyxform reads it: `or_other` added the option to the list looped over.
                choice_list = self.choices.with_other(list_name) or choice_list
                self.findings.note(
                    SURVEY_SHEET,
                    entry.number,
                    f"'or_other' on row {other_row} adds the option 'other' to list "
                    f"'{list_name}', so, as in ODK, the loop is asked for 'Other' too",
                )
            if len(choice_list.values) > MAX_REPETITIONS:
                self._fail(
                    entry,
                    "type",
                    f"a loop over {len(choice_list.values)} options: at most {MAX_REPETITIONS}",
                )
                return
            question["repeat_over"] = choice_list.key
            return
        written = self._cell(entry, "repeat_count").strip()
        if not written:
            self._open_ended(entry)
            return
        number = _whole(written)
        if number is None:
            target = self.by_name.get(written[2:-1]) if _SINGLE_REFERENCE.match(written) else None
            if target is not None and target.kind is Kind.CALCULATE:
                number = _whole(self._cell(target, "calculation").strip())
                if number is not None:
                    self.findings.note(
                        SURVEY_SHEET,
                        entry.number,
                        f"repeat_count ${{{target.name}}} is the calculation "
                        f"`{self._cell(target, 'calculation')}` (row {target.number}): the "
                        f"repeat is asked {number} times",
                    )
            elif target is not None and target.kind is Kind.QUESTION:
                self._answered_count(entry, target)
                return
        if number is None:
            # Any other expression of earlier answers (`${adults} + ${children}`): read as
            # written, and bounded.
            question["repeat_max"] = DEFAULT_REPETITIONS
            self.findings.note(
                SURVEY_SHEET,
                entry.number,
                f"warning: repeat_count `{written}` is asked at most {DEFAULT_REPETITIONS} "
                f"times: when it comes to more, respondents answer {DEFAULT_REPETITIONS} "
                f"repetitions, not all (give the questions it uses a max, or change "
                f"repeat_max in the survey file)",
            )
        elif not 1 <= number <= MAX_REPETITIONS:
            self._fail(
                entry,
                "repeat_count",
                f"repeat_count {number}: a repeat is asked from 1 to {MAX_REPETITIONS} times",
            )
        else:
            question["repeat_count"] = number

    def _answered_count(self, entry: _Entry, target: _Entry) -> None:
        if target.parsed.base != "integer" or target.repeat is not None or target.failed:
            self._fail(
                entry,
                "repeat_count",
                f"repeat_count ${{{target.name}}} must be an integer question outside any repeat "
                f"(row {target.number})",
            )
            return
        if target.number > entry.number:
            self._fail(
                entry,
                "repeat_count",
                f"repeat_count ${{{target.name}}} is asked later (row {target.number})",
            )
            return
        top = target.question.get("max")
        if not isinstance(top, int) or top > MAX_REPETITIONS:
            target.question["max"] = DEFAULT_REPETITIONS
            low = target.question.get("min")
            if isinstance(low, int) and low > DEFAULT_REPETITIONS:
                self._fail(entry, "repeat_count", f"${{{target.name}}} asks for more than it can")
                return
            self.findings.note(
                SURVEY_SHEET,
                target.number,
                f"question '{target.name}' sets how many times the repeat on row {entry.number} "
                f"is asked: answers above {DEFAULT_REPETITIONS} are now refused (max "
                f"{DEFAULT_REPETITIONS}, was {'none' if top is None else top}), so that no "
                f"respondent is asked more repetitions than the survey holds",
            )
        entry.question["repeat_count"] = "${" + target.qid + "}"

    def _open_ended(self, entry: _Entry) -> None:
        """An open-ended repeat: ask first how many times (at most DEFAULT_REPETITIONS)."""
        taken = {e.qid for e in (*self.by_name.values(), *self.also_named)}
        count_id, suffix = f"{entry.qid}_count", 1
        while count_id in taken:
            suffix += 1
            count_id = f"{entry.qid}_count_{suffix}"
        title = entry.question.get("title") or {self.languages.default: entry.name}
        default = self.languages.default
        shown = title.get(default) or next(iter(title.values()))
        label = {default: f'How many times will you answer "{shown}"?'}
        self.count_pages[entry.number] = {
            "id": count_id,
            "questions": [
                {
                    "id": count_id,
                    "type": "integer",
                    "label": label,
                    "min": 0,
                    "max": DEFAULT_REPETITIONS,
                }
            ],
        }
        entry.question["repeat_count"] = "${" + count_id + "}"
        others = [code for code in self.languages.codes if code != default]
        untranslated = (
            f"; it is written in '{default}' only: translate it ({', '.join(others)})"
            if others
            else ""
        )
        self.findings.note(
            SURVEY_SHEET,
            entry.number,
            f"warning: repeat '{entry.name}' has no repeat_count: in ODK the respondent adds "
            f"repetitions one at a time, without a limit; here a question '{count_id}' "
            f'("{label[default]}", 0 to {DEFAULT_REPETITIONS}) is asked on its own page '
            f"first and the repeat is asked that many times, at most {DEFAULT_REPETITIONS}"
            f"{untranslated}; reword it or give the repeat a repeat_count",
        )

    def _build_select(self, entry: _Entry, question: dict[str, Any]) -> None:
        question["type"] = "single" if entry.parsed.base == "select_one" else "multiple"
        found = options_list(
            self.choices,
            entry.parsed,
            parameters=self._cell(entry, "parameters"),
            appearance=self._cell(entry, "appearance"),
            row=entry.number,
            fail=lambda column, message: self._fail(entry, column, message),
            add_filter=lambda text: self.search_filters.__setitem__(entry.number, text),
        )
        if found is None:
            entry.failed = True
            return
        list_name = entry.parsed.list_name or ""
        if found != list_name:  # a file's options, or the external_choices sheet's
            entry.parsed = replace(entry.parsed, list_name=found)
            list_name = found
        choice_list = self.choices.use(list_name)
        if choice_list is None:
            self._fail(entry, "type", f"choice list '{list_name}' is not in the choices sheet")
            return
        other_row = self.or_other_lists.get(list_name)
        if other_row is not None and not entry.parsed.other and "other" not in choice_list.values:
            choice_list = self.choices.with_other(list_name) or choice_list
            self.findings.note(
                SURVEY_SHEET,
                entry.number,
                f"'or_other' on row {other_row} adds the option 'other' to list '{list_name}', "
                f"so, as in ODK, this question offers 'Other' too (without a text box)",
            )
        question["choices"] = choice_list.key
        if entry.parsed.other:
            if "other" in choice_list.values:
                self._fail(
                    entry,
                    "type",
                    f"'or_other' adds an option 'other', but list '{list_name}' already has one",
                )
            other_id = f"{entry.qid}_other"
            clash = next((e for e in self.by_name.values() if e.qid == other_id), None)
            if clash is not None:
                self._fail(
                    entry,
                    "type",
                    f"the text of 'or_other' is stored as '{other_id}', which is the "
                    f"question on row {clash.number}",
                )
            question["other"] = True

    def _build_range(self, entry: _Entry, question: dict[str, Any]) -> None:
        parameters = _range_parameters(self._cell(entry, "parameters"))
        if isinstance(parameters, str):
            self._fail(entry, "parameters", parameters)
            return
        start, end, step = parameters["start"], parameters["end"], parameters["step"]
        if step <= 0 or end < start:
            self._fail(
                entry,
                "parameters",
                f"range from {start:g} to {end:g} in steps of {step:g} does not count upwards",
            )
            return
        whole = all(float(value).is_integer() for value in (start, end, step))
        if whole and start == 1 and step == 1 and int(end) in _RATING_POINTS:
            question.update(type="rating", scale=int(end))
            message = f"range 1-{int(end)} converted to a rating scale of {int(end)} points"
        elif whole:
            question.update(type="integer", min=int(start), max=int(end))
            message = f"range {start:g}-{end:g} converted to a whole number between them"
            if step != 1:
                message += f" (steps of {step:g} are not enforced)"
        else:
            question.update(type="decimal", min=start, max=end)
            message = (
                f"range {start:g}-{end:g} converted to a number between them "
                f"(steps of {step:g} are not enforced)"
            )
        self.findings.note(SURVEY_SHEET, entry.number, message)

    def _required(self, entry: _Entry) -> bool:
        text = self._cell(entry, "required").strip().lower()
        if not text or text in _FALSE:
            return False
        if text in _TRUE:
            return True
        self._fail(
            entry,
            "required",
            f"required '{self._cell(entry, 'required')}' must be yes or no (conditional "
            f"required is not supported)",
        )
        return False

    # ----------------------------------------------------------------- expressions

    def _parse_expressions(self, entry: _Entry) -> None:
        columns = ["relevant"]
        if entry.kind is Kind.BEGIN_REPEAT and "repeat_max" in entry.question:
            columns.append("repeat_count")
        if entry.kind is Kind.QUESTION and entry.parsed.base != "note":
            columns.append("constraint")
            if entry.parsed.base in {"select_one", "select_multiple"}:
                columns.append("choice_filter")
        for column in columns:
            written = self._cell(entry, column)
            if column == "choice_filter" and entry.number in self.search_filters:
                searched = self.search_filters[entry.number]
                written = f"({written}) and ({searched})" if written else searched
            if not written:
                continue
            source = written.translate(_CURLY_QUOTES)
            if source != written:
                self.findings.note(
                    SURVEY_SHEET,
                    entry.number,
                    f"curly quotes in {column} replaced by straight quotes",
                )
            try:
                expression = parse(source, allow_bare_names=column == "choice_filter")
            except ExpressionError as error:
                self._fail(
                    entry,
                    column,
                    f"{column} `{source}`: {error.message} at position {error.position}",
                )
                continue
            if column != "constraint" and expression.uses_current():
                self._fail(
                    entry,
                    column,
                    f"{column} `{source}`: '.' (this question's answer) can only be "
                    f"used in a constraint",
                )
                continue
            if column == "choice_filter":
                kept = self._check_filter_names(entry, source, expression)
                if kept is not None:
                    kept = self._filter_merged_options(entry, *kept)
                if kept is None:
                    continue
                source, expression = kept
            entry.expressions[column] = (source, expression)

    def _check_filter_names(
        self, entry: _Entry, source: str, expression: Expression
    ) -> tuple[str, Expression] | None:
        """The choice_filter as the survey keeps it, or None when it is refused.

        A bare name that is no column of the choices sheet is, in ODK, a path to nothing: any
        comparison with it is false. Such a comparison is written `false()` and a warning says
        what that does (no option offered, usually a missing pair of quotes)."""
        known = set(self.choices.extra_keys) | {"name"}
        unknown = expression.bare_names() - known
        if not unknown:
            return source, expression
        comparisons = [
            node
            for node in _nodes(expression.root)
            if isinstance(node, Binary)
            and node.operator in _COMPARISONS
            and any(
                isinstance(side, BareName) and side.name in unknown
                for side in (node.left, node.right)
            )
        ]
        spans = [_leaf_span(source, node) for node in comparisons]
        compared = {
            side.name
            for node in comparisons
            for side in (node.left, node.right)
            if isinstance(side, BareName)
        }
        elsewhere = [
            node.name
            for node in _nodes(expression.root)
            if isinstance(node, BareName)
            and node.name in unknown
            and not any(node is side for c in comparisons for side in (c.left, c.right))
        ]
        if elsewhere or None in spans or not unknown <= compared:
            for name in sorted(unknown):
                self._fail(
                    entry,
                    "choice_filter",
                    f"choice_filter `{source}` uses '{name}', which is not a column of the "
                    f"choices sheet",
                )
            return None
        rewritten = source
        for start, end in sorted((span for span in spans if span), reverse=True):
            rewritten = rewritten[:start] + "false()" + rewritten[end:]
        parsed = parse(rewritten, allow_bare_names=True)
        names = ", ".join(f"'{name}'" for name in sorted(unknown))
        self.findings.note(
            SURVEY_SHEET,
            entry.number,
            f"warning: choice_filter `{source}` compares with {names}, which "
            f"{'is not a column' if len(unknown) == 1 else 'are not columns'} of the choices "
            f"sheet: as in ODK, such a comparison is never true, so it reads `{rewritten}` and "
            f"{_effect('choice_filter', entry, parsed)}; if {names} is meant as text, put it in "
            f"quotes",
        )
        return rewritten, parsed

    def _filter_merged_options(
        self, entry: _Entry, source: str, expression: Expression
    ) -> tuple[str, Expression] | None:
        """`key = ${q}` becomes `selected(key, ${q})` where options merged from duplicates
        hold several values of `key`, so each merged option is offered whenever one of the
        options it stands for would have been; any other use of such a key is refused."""
        choice_list = self.choices.lists.get(entry.parsed.list_name or "")
        if choice_list is None or not choice_list.merged_keys:
            return source, expression
        headers = {h for h, k in self.choices.extra_keys.items() if k in choice_list.merged_keys}
        if not expression.bare_names() & headers:
            return source, expression
        edits: list[tuple[int, int, str]] = []
        handled: set[int] = set()
        for node in _nodes(expression.root):
            if not isinstance(node, Binary) or node.operator != "=":
                continue
            sides = (node.left, node.right)
            keys = [side for side in sides if isinstance(side, BareName) and side.name in headers]
            span = _leaf_span(source, node)
            if len(keys) != 1 or span is None:
                continue
            other = node.right if keys[0] is node.left else node.left
            other_end = _leaf_end(source, other)
            if isinstance(other, BareName) or other_end is None:
                continue
            handled.add(id(keys[0]))
            edits.append(
                (
                    *span,
                    f"selected({keys[0].name}, {source[other.position : other_end]})",
                )
            )
        left = [
            node.name
            for node in _nodes(expression.root)
            if isinstance(node, BareName) and node.name in headers and id(node) not in handled
        ]
        if left:
            self._fail(
                entry,
                "choice_filter",
                f"choice_filter `{source}` uses '{left[0]}', which options merged from "
                f"duplicates in list '{choice_list.name}' hold several values of; only "
                f"`{left[0]} = ${{question}}` can be kept",
            )
            return None
        rewritten = source
        for start, end, text in sorted(edits, reverse=True):
            rewritten = rewritten[:start] + text + rewritten[end:]
        self.findings.note(
            SURVEY_SHEET,
            entry.number,
            f"choice_filter `{source}` reads `{rewritten}`: options of list "
            f"'{choice_list.name}' merged from duplicates hold each of their values",
        )
        return rewritten, parse(rewritten, allow_bare_names=True)

    def _rewrite_dropped_references(self, entries: list[_Entry]) -> None:
        """`${x}` of a dropped row reads as the empty answer it now always has; each rewrite
        is named in a note with what it does to respondents, so no expression refers to a
        question that is not in the survey and no condition changes silently."""
        for entry in entries:
            if not entry.converted:
                continue
            for column, (source, expression) in list(entry.expressions.items()):
                dropped = sorted(name for name in expression.references() if self._dropped(name))
                if not dropped:
                    continue
                edits = [
                    (node.position, len(node.name) + 3)
                    for node in _nodes(expression.root)
                    if isinstance(node, Reference) and node.name in dropped
                ]
                rewritten = source
                for position, length in sorted(edits, reverse=True):
                    rewritten = rewritten[:position] + "''" + rewritten[position + length :]
                parsed = parse(rewritten, allow_bare_names=column == "choice_filter")
                entry.expressions[column] = (rewritten, parsed)
                names = ", ".join(
                    f"${{{name}}} (row {self.by_name[name].number})" for name in dropped
                )
                self.findings.note(
                    SURVEY_SHEET,
                    entry.number,
                    f"{column} `{source}` used {names}, which {'was' if len(dropped) == 1 else 'were'}"
                    f" dropped; it now reads {'it' if len(dropped) == 1 else 'them'} as "
                    f"unanswered: `{rewritten}`, so {_effect(column, entry, parsed)}",
                )

    def _refuse_position_outside_repeats(self, entries: list[_Entry]) -> None:
        """`position(..)` is the repetition's number inside a repeat; elsewhere it means
        nothing the survey can compute, so the row is refused."""
        for entry in entries:
            if not entry.converted:
                continue
            for column, (source, expression) in entry.expressions.items():
                inside = (entry.repeat is not None) or (
                    entry.kind is Kind.BEGIN_REPEAT and column == "relevant"
                )
                if expression.uses_position() and not inside:
                    self._fail(
                        entry,
                        column,
                        f"{column} `{source}` uses position(..), the number of the repetition, "
                        f"which has a meaning only inside a repeat",
                    )

    def _dropped(self, name: str) -> bool:
        target = self.by_name.get(name)
        return target is not None and target.kind in {Kind.METADATA, Kind.DROPPED}

    def _settle_calculations(self, entries: list[_Entry]) -> None:
        """Drop calculations nothing uses; compute the others where they are used.

        A calculation is not stored: each `${calc}` in a relevant, constraint or choice_filter
        is replaced by the calculation itself, read as ODK stores a calculated value (as text,
        empty when it cannot be computed), so the condition means what it meant."""
        users: dict[str, list[_Entry]] = {}
        text_users: dict[str, list[_Entry]] = {}
        for entry in entries:
            entry.calculation_references = frozenset(
                _CALCULATION_REFERENCE.findall(self._cell(entry, "calculation"))
            )
            names = set(entry.calculation_references)
            for _, expression in entry.expressions.values():
                names |= expression.references()
            for name in names - {entry.name}:
                users.setdefault(name, []).append(entry)
            if entry.converted and entry.kind is Kind.QUESTION:
                for name in {
                    name
                    for column in self.sheet.columns
                    if column.base in {"label", "hint"}
                    for name in _PIPED.findall(entry.row.get(column.header))
                }:
                    text_users.setdefault(name, []).append(entry)
        calculations = {e.name: e for e in self.by_name.values() if e.kind is Kind.CALCULATE}
        by_expressions = _unused(calculations, users)
        # A label may only show a calculation the survey can compute; any other stays unused
        # (dropped with a note, the text showing it as written) rather than refusing the form.
        computable = {
            name: shown
            for name, shown in text_users.items()
            if name in calculations and self._computable(name, calculations, ())
        }
        unused = _unused(calculations, _joined(users, computable))
        # Kept for the labels and hints that insert them; dropped with a note if none can.
        self.text_only = by_expressions - unused
        for name, entry in calculations.items():
            if name in unused:
                self.findings.note(SURVEY_SHEET, entry.number, self._unused_message(entry, entries))
        inlined = self.inlined
        for name in sorted(set(calculations) - unused):
            self._inline(name, calculations, inlined, ())
        for entry in entries:
            if not entry.converted:
                continue
            for column, (source, expression) in list(entry.expressions.items()):
                used = sorted(n for n in expression.references() if n in calculations)
                if not used or any(inlined.get(n) is None for n in used):
                    continue  # refused below: the calculation could not be computed
                rewritten = _replace_references(source, expression, inlined)
                if len(rewritten) > _MAX_INLINED:
                    self._fail(
                        entry,
                        column,
                        f"{column} uses calculations nested too deeply to compute "
                        f"({len(rewritten)} characters once written out)",
                    )
                    continue
                parsed = parse(rewritten, allow_bare_names=column == "choice_filter")
                entry.expressions[column] = (rewritten, parsed)
                listed = ", ".join(f"${{{n}}} (row {calculations[n].number})" for n in used)
                self.findings.note(
                    SURVEY_SHEET,
                    entry.number,
                    f"{column} `{source}` uses the calculation{'s' if len(used) > 1 else ''} "
                    f"{listed}, computed here from the answers: `{rewritten}`",
                )

    def _computable(
        self, name: str, calculations: dict[str, _Entry], chain: tuple[str, ...]
    ) -> bool:
        """Whether the calculation `name` can be written out in the survey's expressions."""
        if name in chain:
            return False
        try:
            expression = parse(
                self._cell(calculations[name], "calculation").translate(_CURLY_QUOTES)
            )
        except ExpressionError:
            return False
        return all(
            self._computable(used, calculations, (*chain, name))
            for used in expression.references() & calculations.keys()
        )

    def _inline(
        self,
        name: str,
        calculations: dict[str, _Entry],
        inlined: dict[str, str | None],
        chain: tuple[str, ...],
    ) -> str | None:
        """The calculation `name` written out as an expression over answers, or None (refused)."""
        if name in inlined:
            return inlined[name]
        entry = calculations[name]
        if name in chain:
            cycle = " -> ".join(f"${{{n}}}" for n in (*chain[chain.index(name) :], name))
            self._fail(
                entry,
                "calculation",
                f"calculations use each other in a circle: {cycle}",
            )
            inlined[name] = None
            return None
        written = self._cell(entry, "calculation")
        source = written.translate(_CURLY_QUOTES)
        try:
            expression = parse(source)
        except ExpressionError as error:
            self._fail(
                entry,
                "calculation",
                f"calculation `{source}`: {error.message} at position {error.position}",
            )
            inlined[name] = None
            return None
        parts: dict[str, str | None] = {}
        for used in expression.references() & calculations.keys():
            parts[used] = self._inline(used, calculations, inlined, (*chain, name))
        if any(part is None for part in parts.values()):
            inlined[name] = None
            return None
        body = _replace_references(source, expression, parts)
        # As ODK stores a calculated value: text, and empty when it is not a number (NaN).
        value = f"int({body})" if entry.parsed.base == "integer" else f"({body})"
        inlined[name] = f"if({value} = {value}, string({value}), '')"
        return inlined[name]

    def _unused_message(self, entry: _Entry, entries: list[_Entry]) -> str:
        if entry.computed:
            return (
                f"question '{entry.name}' is computed from other answers (calculation "
                f"`{self._cell(entry, 'calculation')}`), not asked: dropped, so respondents do "
                f"not see its value (compute it in the report if it is needed)"
                + self._shown_in_text(entries, entry.name)
            )
        return (
            f"calculation '{entry.name}' dropped: no question uses it "
            f"(compute it in the report if it is needed)" + self._shown_in_text(entries, entry.name)
        )

    def _shown_in_text(self, entries: list[_Entry], name: str) -> str:
        """Where a label or hint inserts `${name}`, which respondents will see as written."""
        piece = f"${{{name}}}"
        rows = [
            str(entry.number)
            for entry in entries
            if entry.converted
            and any(
                piece in entry.row.get(column.header)
                for column in self.sheet.columns
                if column.base in {"label", "hint"}
            )
        ]
        if not rows:
            return ""
        return f"; the text on row{'s' if len(rows) > 1 else ''} {', '.join(rows)} shows {piece} as written"

    def _refuse_unusable_references(self, entries: list[_Entry]) -> None:
        """Refuse rows whose expressions use a dropped or refused row, until none is left."""
        reported: set[tuple[int, str, str]] = set()
        changed = True
        while changed:
            changed = False
            for entry in entries:
                if not entry.converted:
                    continue
                for column, (_, expression) in entry.expressions.items():
                    for name in sorted(expression.references()):
                        reason = self._unusable(name, entry)
                        key = (entry.number, column, name)
                        if reason is None or key in reported:
                            continue
                        reported.add(key)
                        changed = changed or not entry.failed
                        self._fail(entry, column, f"{column} uses ${{{name}}}, which {reason}")

    def _unusable(self, name: str, user: _Entry) -> str | None:
        """Why `user`'s expressions cannot use `${name}`, or None if they can."""
        target = self.by_name.get(name)
        others = [entry.number for entry in self.also_named if entry.name == name]
        if target is not None and others:
            rows = ", ".join(str(row) for row in (target.number, *others))
            return f"names rows {rows} (in different groups), so which one is meant is unclear"
        if target is None:
            return "is not a question in this form"
        if target.repeat is not None and target.repeat is not user.repeat:
            return (
                f"is inside the repeat on row {target.repeat.number}: each repetition has its "
                f"own answer, so which one is meant is unclear"
            )
        if target.kind is Kind.METADATA:
            return f"is dropped (identifying metadata, row {target.number})"
        if target.kind is Kind.BEGIN_GROUP:
            return f"is a group (row {target.number}), not a question"
        if target.failed or target.kind is not Kind.QUESTION:
            return f"cannot be converted (row {target.number})"
        if target.parsed.base == "note":
            return f"is a note (row {target.number}), which has no answer"
        return None

    # ----------------------------------------------------------------- pages

    def _assemble(self, entries: list[_Entry]) -> list[dict[str, Any]]:
        pages: list[dict[str, Any]] = []
        group_pages: dict[int, dict[str, Any]] = {}
        repeat_pages: dict[int, dict[str, Any]] = {}
        interrupted: set[int] = set()  # groups a repeat split: what follows is a new page
        loose: dict[str, Any] | None = None
        for entry in entries:
            if not entry.converted:
                continue
            if entry.kind is Kind.BEGIN_REPEAT:
                page = dict(entry.question)
                if "repeat_max" in page:
                    page["repeat_count"] = self._expression(entry, "repeat_count")
                relevant = self._conjoined([*entry.groups, entry])
                count_page = self.count_pages.get(entry.number)
                if count_page is not None:
                    if entry.groups:
                        count_page["relevant"] = self._conjoined(list(entry.groups))
                        if count_page["relevant"] is None:
                            del count_page["relevant"]
                    pages.append(count_page)
                if relevant is not None:
                    page["relevant"] = relevant
                page["questions"] = []
                pages.append(page)
                repeat_pages[entry.number] = page
                if entry.groups:
                    interrupted.add(entry.groups[0].number)
                loose = None
                continue
            if entry.kind is Kind.BEGIN_GROUP:
                if entry.groups or entry.repeat is not None:
                    self._note_flattened(entry)
                    continue
                page = dict(entry.question)
                relevant = self._expression(entry, "relevant")
                if relevant is not None:
                    page["relevant"] = relevant
                page["questions"] = []
                pages.append(page)
                group_pages[entry.number] = page
                loose = None
                continue
            if entry.repeat is not None:
                page = repeat_pages[entry.repeat.number]
                inner = [g for g in entry.groups if g.number > entry.repeat.number]
                page["questions"].append(self._question(entry, inner))
                continue
            if entry.groups:
                top = entry.groups[0].number
                if top in interrupted:
                    # The rest of a group after a repeat inside it: a page of its own.
                    interrupted.discard(top)
                    first = group_pages[top]
                    group_pages[top] = {
                        **{k: v for k, v in first.items() if k not in {"id", "questions"}},
                        "id": "",
                        "questions": [],
                    }
                    pages.append(group_pages[top])
                page = group_pages[top]
            else:
                if loose is None:
                    loose = {"id": "", "questions": []}
                    pages.append(loose)
                page = loose
            page["questions"].append(self._question(entry, list(entry.groups[1:])))
        self._name_loose_pages(pages)
        return self._without_empty_pages(pages, entries)

    def _conjoined(self, entries: list[_Entry]) -> str | None:
        """The relevant of every entry given, all of which must hold."""
        written = [c for c in (self._expression(e, "relevant") for e in entries) if c is not None]
        if not written:
            return None
        if len(written) == 1:
            return written[0]
        return " and ".join(f"({condition})" for condition in written)

    def _question(self, entry: _Entry, groups: list[_Entry]) -> dict[str, Any]:
        question = dict(entry.question)
        conditions = [self._expression(group, "relevant") for group in groups]
        conditions.append(self._expression(entry, "relevant"))
        written = [condition for condition in conditions if condition is not None]
        if len(written) == 1:
            question["relevant"] = written[0]
        elif written:
            question["relevant"] = " and ".join(f"({condition})" for condition in written)
        for column in ("constraint", "choice_filter"):
            expression = self._expression(entry, column)
            if expression is not None:
                question[column] = expression
        if "constraint" in question:
            message = self._text(entry, "constraint_message")
            if message is not None:
                question["constraint_message"] = message
        return {key: question[key] for key in _QUESTION_KEYS if key in question}

    def _name_loose_pages(self, pages: list[dict[str, Any]]) -> None:
        taken = {page["id"] for page in pages} | {
            e.qid for e in (*self.by_name.values(), *self.also_named)
        }
        for number, page in enumerate(pages, start=1):
            if not page["id"]:
                candidate, suffix = f"page_{number}", 1
                while candidate in taken:
                    suffix += 1
                    candidate = f"page_{number}_{suffix}"
                page["id"] = candidate
                taken.add(candidate)

    def _without_empty_pages(
        self, pages: list[dict[str, Any]], entries: list[_Entry]
    ) -> list[dict[str, Any]]:
        rows = {entry.qid: entry for entry in entries if _is_page(entry)}
        kept: list[dict[str, Any]] = []
        for page in pages:
            if page["questions"]:
                kept.append(page)
            elif page["id"] in rows:
                entry = rows[page["id"]]
                self.findings.note(
                    SURVEY_SHEET,
                    entry.number,
                    f"{_what(entry)} '{page['id']}' dropped: none of its rows were converted",
                )
                if kept and kept[-1] is self.count_pages.get(entry.number):
                    kept.pop()  # nothing is left to count
        self._settle_acknowledgements(kept, entries)
        return kept

    def _settle_acknowledgements(self, pages: list[dict[str, Any]], entries: list[_Entry]) -> None:
        """The first `acknowledge` on the first page becomes the consent question."""
        rows = {entry.qid: entry.number for entry in entries if entry.kind is Kind.QUESTION}
        consent_given = False
        for index, page in enumerate(pages):
            for question in page["questions"]:
                if question["type"] != "acknowledge":
                    continue
                row = rows[question["id"]]
                conditional = "relevant" in question or "constraint" in question
                if index == 0 and not consent_given and not conditional:
                    consent_given = True
                    question["type"] = "consent"
                    # A consent question is always asked and always answered.
                    question.pop("required", None)
                    self.findings.note(
                        SURVEY_SHEET,
                        row,
                        "acknowledge converted to the consent question: it asks yes or no, "
                        "and 'no' ends the survey without storing anything; check that the "
                        "label reads as a yes/no question",
                    )
                else:
                    question["type"] = "yesno"
                    self.findings.note(
                        SURVEY_SHEET,
                        row,
                        "acknowledge converted to a yes/no question (only one acknowledge can "
                        "become the consent question: on the first page, with no relevant "
                        "or constraint)",
                    )

    def _note_flattened(self, entry: _Entry) -> None:
        repeat = entry.repeat
        if repeat is not None and all(group.number < repeat.number for group in entry.groups):
            message = (
                f"group '{entry.name}' inside {_what(repeat)} '{repeat.name}' flattened into "
                f"its page '{repeat.qid}'"
            )
        else:
            parent = entry.groups[0]
            message = (
                f"group '{entry.name}' inside group '{parent.name}' flattened into page "
                f"'{parent.qid}'"
            )
        if "title" in entry.question:
            message += "; its label is not shown"
        if "intro" in entry.question:
            message += "; its hint is not shown"
        if "relevant" in entry.expressions:
            message += "; its relevant applies to each of its questions"
        self.findings.note(SURVEY_SHEET, entry.number, message)

    def _expression(self, entry: _Entry, column: str) -> str | None:
        """The expression of `column` with question names as the survey file calls them."""
        if column not in entry.expressions:
            return None
        source, expression = entry.expressions[column]
        return self._renamed_expression(source, expression, entry.number, column)

    def _renamed_expression(
        self, source: str, expression: Expression, row: int, column: str
    ) -> str:
        """`source` with question names and choice values as the survey file calls them."""
        ids = {name: target.qid for name, target in self.by_name.items() if target.qid}
        bare = dict(self.choices.extra_keys, name="value")
        renamed = {
            name: self.choices.lists[target.parsed.list_name].renamed
            for name, target in self.by_name.items()
            if target.parsed.list_name in self.choices.lists
            and self.choices.lists[target.parsed.list_name].renamed
        }
        edits = list(_edits(expression.root, ids, bare, self.acknowledged))
        edits += _renamed_values(expression.root, renamed)
        for position, length, replacement in sorted(edits, reverse=True):
            source = source[:position] + replacement + source[position + length :]
        if any(
            isinstance(node, Binary | Call) and _is_acknowledgement(node, self.acknowledged)
            for node in _nodes(expression.root)
        ):
            self.findings.note(
                SURVEY_SHEET,
                row,
                f"{column}: '{_ACKNOWLEDGED}' of an acknowledge question replaced by 'yes'",
            )
        parse(source, allow_bare_names=column == "choice_filter")  # the edits keep it valid
        return source

    # ----------------------------------------------------------------- helpers

    def _note_ignored_columns(self, entries: list[_Entry]) -> None:
        for column in self.sheet.columns:
            if column.base in _READ_COLUMNS:
                continue
            rows = [
                entry.number
                for entry in entries
                if entry.converted and entry.row.get(column.header)
            ]
            if rows:
                shown = ", ".join(str(row) for row in rows[:12])
                more = f" and {len(rows) - 12} more" if len(rows) > 12 else ""
                self.findings.note(
                    SURVEY_SHEET,
                    None,
                    f"column '{column.header}' is not supported and was ignored "
                    f"(row{'s' if len(rows) > 1 else ''} {shown}{more})",
                )

    def _text(self, entry: _Entry, base: str) -> dict[str, str] | None:
        columns: list[Column] = [c for c in self.sheet.columns if c.base == base]
        text = localised(entry.row, columns, self.languages, self.findings, SURVEY_SHEET)
        if (
            text is not None
            and base == "label"
            and any(_HTML_TAG.search(value) for value in text.values())
        ):
            self.findings.note(
                SURVEY_SHEET,
                entry.number,
                "the label contains HTML, which is shown as plain text",
            )
        if text is not None and base in {"label", "hint"} and entry.kind is Kind.BEGIN_GROUP:
            piped = sorted({name for value in text.values() for name in _PIPED.findall(value)})
            if piped:
                shown = ", ".join(f"${{{name}}}" for name in piped)
                self.findings.note(
                    SURVEY_SHEET,
                    entry.number,
                    f"warning: the group's {base} inserts {shown}; answers are not inserted "
                    f"into a page's title or intro, so respondents see {shown} as written: "
                    f"reword it",
                )
        return text

    def _settle_piping(self, pages: list[dict[str, Any]], entries: list[_Entry]) -> None:
        """`${name}` in a question's label or hint: an answer given on an earlier page is
        inserted (as ODK shows it), under the id it has in the survey; anything else is shown
        as written, with a warning saying why."""
        rows = {entry.qid: entry.number for entry in entries if entry.kind is Kind.QUESTION}
        page_of = {q["id"]: index for index, page in enumerate(pages) for q in page["questions"]}
        for index, page in enumerate(pages):
            for question in page["questions"]:
                for column in ("label", "hint"):
                    text = question.get(column)
                    if not text or not any("${" in value for value in text.values()):
                        continue
                    row = rows[question["id"]]
                    inserted: dict[str, str] = {}
                    computed: list[str] = []
                    for name in sorted({n for v in text.values() for n in _PIPED.findall(v)}):
                        target = self.by_name.get(name)
                        qid = target.qid if target is not None else ""
                        if qid in page_of and page_of[qid] < index and target is not None:
                            inserted[name] = qid
                            continue
                        calculation = self._text_calculation(name, page_of, index)
                        if calculation is not None:
                            inserted[name] = calculation
                            computed.append(name)
                            continue
                        self.findings.note(
                            SURVEY_SHEET,
                            row,
                            f"warning: the {column} inserts ${{{name}}}, which "
                            f"{self._not_insertable(name, qid, page_of, index)}, so respondents "
                            f"see ${{{name}}} as written: reword the {column}",
                        )
                    if not inserted:
                        continue
                    question[column] = _renamed(text, inserted)
                    shown = ", ".join(f"${{{name}}}" for name in inserted if name not in computed)
                    if shown:
                        self.findings.note(
                            SURVEY_SHEET,
                            row,
                            f"the {column} inserts {shown}: respondents see the answer given on "
                            f"an earlier page, as ODK shows it (for a choice, its name, not its "
                            f"label)",
                        )
                    self._keep_for_text(computed)
                    for name in computed:
                        self.findings.note(
                            SURVEY_SHEET,
                            row,
                            f"the {column} inserts the calculation ${{{name}}} (row "
                            f"{self.by_name[name].number}): respondents see it computed from "
                            f"their answers on earlier pages, as ODK shows it: "
                            f"`{self.text_calculations[inserted[name]]}`",
                        )

        for name in sorted(self.text_only):
            entry = self.by_name[name]
            self.findings.note(SURVEY_SHEET, entry.number, self._unused_message(entry, entries))

    def _keep_for_text(self, names: list[str]) -> None:
        """Calculations inserted into a text, and those they use, are not dropped."""
        pending, seen = list(names), set()
        while pending:
            name = pending.pop()
            if name in seen or name not in self.by_name:
                continue
            seen.add(name)
            self.text_only.discard(name)
            pending += self.by_name[name].calculation_references

    def _text_calculation(self, name: str, page_of: dict[str, int], index: int) -> str | None:
        """The survey's id for calculation `name`, inserted into a text on page `index`, or None
        when it cannot be (not a calculation, or it uses answers not given before the page)."""
        target = self.by_name.get(name)
        written = self.inlined.get(name)
        if target is None or target.kind is not Kind.CALCULATE or written is None:
            return None
        expression = parse(written)
        if expression.uses_position():
            return None  # one value for the whole survey: no repetition to number
        used = [self.by_name.get(n) for n in expression.references()]
        if any(
            entry is None or entry.qid not in page_of or page_of[entry.qid] >= index
            for entry in used
        ):
            return None
        renamed = self._renamed_expression(written, expression, target.number, "calculation")
        for calculation_id, existing in self.text_calculations.items():
            if existing == renamed and calculation_id.startswith(identifier(name, fallback="c")):
                return calculation_id
        taken = {e.qid for e in (*self.by_name.values(), *self.also_named) if e.qid}
        taken |= set(self.text_calculations)
        candidate = identifier(name, fallback="c")
        unique, counter = candidate, 1
        while unique in taken:
            counter += 1
            unique = f"{candidate}_{counter}"
        self.text_calculations[unique] = renamed
        return unique

    def _not_insertable(self, name: str, qid: str, page_of: dict[str, int], index: int) -> str:
        target = self.by_name.get(name)
        if target is None:
            return "is not a question of the form"
        if target.kind is Kind.CALCULATE:
            if self.inlined.get(name) is None:
                return "is a calculation that cannot be computed (see its row)"
            if parse(self.inlined[name] or "").uses_position():
                return "is a calculation using position(..), which has no value in a text"
            return (
                "is a calculation that uses an answer not given on an earlier page (only "
                "answers from earlier pages, and calculations of them, are inserted)"
            )
        if qid in page_of and page_of[qid] == index:
            return "is answered on the same page (only answers from earlier pages are inserted)"
        if qid in page_of:
            return "is asked later"
        return "is not in the survey (see its row's note)"

    def _header(self, base: str) -> str | None:
        column = self.sheet.column(base)
        return column.header if column else None

    def _cell(self, entry: _Entry, base: str) -> str:
        header = self._header(base)
        return entry.row.get(header) if header else ""

    def _fail(self, entry: _Entry, column: str | None, message: str) -> None:
        entry.failed = True
        header = self._header(column) if column else None
        self.findings.problem(SURVEY_SHEET, entry.number, header or column, message)


def _is_page(entry: _Entry) -> bool:
    """A group that becomes a page (not one inside another group or a repeat), or a repeat."""
    if entry.kind is Kind.BEGIN_REPEAT:
        return True
    return entry.kind is Kind.BEGIN_GROUP and not entry.groups and entry.repeat is None


def _what(entry: _Entry) -> str:
    if entry.kind is Kind.BEGIN_REPEAT:
        return "loop" if entry.parsed.base == "loop" else "repeat"
    return "group" if entry.kind is Kind.BEGIN_GROUP else "question"


def _whole(text: str) -> int | None:
    return int(text) if re.fullmatch(r"\d{1,6}", text) else None


def _unused(calculations: dict[str, _Entry], users: dict[str, list[_Entry]]) -> set[str]:
    """The calculations that no question uses, even through other calculations."""
    unused = set(calculations)
    changed = True
    while changed:
        changed = False
        for name in sorted(unused):
            if any(
                user.kind is not Kind.CALCULATE or user.name not in unused
                for user in users.get(name, [])
            ):
                unused.discard(name)
                changed = True
    return unused


def _joined(
    first: dict[str, list[_Entry]], second: dict[str, list[_Entry]]
) -> dict[str, list[_Entry]]:
    return {name: [*first.get(name, []), *second.get(name, [])] for name in {*first, *second}}


def _renamed(text: dict[str, str], ids: dict[str, str]) -> dict[str, str]:
    """`text` (by language) with each `${name}` of `ids` written `${id}`."""

    def rename(match: re.Match[str]) -> str:
        return f"${{{ids.get(match.group(1), match.group(1))}}}"

    return {code: _PIPED.sub(rename, value) for code, value in text.items()}


def _parent(entry: _Entry) -> _Entry | None:
    """The group a row is directly in, or None at the top of the form."""
    return entry.groups[-1] if entry.groups else None


def _replace_references(source: str, expression: Expression, values: dict[str, Any]) -> str:
    """`source` with each `${name}` that `values` has replaced by `(value)`."""
    edits = [
        (node.position, len(node.name) + 3, values[node.name])
        for node in _nodes(expression.root)
        if isinstance(node, Reference) and node.name in values
    ]
    for position, length, value in sorted(edits, reverse=True):
        source = source[:position] + f"({value})" + source[position + length :]
    return source


def _effect(column: str, entry: _Entry, expression: Expression) -> str:
    """What a rewritten expression now does to respondents, in words."""
    constant = not (expression.references() or expression.uses_current() or expression.bare_names())
    holds = constant and expression.is_true({})
    if column == "relevant":
        what = "page" if entry.kind is Kind.BEGIN_GROUP else "question"
        if constant:
            return f"this {what} is always shown" if holds else f"respondents never see this {what}"
        return f"this {what} is shown as if that question had been left empty"
    if column == "constraint":
        if constant:
            return "every answer is accepted" if holds else "no answer is accepted"
        return "answers are checked as if that question had been left empty"
    if constant:
        return "every option is offered" if holds else "no option is offered"
    return "options are filtered as if that question had been left empty"


_COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_NUMBER_TEXT = re.compile(r"\d+(?:\.\d*)?|\.\d+")


def _leaf_span(source: str, node: Binary) -> tuple[int, int] | None:
    """Where a comparison of two plain operands (names, text, numbers) is in `source`."""
    ends = [_leaf_end(source, side) for side in (node.left, node.right)]
    if None in ends:
        return None
    start = min(node.left.position, node.right.position)
    return start, max(end for end in ends if end is not None)


def _leaf_end(source: str, node: Node) -> int | None:
    if isinstance(node, BareName):
        return node.position + len(node.name)
    if isinstance(node, Reference):
        return node.position + len(node.name) + 3
    if isinstance(node, StringLiteral):
        return node.position + len(node.value) + 2
    if isinstance(node, NumberLiteral):
        match = _NUMBER_TEXT.match(source, node.position)
        return match.end() if match else None
    return None


def _range_parameters(text: str) -> dict[str, float] | str:
    """start, end and step of a `range` (XLSForm defaults 1, 10, 1), or what is wrong."""
    values = {"start": 1.0, "end": 10.0, "step": 1.0}
    for part in re.split(r"[\s,;]+", re.sub(r"\s*=\s*", "=", text.strip())):
        if not part:
            continue
        key, _, value = part.partition("=")
        key = key.strip().lower()
        if key not in values:
            return f"unknown range parameter '{key}' in '{text}' (expected start, end, step)"
        try:
            values[key] = float(value)
        except ValueError:
            return f"range parameter {key} '{value}' is not a number"
    return values


def _nodes(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, Negate):
        yield from _nodes(node.operand)
    elif isinstance(node, Binary):
        yield from _nodes(node.left)
        yield from _nodes(node.right)
    elif isinstance(node, Call):
        for argument in node.arguments:
            yield from _nodes(argument)


def _edits(
    root: Node, ids: dict[str, str], bare: dict[str, str], acknowledged: set[str]
) -> Iterator[tuple[int, int, str]]:
    """(position, length, replacement) for each part of an expression that must change."""
    for node in _nodes(root):
        if isinstance(node, Reference) and ids.get(node.name, node.name) != node.name:
            yield node.position, len(node.name) + 3, f"${{{ids[node.name]}}}"
        elif isinstance(node, BareName) and bare.get(node.name, node.name) != node.name:
            yield node.position, len(node.name), bare[node.name]
        elif isinstance(node, Binary | Call) and _is_acknowledgement(node, acknowledged):
            literal = _acknowledgement_literal(node)
            yield literal.position, len(literal.value) + 2, "'yes'"


def _renamed_values(root: Node, renamed: dict[str, dict[str, str]]) -> list[tuple[int, int, str]]:
    """Edits turning `${q} = 'a b'` and `selected(${q}, 'a b')` into the value 'a b' is
    stored as, for questions whose options were renamed."""
    edits = []
    for node in _nodes(root):
        operands = _operands(node) if isinstance(node, Binary | Call) else None
        if operands is None:
            continue
        for reference, literal in (operands, operands[::-1]):
            if (
                isinstance(reference, Reference)
                and isinstance(literal, StringLiteral)
                and literal.value in renamed.get(reference.name, {})
            ):
                new = renamed[reference.name][literal.value]
                edits.append((literal.position, len(literal.value) + 2, f"'{new}'"))
    return edits


def _operands(node: Binary | Call) -> tuple[Node, Node] | None:
    if isinstance(node, Binary) and node.operator in {"=", "!="}:
        return node.left, node.right
    if isinstance(node, Call) and node.function == "selected":
        return node.arguments[0], node.arguments[1]
    return None


def _is_acknowledgement(node: Binary | Call, acknowledged: set[str]) -> bool:
    """`${ack} = 'OK'` (either way round) or `selected(${ack}, 'OK')`."""
    operands = _operands(node)
    if operands is None:
        return False
    return any(
        isinstance(reference, Reference)
        and reference.name in acknowledged
        and isinstance(literal, StringLiteral)
        and literal.value == _ACKNOWLEDGED
        for reference, literal in (operands, operands[::-1])
    )


def _acknowledgement_literal(node: Binary | Call) -> StringLiteral:
    operands = _operands(node)
    assert operands is not None
    literal = next(operand for operand in operands if isinstance(operand, StringLiteral))
    return literal
