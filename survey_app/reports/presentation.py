"""Published tables as labelled grids: the one layout the screen, CSV and XLSX all show.

A grid is a header row and data rows; its first column names the row. Each count column is
followed by its percentage where percentages apply. A value not shown (a percentage, estimate,
interval or median on too few answers, see ``PERCENT_RULE``) stays the marker ``"suppressed"``
in every cell that would carry it, so whatever shows a grid shows it as not shown. Labels the application provides go through ``translate`` (identity for exports).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ..messages import N_
from .plan import (
    ALL,
    ANSWERED,
    BUILTIN_LABELS,
    MET,
    NOT_ASKED,
    NOT_COUNTED,
    NOT_MET,
    PREFER_NOT_TO_SAY,
    SKIPPED,
    VariableKind,
)
from .snapshot import (
    SUPPRESSED,
    ChangeDoc,
    DimensionDoc,
    SnapshotDoc,
    TableDoc,
    VariableDoc,
    VariableTables,
    ViewDoc,
    text,
)

Cell = int | float | str | None
Translate = Callable[[str], str]

HAS_PERCENT = {
    VariableKind.CHOICE.value,
    VariableKind.MULTIPLE.value,
    VariableKind.DATE.value,
    VariableKind.INDICATOR.value,
}


# The words a reader sees for the rows every table may have, whatever a stored snapshot says.
PLAIN_WORDS: dict[str, str] = {
    SKIPPED: N_("Skipped"),
    PREFER_NOT_TO_SAY: N_("Prefer not to say"),
    NOT_ASKED: N_("Not asked"),
    ANSWERED: N_("Answered"),
    MET: N_("Yes: counts towards the indicator"),
    NOT_MET: N_("No: does not count towards it"),
    NOT_COUNTED: N_("Not counted: the question did not apply, or no answer"),
}


# Labels of plan.BUILTIN_LABELS that readers see, listed here so the catalogue has them.
_CATALOGUED = (
    N_("All responses"),
    N_("Site"),
    N_("Round"),
    N_("Channel"),
    N_("Self-completed"),
    N_("Assisted by a caseworker"),
    N_("Yes"),
    N_("No"),
    N_("Other"),
    N_("Other (combined)"),
)


# Why a percentage, estimate or interval may say "not shown" (``n``: the smallest base).
PERCENT_RULE = N_(
    "A percentage, an estimate or an interval is shown only where at least %(n)d people "
    "answered (adjusted count): on fewer answers the adjustment could move it by several "
    "points. Where fewer than %(k3)d answered, the number beside it is not shown either."
)


def percent_base(document: SnapshotDoc) -> int:
    """The smallest base a share of this report is shown on (3k in reports made before)."""
    return document.get("percent_base", 3 * document["threshold"])


def count_beside(count: Cell, share: Cell, base: Cell, threshold: int) -> Cell:
    """A count as shown beside its share, on screen and in every download.

    A share on a base under ``percent_base`` is not shown (the adjustment could move it by more
    than 5 points) but its count is; on a base under the smallest group (3k) the count goes
    with it: working the share out from so few would mean nothing.
    """
    tiny = share == SUPPRESSED and isinstance(base, int) and base < 3 * threshold
    return SUPPRESSED if tiny else count


def untranslated(message: str) -> str:
    return message


@dataclass(frozen=True)
class Labels:
    """Labels of one snapshot in one language."""

    document: SnapshotDoc
    language: str
    translate: Translate = untranslated

    def _text(self, label: dict[str, str], builtin: bool) -> str:
        if builtin:
            return self.translate(label.get("en", ""))
        return text(label, self.language, self.document["default_language"])

    def say(self, message_id: str, **params: object) -> str:
        """A message in the report's language with its parameters filled in; a literal % in a
        message is written %% (every message goes through the % operator, as in templates)."""
        return self.translate(message_id) % params

    def title(self) -> str:
        return text(self.document["title"], self.language, self.document["default_language"])

    def variable(self, variable: VariableDoc) -> str:
        return self._text(variable["label"], False)

    def row(self, variable: VariableDoc, key: str) -> str:
        for row in variable["rows"]:
            if row["key"] == key:
                if row["builtin"] and key in PLAIN_WORDS:
                    return self.translate(PLAIN_WORDS[key])
                return self._text(row["label"], row["builtin"])
        return key

    def dimension(self, dimension_id: str) -> str:
        found = self._dimension(dimension_id)
        if found is None:
            return self.translate(BUILTIN_LABELS.get(dimension_id, dimension_id))
        return self._text(found["label"], found["builtin"])

    def group(self, dimension_id: str | None, key: str) -> str:
        if key == ALL:
            return self.translate(BUILTIN_LABELS[ALL])
        found = self._dimension(dimension_id) if dimension_id else None
        for group in found["groups"] if found else []:
            if group["key"] == key:
                name = self._text(group["label"], group["builtin"])
                if len(group["members"]) > 1 or group["members"] != [key]:
                    members = ", ".join(self._member(found, m) for m in group["members"])
                    return f"{name}: {members}"
                return name
        return key

    def view(self, view: ViewDoc) -> str:
        if view["dimension"] is None or view["group"] is None:
            return self.translate(BUILTIN_LABELS[ALL])
        return (
            f"{self.dimension(view['dimension'])}: {self.group(view['dimension'], view['group'])}"
        )

    def _member(self, dimension: DimensionDoc | None, value: str) -> str:
        if dimension is None:
            return value
        variable = next((v for v in self.document["variables"] if v["id"] == dimension["id"]), None)
        if variable is not None:
            return self.row(variable, value)
        if value in BUILTIN_LABELS:
            return self.translate(BUILTIN_LABELS[value])
        return value

    def _dimension(self, dimension_id: str | None) -> DimensionDoc | None:
        return next((d for d in self.document["dimensions"] if d["id"] == dimension_id), None)


@dataclass(frozen=True)
class Grid:
    anchor: str
    title: str
    variable: VariableDoc
    table: TableDoc
    header: list[str]
    rows: list[list[Cell]]
    note: str | None = None
    kind: str = "table"  # or "change": an indicator's change between rounds


def variable_of(document: SnapshotDoc, variable_id: str) -> VariableDoc:
    return next(v for v in document["variables"] if v["id"] == variable_id)


def ordered_tables(
    document: SnapshotDoc, view: ViewDoc
) -> list[tuple[VariableDoc, VariableTables]]:
    """The view's tables, indicators first, then the questions in the order asked."""
    found = [
        (v, view["tables"][v["id"]]) for v in document["variables"] if v["id"] in view["tables"]
    ]
    return sorted(found, key=lambda item: item[0]["kind"] != VariableKind.INDICATOR.value)


