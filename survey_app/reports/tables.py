"""The published tables of one variable: perturbed counts, and everything worked out from them.

Every count is published through the cell key method (``perturbation``): the true count of a
cell and the sum of its people's record keys give the published count, so the same people give
the same number wherever they are counted. Everything else a table shows is computed from the
published counts only, never from a true one:

* a column's base (the denominator of its percentages) is the sum of its published answer
  cells, or the published "answered" cell (multiple choice, numbers, free text, dates);
* percentages are published cell / published base, shown only when that base is at least
  ``Protection.percent_base`` (120 for k = 5): on fewer answers the small-count rule and the
  noise could move a share by more than 5 points, so its cell says there are too few answers
  (the marker ``SUPPRESSED``) while the counts stay shown;
* an indicator's estimate and its Wilson interval use the published "met" and "not met", on
  the same condition;
* a column's size is the published count of the people in it (everyone in the view is the
  exact number of responses counted, which is no secret).

Numeric questions publish no mean (a mean beside others and their sizes lets counts and values
be solved for) and no minimum or maximum: the median and quartiles, only for a column whose
published "answered" is at least the smallest group shown on its own (3k).

Rows come from the survey file only: its answers, then "skipped" and "prefer not to say", and
"not asked" when some version did not ask the question. An answer the survey does not list is
not given a row: its text would be a label taken from the data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .groups import Group
from .perturbation import MODULUS, Protection
from .plan import (
    ALL,
    ANSWERED,
    MET,
    NOT_ASKED,
    NOT_MET,
    SPECIAL_KEYS,
    Category,
    Variable,
    VariableKind,
    builtin,
)
from .snapshot import (
    SUPPRESSED,
    Count,
    EstimateDoc,
    Percent,
    RowDoc,
    RowInfo,
    SummaryDoc,
    TableDoc,
)
from .stats import wilson_interval
from .tally import GroupCounts, GroupKey
from .weighted import summarise_counts


@dataclass(frozen=True)
class Layout:
    """The rows of a variable's tables.

    ``exclusive`` rows add up to the size of each group; ``options`` (multiple choice only)
    are counted each on their own, as one person may choose several.
    """

    options: tuple[Category, ...]
    exclusive: tuple[Category, ...]

    @property
    def rows(self) -> tuple[Category, ...]:
        return (*self.options, *self.exclusive)

    def info(self) -> list[RowInfo]:
        option_keys = {c.key for c in self.options}
        return [
            RowInfo(
                key=c.key,
                label=c.label,
                kind="option"
                if c.key in option_keys
                else "status"
                if _is_status(c.key)
                else "answer",
                builtin=c.builtin,
            )
            for c in self.rows
        ]


def _is_status(key: str) -> bool:
    return key.startswith("_")


def layout_of(variable: Variable, all_versions: frozenset[str]) -> Layout:
    """Rows for ``variable``, from the survey alone: its categories, then its status rows."""
    status = [
        Category(key, builtin(key), builtin=True)
        for key in variable.status_keys()
        if key != NOT_ASKED or variable.conditional or not all_versions <= variable.versions
    ]
    if variable.kind is VariableKind.MULTIPLE:
        return Layout(options=variable.categories, exclusive=tuple(status))
    if variable.kind in (
        VariableKind.NUMBER,
        VariableKind.TEXT,
        VariableKind.INDICATOR,
        VariableKind.DATE,
    ):
        return Layout(options=(), exclusive=tuple(status))
    return Layout(options=(), exclusive=(*variable.categories, *status))


@dataclass(frozen=True)
class Column:
    key: str
    members: tuple[GroupKey, ...]
    size: int  # true number of people
    shown: int  # published number of people


@dataclass
class ProtectedTable:
    """One table: true and published counts; column 0 is everyone in the view."""

    variable: Variable
    layout: Layout
    dimension: str | None
    columns: list[Column]
    counts: list[list[int]]  # [row][column], rows in layout order: true counts
    published: list[list[int]]  # the same, as published


def group_size(counts: GroupCounts, members: Sequence[GroupKey], protection: Protection) -> Column:
    """A column of the people in ``members`` (groups of one dimension), its size published."""
    size = sum(counts.sizes[m] for m in members)
    key = sum(counts.size_keys[m] for m in members) % MODULUS
    if members == ((ALL, ALL),):
        return Column(ALL, tuple(members), size, size)
    return Column("", tuple(members), size, protection.published(size, key))


def _column_counts(
    counts: GroupCounts,
    variable: Variable,
    rows: Sequence[Category],
    column: Column,
    protection: Protection,
) -> tuple[list[int], list[int]]:
    true, shown = [], []
    for category in rows:
        count = sum(counts.count(m, variable.id, category.key) for m in column.members)
        key = sum(counts.cell_key(m, variable.id, category.key) for m in column.members)
        true.append(count)
        shown.append(protection.published(count, key % MODULUS))
    return true, shown


def frequency_table(
    counts: GroupCounts, variable: Variable, layout: Layout, protection: Protection
) -> ProtectedTable:
    """The variable over everyone in the view."""
    everyone = group_size(counts, ((ALL, ALL),), protection)
    true, shown = _column_counts(counts, variable, layout.rows, everyone, protection)
    return ProtectedTable(
        variable, layout, None, [everyone], [[v] for v in true], [[v] for v in shown]
    )


def crosstab(
    counts: GroupCounts,
    frequency: ProtectedTable,
    dimension: str,
    groups: Sequence[Group],
    protection: Protection,
) -> ProtectedTable:
    """The variable by the groups of a dimension; column 0 is the frequency table."""
    variable, layout = frequency.variable, frequency.layout
    columns = [frequency.columns[0]] + [
        Column(g.key, tuple((dimension, m) for m in g.members), g.true_size, g.size) for g in groups
    ]
    true = [row[:] for row in frequency.counts]
    shown = [row[:] for row in frequency.published]
    for column in columns[1:]:
        column_true, column_shown = _column_counts(
            counts, variable, layout.rows, column, protection
        )
        for r in range(len(layout.rows)):
            true[r].append(column_true[r])
            shown[r].append(column_shown[r])
    return ProtectedTable(variable, layout, dimension, columns, true, shown)


# ---------------------------------------------------------------------------------------------
# Publishing


def publish(table: ProtectedTable, counts: GroupCounts, protection: Protection) -> TableDoc:
    """The table as published: perturbed counts and what is computed from them."""
    layout, variable = table.layout, table.variable
    n_columns = len(table.columns)
    bases = [_base(table, c) for c in range(n_columns)]
    rows = []
    for r, category in enumerate(layout.rows):
        shown: list[Count] = list(table.published[r])
        percents: list[Percent] = [
            _percent(table, r, c, bases[c], category, protection) for c in range(n_columns)
        ]
        rows.append(RowDoc(key=category.key, counts=shown, percents=percents))
    document = TableDoc(
        variable=variable.id,
        dimension=table.dimension,
        columns=[c.key for c in table.columns],
        sizes=[c.shown for c in table.columns],
        rows=rows,
        bases=list(bases),
        withheld=None,
    )
    if variable.kind is VariableKind.INDICATOR:
        document["estimates"] = [
            _estimate(table, c, bases[c], protection) for c in range(n_columns)
        ]
    if variable.kind is VariableKind.NUMBER:
        document["summaries"] = _summaries(table, counts, protection)
    return document


def _row(table: ProtectedTable, key: str) -> int | None:
    return next((r for r, c in enumerate(table.layout.rows) if c.key == key), None)


def _base(table: ProtectedTable, column: int) -> Count | None:
    """The denominator of the column's percentages, from published cells."""
    kind = table.variable.kind
    if kind in (VariableKind.MULTIPLE, VariableKind.NUMBER, VariableKind.TEXT, VariableKind.DATE):
        r = _row(table, ANSWERED)
        return None if r is None else table.published[r][column]
    if kind is VariableKind.INDICATOR:
        met, not_met = _row(table, MET), _row(table, NOT_MET)
        assert met is not None and not_met is not None
        return table.published[met][column] + table.published[not_met][column]
    n_options = len(table.layout.options)
    return sum(
        table.published[r][column]
        for r, c in enumerate(table.layout.rows)
        if r >= n_options and c.key not in SPECIAL_KEYS
    )


