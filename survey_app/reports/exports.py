"""Downloads of a published snapshot: CSV, XLSX and JSON.

CSV is one file, the tables one after another (title, header, rows, blank line). XLSX has a
sheet "About", then one sheet per table, indicators first. JSON is the snapshot document itself,
limited to the view asked for. Suppressed values are the marker "suppressed" in all three.

Spreadsheets run text that starts with ``= + - @`` (or a tab or carriage return) as a formula;
a site name or an answer label could be made to. Every text cell of CSV and XLSX that starts so
gets a leading apostrophe, which shows the text as typed. Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable

from .presentation import Cell, Grid, Labels, grids_of
from .snapshot import SnapshotDoc, ViewDoc, view_by_id

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


def _safe(cell: Cell) -> Cell:
    if isinstance(cell, str):
        return neutralise(cell)
    return cell


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
        [t("Survey versions"), ", ".join(document["versions"])],
    ]
    lines.extend([[t("Note"), note] for note in document["notes"]])
    return lines


def to_csv(labels: Labels, view_id: str = "all") -> str:
    view = find_view(labels.document, view_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for line in about(labels, view):
        writer.writerow(_csv_cells(line))
    for table in grids_of(labels, view):
        writer.writerow([])
        writer.writerow(_csv_cells([table.title]))
        writer.writerow(_csv_cells(list(table.header)))
        if table.note:
            writer.writerow(_csv_cells([table.note]))
        for line in table.rows:
            writer.writerow(_csv_cells(line))
    return buffer.getvalue()


def _csv_cells(line: Iterable[Cell]) -> list[str]:
    cells = []
    for cell in line:
        if cell is None:
            cells.append("")
        elif isinstance(cell, str):
            cells.append(neutralise(cell))
        else:
            cells.append(str(cell))
    return cells


def to_xlsx(labels: Labels, view_id: str = "all") -> bytes:
    view = find_view(labels.document, view_id)
    from openpyxl import Workbook  # only when a workbook is asked for: a slow import

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_name(labels.translate("About"), set()))
    for line in about(labels, view):
        sheet.append([_safe(cell) for cell in line])
    used: set[str] = set()
    for number, table in enumerate(grids_of(labels, view), start=1):
        sheet = book.create_sheet(_sheet_name(f"{number} {_short_title(table)}", used))
        sheet.append([_safe(table.title)])
        sheet.append([_safe(cell) for cell in table.header])
        if table.note:
            sheet.append([_safe(table.note)])
        for line in table.rows:
            sheet.append([_safe(cell) for cell in line])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _short_title(table: Grid) -> str:
    dimension = table.table["dimension"]
    name = table.variable["id"].removeprefix("indicator:")
    if table.kind == "change":
        return f"{name} change"
    return f"{name} by {dimension}" if dimension else name


def _sheet_name(wanted: str, used: set[str]) -> str:
    """An Excel sheet name: at most 31 characters, none of []:*?/\\, unique in the book."""
    base = _SHEET_FORBIDDEN.sub(" ", wanted).strip().strip("'")[:31] or "Sheet"
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