def grids_of(labels: Labels, view: ViewDoc) -> list[Grid]:
    grids = []
    for variable, tables in ordered_tables(labels.document, view):
        grids.append(grid(labels, variable, tables["frequency"], view))
        if tables["change"] is not None:
            grids.append(change_grid(labels, variable, tables["frequency"], tables["change"]))
        grids.extend(grid(labels, variable, t, view) for t in tables["crosstabs"])
    return grids


def change_grid(
    labels: Labels, variable: VariableDoc, frequency: TableDoc, change: ChangeDoc
) -> Grid:
    """An indicator's change between its first and last round, in percentage points."""
    t = labels.say
    header = [
        t(N_("From round")),
        t(N_("To round")),
        t(N_("Change (percentage points)")),
        t(N_("95%% interval: from")),
        t(N_("95%% interval: to")),
    ]
    row: list[Cell] = [
        labels.group("round", change["first"]),
        labels.group("round", change["last"]),
        round(100 * change["difference"], 1),
        round(100 * change["lower"], 1),
        round(100 * change["upper"], 1),
    ]
    anchor = f"t-{variable['id']}-change".replace(":", "-")
    title = t(N_("%(question)s: change between rounds"), question=labels.variable(variable))
    return Grid(anchor, title, variable, frequency, header, [row], kind="change")