def _percent(
    table: ProtectedTable,
    row: int,
    column: int,
    base: Count | None,
    category: Category,
    protection: Protection,
) -> Percent:
    kind = table.variable.kind
    if kind in (VariableKind.NUMBER, VariableKind.TEXT, VariableKind.DATE):
        return None
    if kind is VariableKind.INDICATOR:
        if category.key not in (MET, NOT_MET):
            return None
    elif _is_status(category.key):
        return None
    if not isinstance(base, int) or base == 0:
        return None
    if base < protection.percent_base:
        # Each count a few off: on a small base the share could be off by more than a few points.
        return SUPPRESSED
    # An option of a multiple-choice question is perturbed apart from "answered", so it can
    # come out above it: such a share is shown as 100.
    return min(100.0, round(100 * table.published[row][column] / base, 1))


def _estimate(
    table: ProtectedTable, column: int, base: Count | None, protection: Protection
) -> EstimateDoc | str | None:
    if not isinstance(base, int) or base == 0:
        return None
    if base < protection.percent_base:
        return SUPPRESSED
    met_row = _row(table, MET)
    assert met_row is not None, "an indicator always has a 'met' row"
    met = table.published[met_row][column]
    lower, upper = wilson_interval(met, base)
    return EstimateDoc(
        value=round(met / base, 4),
        lower=round(lower, 4),
        upper=round(upper, 4),
        numerator=met,
        denominator=base,
    )


def _summaries(
    table: ProtectedTable, counts: GroupCounts, protection: Protection
) -> list[SummaryDoc | str | None]:
    answered_row = _row(table, ANSWERED)
    assert answered_row is not None
    result: list[SummaryDoc | str | None] = []
    for c, column in enumerate(table.columns):
        shown = table.published[answered_row][c]
        if shown == 0:
            result.append(None)
            continue
        values: Counter[float] = Counter()
        for member in column.members:
            values.update(counts.values(member, table.variable.id))
        if shown < protection.smallest_group or sum(values.values()) < protection.k:
            result.append(SUPPRESSED)
            continue
        summary = summarise_counts(values)
        result.append(
            SummaryDoc(
                n=shown,
                median=round(summary.median, 2),
                q1=round(summary.q1, 2),
                q3=round(summary.q3, 2),
            )
        )
    return result


def column_of(document: TableDoc, index: int) -> TableDoc:
    """One column of a published table, as a table of its own (a filter view's frequencies)."""
    sliced = TableDoc(
        variable=document["variable"],
        dimension=None,
        columns=[document["columns"][index]],
        sizes=[document["sizes"][index]],
        rows=[
            RowDoc(key=row["key"], counts=[row["counts"][index]], percents=[row["percents"][index]])
            for row in document["rows"]
        ],
        bases=[document["bases"][index]] if document["bases"] else [],
        withheld=document["withheld"],
    )
    if "estimates" in document:
        sliced["estimates"] = [document["estimates"][index]]
    if "summaries" in document:
        sliced["summaries"] = [document["summaries"][index]]
    return sliced
