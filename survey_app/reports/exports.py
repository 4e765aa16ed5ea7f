"""Downloads of a published snapshot: CSV, XLSX and JSON.

CSV is tidy, one row per published number (``tidy``, docs/report-json.md). XLSX has a
contents sheet (what the report is, how counts are adjusted, a link to every sheet), then one
sheet per question, indicators first, named after its label. JSON is the snapshot document
itself, limited to the view asked for. Suppressed values are the marker "suppressed" in CSV and
JSON, and "not shown" in the workbook, as on screen.

Spreadsheets run text that starts with ``= + - @`` (or a tab or carriage return) as a formula;
a site name or an answer label could be made to. In CSV every such text cell gets a leading
apostrophe, which shows the text as typed. In XLSX every text cell is stored as text, which a
spreadsheet never runs, and such a cell is marked "quote prefix" so that editing it keeps it
text: no apostrophe is added to what a person reads. Numbers are written as numbers.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from ..messages import N_
from .charts import NOT_SHOWN
from .presentation import HAS_PERCENT, PERCENT_RULE, Cell, Grid, Labels, grids_of, percent_base
from .snapshot import SUPPRESSED, SnapshotDoc, ViewDoc, view_by_id
from .tidy import tidy_csv

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


class UnknownView(LookupError):
    def __init__(self, view_id: str) -> None:
        super().__init__(
            f"the report has no view {view_id!r}: the filter is not among the published groups"
        )


def neutralise(value: str) -> str:
    """Text a spreadsheet will show as typed, never run as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def find_view(document: SnapshotDoc, view_id: str) -> ViewDoc:
    view = view_by_id(document, view_id)
    if view is None:
        raise UnknownView(view_id)
    return view


# Said beside every published table, on screen and in every download.
ADJUSTED = (
    "To protect the people who answered, every count is slightly adjusted: it may be a few "
    "above or below the true number, and a count from 1 to %(k)d less one is never shown. "
    "Totals and percentages are worked out from the adjusted counts. Small groups are not "
    "broken down, and only closed rounds are published."
)


def about(labels: Labels, view: ViewDoc) -> list[list[Cell]]:
    document = labels.document
    t = labels.translate
    unreadable = sum(document["unreadable"].values())
    lines: list[list[Cell]] = [
        [t("Report"), labels.title()],
        [t("Responses"), labels.view(view)],
        [t("Published"), document["created_at"]],
        [t("Responses counted"), document["responses"]],
        [t("Responses that could not be opened"), unreadable],
        [t("Threshold"), document["threshold"]],
        [t("Adjusted counts"), t(ADJUSTED) % {"k": document["threshold"]}],
        [
            t("Percentages"),
            labels.say(PERCENT_RULE, n=percent_base(document), k3=3 * document["threshold"]),
        ],
        [t("Survey versions"), ", ".join(document["versions"])],
    ]
    lines.extend([[t("Note"), note] for note in document["notes"]])
    return lines


def to_csv(labels: Labels, view_id: str = "all") -> str:
    """The tidy CSV of ``tidy``: one row per published number, the facts of ``about`` first."""
    view = find_view(labels.document, view_id)
    keys = (
        "report",
        "view",
        "published",
        "responses",
        "unreadable",
        "threshold",
        "adjusted",
        "percentages",
    )
    facts = about(labels, view)
    named: list[tuple[str, Cell]] = [
        (key, line[1]) for key, line in zip((*keys, "versions"), facts, strict=False)
    ]
    named += [("note", line[1]) for line in facts[len(keys) + 1 :]]
    return tidy_csv(labels, view, named)


def to_xlsx(labels: Labels, view_id: str = "all") -> bytes:
    """A workbook a person can open: a contents sheet, then one sheet per question.

    Each question's sheet holds its tables one under the other (over everyone first, then its
    breakdowns), and is named after the question's label, shortened. Counts are numbers,
    percentages are numbers formatted as percentages, and text is always stored as text
    (never a formula, whatever it starts with), so nothing needs an apostrophe in front.
    """
    view = find_view(labels.document, view_id)
    from openpyxl import Workbook  # only when a workbook is asked for: a slow import

    book = Workbook()
    contents = book.active
    assert contents is not None
    contents.title = _sheet_name(labels.say(N_("Contents")), set())
    used = {contents.title.lower()}
    by_variable: dict[str, list[Grid]] = {}
    for table in grids_of(labels, view):
        by_variable.setdefault(table.variable["id"], []).append(table)
    sheets: list[tuple[str, str, int]] = []
    for tables in by_variable.values():
        title = labels.variable(tables[0].variable)
        sheet = book.create_sheet(_sheet_name(_shortened(title), used))
        _write_tables(labels, sheet, tables)
        sheets.append((sheet.title, title, len(tables)))
    _write_contents(labels, contents, view, sheets)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text_cell(sheet: Any, row: int, column: int, value: str) -> Any:
    cell = sheet.cell(row=row, column=column)
    cell.value = value
    # Stored as text whatever it starts with: a spreadsheet shows it, never runs it.
    cell.data_type = "s"
    if value.startswith(_FORMULA_START):
        cell.quotePrefix = True
    return cell


