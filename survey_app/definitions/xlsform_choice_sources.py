"""Where a select question's options come from, as pyxform and ODK read it.

- the choices sheet: `select_one list`;
- the external_choices sheet: `select_one_external list`;
- a file given next to the form: `select_one_from_file places.csv` (or `.xml`), options from
  its `name` and `label` columns unless the `parameters` column names others
  (`value=code label=place`), as in ODK;
- a file named by a `search('places')` appearance: the options of `places.csv`, whose columns
  for the value and the label are named by the one row of the question's list in the choices
  sheet (`name` and `label` cells, a label column per language). A search's filter on a column
  with a fixed text (`search('places', 'matches', 'region', 'north')`, `contains`,
  `startswith`, `endswith`) is applied when the form is imported; one on an earlier answer
  (`search('places', 'matches', 'region', ${region})`) becomes the question's choice_filter
  (`region = ${region}`), which offers the matching options as the respondent answers.

Every list ends up in the survey file as ordinary options: nothing is read at answer time.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .xlsform_choices import EXTERNAL_SUFFIX, ChoiceLists
from .xlsform_sheets import CHOICES_SHEET, SURVEY_SHEET
from .xlsform_types import ParsedType

SEARCH = re.compile(r"search\s*\((?P<arguments>[^)]*)\)", re.IGNORECASE)
_ARGUMENT = re.compile(r"""\s*(?:'(?P<single>[^']*)'|"(?P<double>[^"]*)"|(?P<bare>[^,\s]+))\s*""")
_FILE_PARAMETERS = frozenset({"value", "label"})
_MODES: dict[str, Callable[[str, str], bool]] = {
    "matches": lambda cell, wanted: cell == wanted,
    "contains": lambda cell, wanted: wanted in cell,
    "startswith": lambda cell, wanted: cell.startswith(wanted),
    "endswith": lambda cell, wanted: cell.endswith(wanted),
}

# search()'s modes written as a choice_filter on an earlier answer.
_FILTER_FUNCTIONS = {
    "matches": "{column} = {wanted}",
    "contains": "contains({column}, {wanted})",
    "startswith": "starts-with({column}, {wanted})",
    "endswith": "ends-with({column}, {wanted})",
}


def without_search(appearance: str) -> str:
    """The appearance without its `search(...)`, which `options_list` has read."""
    return SEARCH.sub(" ", appearance)


def options_list(
    choices: ChoiceLists,
    parsed: ParsedType,
    *,
    parameters: str,
    appearance: str,
    row: int,
    fail: Callable[[str, str], None],
    add_filter: Callable[[str], None] = lambda text: None,
) -> str | None:
    """The name `choices.use` knows the question's list by, or None after `fail(column,
    message)` (or a problem noted by `choices`) says why it cannot be had. A search() on an
    earlier answer is given to `add_filter` as the choice_filter it means."""
    list_name = parsed.list_name or ""
    search = SEARCH.search(appearance)
    if parsed.source == "external":
        if f"{list_name}{EXTERNAL_SUFFIX}" not in choices.lists:
            fail("type", f"choice list '{list_name}' is not in the external_choices sheet")
            return None
        return f"{list_name}{EXTERNAL_SUFFIX}"
    if parsed.source == "file":
        if search is not None:
            fail("appearance", "search() reads a file itself; the question's type names one too")
            return None
        columns = _file_parameters(parameters, fail)
        if columns is None:
            return None
        value, label = columns
        return choices.from_file(
            list_name,
            value,
            {choices.languages.default: label},
            (SURVEY_SHEET, row, "type"),
        )
    if search is None:
        return list_name
    return _search_list(choices, list_name, search.group("arguments"), row, fail, add_filter)


def _file_parameters(text: str, fail: Callable[[str, str], None]) -> tuple[str, str] | None:
    """The value and label columns named by `value=... label=...` (ODK's defaults otherwise)."""
    found: dict[str, str] = {}
    for part in text.replace(",", " ").replace(";", " ").split():
        key, equals, column = part.partition("=")
        if not equals or key.strip().lower() not in _FILE_PARAMETERS or not column.strip():
            fail(
                "parameters",
                f"parameters '{text}': a select from a file takes only value= and label= "
                f"(the file's columns holding each option's value and label)",
            )
            return None
        found[key.strip().lower()] = column.strip()
    return found.get("value", "name"), found.get("label", "label")


