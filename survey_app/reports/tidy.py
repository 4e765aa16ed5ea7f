"""The report as a tidy CSV: one row per published number, for analysts' own tools.

Layout (docs/report-json.md, "CSV"): a header row, then rows of the columns in ``COLUMNS``.
The first rows are ``table = about``: what the report is and how its counts are adjusted
(``row`` names the fact, ``row_label`` says it). Then, for each table of the view in the order
the report shows them, one row per cell: the variable, the breakdown (empty over everyone),
the group (column) with its published size, the row (answer, status or statistic) and its
count, percentage and base. A suppressed value is the word ``suppressed``; a count whose
percentage is suppressed on a base under 3k is suppressed with it, as on screen. An indicator's
estimate and interval are on its ``_met`` row (``percent``, ``lower``, ``upper``), and its
change between rounds is a row ``table = change`` (``row`` the earlier round, ``group`` the
later, ``value``, ``lower`` and ``upper`` in points); a number question's median and quartiles
are rows ``_median``, ``_q1`` and ``_q3`` with a ``value``.

Everything is read from the published snapshot; nothing here computes a new number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from .plan import MET, ROUND
from .presentation import Labels, count_beside, ordered_tables
from .snapshot import ChangeDoc, TableDoc, VariableDoc, ViewDoc

COLUMNS = (
    "table",
    "variable",
    "question",
    "breakdown",
    "group",
    "group_label",
    "group_size",
    "row",
    "row_label",
    "count",
    "percent",
    "base",
    "lower",
    "upper",
    "value",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Value = str | int | float | None
Row = dict[str, Value]


def _text(value: Value) -> str:
    """A cell as written: numbers as they are, text a spreadsheet would run made plain."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    return str(value)


def tidy_csv(labels: Labels, view: ViewDoc, about: list[tuple[str, Value]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for key, value in about:
        writer.writerow(_line({"table": "about", "row": key, "row_label": value}))
    for variable, tables in ordered_tables(labels.document, view):
        for table in (tables["frequency"], *tables["crosstabs"]):
            for row in _rows(labels, view, variable, table):
                writer.writerow(_line(row))
        change = tables["change"]
        if change is not None:
            writer.writerow(_line(_change(labels, variable, change)))
    return buffer.getvalue()


def _change(labels: Labels, variable: VariableDoc, change: ChangeDoc) -> Row:
    """An indicator's change from its first to its last round, in percentage points."""
    return {
        "table": "change",
        "variable": variable["id"],
        "question": labels.variable(variable),
        "breakdown": ROUND,
        "group": change["last"],
        "group_label": labels.group(ROUND, change["last"]),
        "row": change["first"],
        "row_label": labels.group(ROUND, change["first"]),
        "value": round(100 * change["difference"], 1),
        "lower": round(100 * change["lower"], 1),
        "upper": round(100 * change["upper"], 1),
    }


def _line(row: Row) -> list[str]:
    return [_text(row.get(column)) for column in COLUMNS]


def _rows(labels: Labels, view: ViewDoc, variable: VariableDoc, table: TableDoc) -> Iterator[Row]:
    breakdown = table["dimension"] or view["dimension"]
    kind = "crosstab" if table["dimension"] else "frequency"
    estimates = table.get("estimates", [])
    summaries = table.get("summaries", [])
    for index, (key, size) in enumerate(zip(table["columns"], table["sizes"], strict=True)):
        group = view["group"] if view["group"] and key == view["group"] else key
        common: Row = {
            "table": kind,
            "variable": variable["id"],
            "question": labels.variable(variable),
            "breakdown": breakdown or "",
            "group": group,
            "group_label": labels.group(breakdown, group),
            "group_size": size,
            "base": table["bases"][index] if index < len(table["bases"]) else None,
        }
        if table["withheld"]:
            yield {**common, "row": "_withheld", "row_label": labels.translate(table["withheld"])}
            continue
        for row in table["rows"]:
            share = row["percents"][index]
            line: Row = {
                **common,
                "row": row["key"],
                "row_label": labels.row(variable, row["key"]),
                # As on screen (presentation.grid): hidden with its share on a base under 3k.
                "count": count_beside(
                    row["counts"][index], share, common["base"], labels.document["threshold"]
                ),
                "percent": share,
            }
            estimate = estimates[index] if index < len(estimates) else None
            if row["key"] == MET and estimate is not None:
                if isinstance(estimate, dict):
                    line["percent"] = round(100 * float(estimate["value"]), 1)
                    line["lower"] = round(100 * float(estimate["lower"]), 1)
                    line["upper"] = round(100 * float(estimate["upper"]), 1)
                else:
                    line["percent"] = line["lower"] = line["upper"] = estimate
            yield line
        summary = summaries[index] if index < len(summaries) else None
        if summary is None:
            continue
        for name in ("median", "q1", "q3"):
            value = summary[name] if isinstance(summary, dict) else summary
            yield {**common, "row": f"_{name}", "row_label": name, "value": value}