def _write_contents(
    labels: Labels, sheet: Any, view: ViewDoc, sheets: list[tuple[str, str, int]]
) -> None:
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    _text_cell(sheet, 1, 1, labels.title()).font = Font(bold=True, size=14)
    row = 3
    for line in about(labels, view):
        _text_cell(sheet, row, 1, str(line[0])).font = bold
        value = line[1]
        if isinstance(value, str):
            _text_cell(sheet, row, 2, value)
        else:
            sheet.cell(row=row, column=2, value=value)
        row += 1
    row += 1
    for column, heading in enumerate(
        (labels.say(N_("Sheet")), labels.say(N_("Question")), labels.say(N_("Tables"))), start=1
    ):
        _text_cell(sheet, row, column, heading).font = bold
    for name, title, count in sheets:
        row += 1
        link = _text_cell(sheet, row, 1, name)
        link.hyperlink = f"#'{name}'!A1"
        link.style = "Hyperlink"
        _text_cell(sheet, row, 2, title)
        sheet.cell(row=row, column=3, value=count)
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 90
    sheet.column_dimensions["C"].width = 8
    wrapped = Alignment(wrap_text=True, vertical="top")
    for cells in sheet.iter_rows(min_row=3, max_col=2):
        for cell in cells:
            cell.alignment = wrapped


def _write_tables(labels: Labels, sheet: Any, tables: list[Grid]) -> None:
    """The tables one under another; the first one's header row and the labels stay in view."""
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    not_shown = labels.say(NOT_SHOWN)
    widths: dict[int, int] = {}
    row = 1
    for number, table in enumerate(tables):
        _text_cell(sheet, row, 1, table.title).font = bold
        row += 1
        for column, heading in enumerate(table.header, start=1):
            cell = _text_cell(sheet, row, column, heading)
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            widths[column] = max(widths.get(column, 0), min(len(heading), 24))
        if number == 0:
            sheet.freeze_panes = sheet.cell(row=row + 1, column=2).coordinate
        row += 1
        if table.note:
            _text_cell(sheet, row, 1, table.note)
            row += 1
        percent = _percent_columns(table)
        for line in table.rows:
            for column, value in enumerate(line, start=1):
                if value is None:
                    continue
                if value == SUPPRESSED:
                    _text_cell(sheet, row, column, not_shown)
                elif isinstance(value, str):
                    _text_cell(sheet, row, column, value)
                    if column == 1:
                        widths[1] = max(widths.get(1, 0), min(len(value), 60))
                elif column in percent:
                    cell = sheet.cell(row=row, column=column, value=value / 100)
                    cell.number_format = "0.0%"
                else:
                    sheet.cell(row=row, column=column, value=value)
            row += 1
        row += 1
    for column, width in widths.items():
        letter = sheet.cell(row=1, column=column).column_letter
        sheet.column_dimensions[letter].width = max(width + 2, 10)


def _percent_columns(table: Grid) -> set[int]:
    """Columns (1-based) of percentages: each follows its count column in a table's grid."""
    if table.kind != "table" or table.variable["kind"] not in HAS_PERCENT:
        return set()
    return set(range(3, len(table.header) + 1, 2))


def _shortened(title: str, most: int = 31) -> str:
    """A label cut at a word to fit a sheet name, marked as cut."""
    title = " ".join(_SHEET_FORBIDDEN.sub(" ", title).split()).strip("'")
    if len(title) <= most:
        return title
    cut = title[: most - 1].rsplit(" ", 1)[0] if " " in title[: most - 1] else title[: most - 1]
    return cut.rstrip(" ,;.-") + "…"


def _sheet_name(wanted: str, used: set[str]) -> str:
    """An Excel sheet name: at most 31 characters, none of []:*?/\\, not starting or ending
    with an apostrophe, not the reserved "History", unique in the book."""
    base = _SHEET_FORBIDDEN.sub(" ", wanted).strip().strip("'")[:31].strip("'") or "Sheet"
    if base.lower() == "history":
        base = "History (1)"
    name, suffix = base, 1
    while name.lower() in used:
        suffix += 1
        name = f"{base[: 31 - len(str(suffix)) - 1]}~{suffix}"
    used.add(name.lower())
    return name


def to_json(document: SnapshotDoc, view_id: str = "all") -> str:
    """The snapshot with the one view asked for: labels, groups and every table of the view."""
    view = find_view(document, view_id)
    limited = dict(document)
    limited["views"] = [view]
    return json.dumps(limited, ensure_ascii=False, indent=1)