def _search_list(
    choices: ChoiceLists,
    list_name: str,
    arguments_text: str,
    row: int,
    fail: Callable[[str, str], None],
    add_filter: Callable[[str], None],
) -> str | None:
    arguments = _arguments(arguments_text)
    if arguments is None or not arguments or len(arguments) not in {1, 4, 6}:
        fail(
            "appearance",
            f"search({arguments_text}) is not search('file') or search('file', 'matches', "
            f"'column', 'text')",
        )
        return None
    file_name = f"{arguments[0]}.csv"
    keep: Callable[[dict[str, str]], bool] | None = None
    described = ""
    if len(arguments) > 1:
        mode = arguments[1].lower()
        test = _MODES.get(mode)
        pairs = list(zip(arguments[2::2], arguments[3::2], strict=True))
        if test is None or (len(pairs) > 1 and mode != "matches"):
            fail(
                "appearance",
                f"search(): '{arguments[1]}' is not one of matches, contains, startswith, "
                f"endswith (two columns only with matches)",
            )
            return None
        fixed = [(column, wanted) for column, wanted in pairs if "${" not in wanted]
        answered = [(column, wanted) for column, wanted in pairs if "${" in wanted]

        def keep(cells: dict[str, str]) -> bool:
            return all(test(cells.get(column, ""), wanted) for column, wanted in fixed)

        described = f"{mode} {fixed}"
    choice_list = choices.lists.get(list_name)
    if choice_list is None or not choice_list.rows or choice_list.sheet is None:
        fail("type", f"choice list '{list_name}' is not in the choices sheet")
        return None
    sheet = choice_list.sheet
    first = choice_list.rows[0]
    if len(choice_list.rows) > 1:
        choices.findings.problem(
            CHOICES_SHEET,
            choice_list.rows[1].number,
            None,
            f"list '{list_name}' is read by search('{arguments[0]}'): its one row names the "
            f"columns of {file_name} holding the value and the label; it has "
            f"{len(choice_list.rows)} rows",
        )
        return None
    name_column = sheet.column("name")
    value = first.get(name_column.header) if name_column else ""
    labels = {
        choices.languages.code_for(column.language): first.get(column.header)
        for column in sorted(sheet.columns, key=lambda column: column.language is not None)
        if column.base == "label" and first.get(column.header)
    }
    if not value or not labels:
        choices.findings.problem(
            CHOICES_SHEET,
            first.number,
            "name" if not value else "label",
            f"list '{list_name}' is read by search('{arguments[0]}'): its name and label "
            f"cells must name the columns of {file_name} holding the value and the label",
        )
        return None
    if len(arguments) > 1 and answered:
        # Filtering on an earlier answer: the options are all kept and a choice_filter
        # offers those that match, as ODK's search() does while the respondent answers.
        if any(column in labels.values() and column != value for column, _ in answered):
            fail(
                "appearance",
                f"search() filtering on an earlier answer compares it with the label column; "
                f"only the value column ('{value}') or another column of {file_name} can be",
            )
            return None
        function = _FILTER_FUNCTIONS[arguments[1].lower()]
        written = " and ".join(
            function.format(column="name" if column == value else column, wanted=wanted)
            for column, wanted in answered
        )
        add_filter(written)
        choices.findings.note(
            SURVEY_SHEET,
            row,
            f"search() filtering on an earlier answer is kept as the choice_filter `{written}`",
        )
    return choices.from_file(
        file_name,
        value,
        labels,
        (SURVEY_SHEET, row, "appearance"),
        keep=keep,
        described=described,
        filter_columns=tuple(arguments[2::2]),
    )


def _arguments(text: str) -> list[str] | None:
    arguments: list[str] = []
    for part in _split(text):
        match = _ARGUMENT.fullmatch(part)
        if match is None:
            return None
        found = [match.group(g) for g in ("single", "double", "bare")]
        arguments.append(next(text for text in found if text is not None))
    return arguments


def _split(text: str) -> list[str]:
    parts: list[str] = []
    current = ""
    quote = ""
    for character in text:
        if quote:
            current += character
            if character == quote:
                quote = ""
        elif character in "'\"":
            quote = character
            current += character
        elif character == ",":
            parts.append(current)
            current = ""
        else:
            current += character
    parts.append(current)
    return [] if parts == [""] else parts