def grid(labels: Labels, variable: VariableDoc, table: TableDoc, view: ViewDoc) -> Grid:
    say = labels.say
    title = labels.variable(variable)
    if table["dimension"] is not None:
        title = say(
            N_("%(question)s, by %(dimension)s"),
            question=title,
            dimension=labels.dimension(table["dimension"]),
        )
    elif view["dimension"] is not None:
        title = say(N_("%(question)s: %(group)s"), question=title, group=labels.view(view))
    anchor = f"t-{variable['id']}-{table['dimension'] or 'all'}".replace(":", "-")
    percent = variable["kind"] in HAS_PERCENT
    header = [say(N_("Answer"))]
    single = len(table["columns"]) == 1
    for key, size in zip(table["columns"], table["sizes"], strict=True):
        group = view["group"] if view["group"] and key == view["group"] else key
        name = labels.group(table["dimension"] or view["dimension"], group)
        if single:
            header.append(say(N_("Number of people (of %(size)d)"), size=size))
        else:
            header.append(say(N_("%(group)s: number (of %(size)d)"), group=name, size=size))
        if percent:
            header.append(
                say(N_("%% of those who answered"))
                if single
                else say(N_("%(group)s: %%"), group=name)
            )
    if table["withheld"]:
        return Grid(anchor, title, variable, table, header, [], labels.translate(table["withheld"]))
    rows: list[list[Cell]] = []
    bases = table["bases"] or [None] * len(table["columns"])
    for row in table["rows"]:
        line: list[Cell] = [labels.row(variable, row["key"])]
        for count, share, base in zip(row["counts"], row["percents"], bases, strict=True):
            line.append(count_beside(count, share, base, labels.document["threshold"]))
            if percent:
                line.append(share)
        rows.append(line)
    rows.extend(_extra_rows(labels, variable, table, percent))
    return Grid(anchor, title, variable, table, header, rows)


def groups_only(found: Grid) -> Grid:
    """A cross-tab without its first column (everyone in the view), for a page that shows
    that column just above it as the question's own table."""
    if found.table["dimension"] is None or found.note is not None or found.kind != "table":
        return found
    width = 2 if found.variable["kind"] in HAS_PERCENT else 1
    return replace(
        found,
        header=[found.header[0], *found.header[1 + width :]],
        rows=[[row[0], *row[1 + width :]] for row in found.rows],
    )


def _spread(values: list[Cell], percent: bool) -> list[Cell]:
    """One value per column, in the count position, the percentage position left empty."""
    line: list[Cell] = []
    for value in values:
        line.append(value)
        if percent:
            line.append(None)
    return line


def _extra_rows(
    labels: Labels, variable: VariableDoc, table: TableDoc, percent: bool
) -> list[list[Cell]]:
    t = labels.say
    kind = variable["kind"]
    extra: list[list[Cell]] = []
    if kind in (VariableKind.CHOICE.value, VariableKind.DATE.value) and table["bases"]:
        extra.append([t(N_("Total who answered")), *_spread(list(table["bases"]), percent)])
    if kind == VariableKind.INDICATOR.value and "estimates" in table:
        estimates = table["estimates"]

        def part(name: str) -> list[Cell]:
            values: list[Cell] = []
            for estimate in estimates:
                if isinstance(estimate, dict):
                    values.append(round(100 * float(estimate[name]), 1))  # type: ignore[literal-required]
                else:
                    values.append(estimate)
            return _spread(values, percent)

        extra.append([t(N_("Total counted (yes and no)")), *_spread(list(table["bases"]), percent)])
        extra.append([t(N_("Share, yes (%%)")), *part("value")])
        extra.append([t(N_("95%% interval: from (%%)")), *part("lower")])
        extra.append([t(N_("95%% interval: to (%%)")), *part("upper")])
        if variable["target"] is not None:
            target = round(100 * variable["target"], 1)
            extra.append([t(N_("Target (%%)")), *_spread([target] * len(estimates), percent)])
    if kind == VariableKind.NUMBER.value and "summaries" in table:
        for name, label in (
            ("median", t(N_("Median"))),
            ("q1", t(N_("Lower quartile"))),
            ("q3", t(N_("Upper quartile"))),
        ):
            values: list[Cell] = []
            for summary in table["summaries"]:
                if isinstance(summary, dict):
                    values.append(summary[name])  # type: ignore[literal-required]
                else:
                    values.append(summary)
            extra.append([label, *_spread(values, percent)])
    return extra


def is_suppressed(cell: Cell) -> bool:
    return cell == SUPPRESSED
