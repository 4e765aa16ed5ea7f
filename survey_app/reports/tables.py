"""The published tables of one variable: counts, suppression, percentages and estimates.

Every table of a variable in a view is protected as one family (see ``linked``): first the
frequency table over everyone, then each cross-tab with the frequency table's suppression
pattern held fixed. A table's percentages, bases, numeric summaries and indicator estimates are
worked out only from what the table publishes:

* a percentage needs its count and its column's base (the number who answered) published; the
  base is published only when it follows from the published cells anyway (every suppressed
  cell of the column is an answer, or every one is a "skipped" kind of row);
* an indicator's proportion needs both "met" and "not met" published; its Wilson interval goes
  with it;
* a numeric summary needs the number who answered published, and at least k of them. In a
  cross-tab, if the groups whose summary is hidden add up to 1..k-1 people, the overall mean
  would give their mean away, so the smallest shown groups are hidden too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .groups import Group
from .linked import protect_crosstab
from .plan import (
    ALL,
    ANSWERED,
    MET,
    NOT_MET,
    SPECIAL_KEYS,
    Category,
    Text,
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
from .suppression import suppress_table
from .tally import GroupCounts, GroupKey
from .weighted import summarise_counts

WITHHELD = (
    "not published: the small counts in this table have no other cells to be hidden among, "
    "so hiding them would not protect them"
)


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


def layout_of(variable: Variable, seen: set[str], totals: Counter[str]) -> Layout:
    """Rows for ``variable``: its categories, those found only in the data, then the status
    rows that anyone is counted in."""
    known = {c.key for c in variable.categories}
    found = sorted(key for key in seen if key not in known and not _is_status(key))
    answers = (*variable.categories, *(Category(key, {"en": key}) for key in found))
    status = [
        Category(key, builtin(key), builtin=True)
        for key in variable.status_keys()
        if totals[key] > 0 or key in (ANSWERED, MET, NOT_MET)
    ]
    if variable.kind is VariableKind.MULTIPLE:
        return Layout(options=answers, exclusive=tuple(status))
    if variable.kind in (VariableKind.NUMBER, VariableKind.TEXT, VariableKind.INDICATOR):
        return Layout(options=(), exclusive=tuple(status))
    return Layout(options=(), exclusive=(*answers, *status))


@dataclass(frozen=True)
class Column:
    key: str
    members: tuple[GroupKey, ...]
    size: int


@dataclass
class ProtectedTable:
    """Counts of one table with what may be published; column 0 is everyone in the view."""

    variable: Variable
    layout: Layout
    dimension: str | None
    columns: list[Column]
    counts: list[list[int]]  # [row][column], rows in layout order
    suppressed: list[list[bool]]
    withheld: bool = False
    # Whether the groups cover everyone exactly once (not for a multiple-choice dimension).
    exclusive: bool = True


def _column_counts(
    counts: GroupCounts, variable: Variable, rows: Sequence[Category], column: Column
) -> list[int]:
    return [
        sum(counts.count(member, variable.id, category.key) for member in column.members)
        for category in rows
    ]


def frequency_table(
    counts: GroupCounts, variable: Variable, layout: Layout, k: int
) -> ProtectedTable:
    """The variable over everyone: the fixed margin of every cross-tab of it."""
    everyone = Column(ALL, ((ALL, ALL),), counts.sizes[(ALL, ALL)])
    column = _column_counts(counts, variable, layout.rows, everyone)
    n_options = len(layout.options)
    options, exclusive = column[:n_options], column[n_options:]
    mask = [1 <= value < k for value in options]
    protected = suppress_table([exclusive], k)
    if protected.grand_total() is None:
        mask += [True] * len(exclusive)
    else:
        mask += list(protected.suppressed[0])
    return ProtectedTable(
        variable, layout, None, [everyone], [[v] for v in column], [[m] for m in mask]
    )


def crosstab(
    counts: GroupCounts,
    frequency: ProtectedTable,
    dimension: str,
    groups: Sequence[Group],
    exclusive_groups: bool,
    k: int,
) -> ProtectedTable:
    """The variable by the groups of a dimension, protected with the frequency table fixed."""
    variable, layout = frequency.variable, frequency.layout
    columns = [frequency.columns[0]] + [
        Column(g.key, tuple((dimension, m) for m in g.members), g.size) for g in groups
    ]
    by_column = [_column_counts(counts, variable, layout.rows, c) for c in columns[1:]]
    n_options = len(layout.options)
    n_rows = len(layout.rows)
    cells = [[column[r] for column in by_column] for r in range(n_rows)]
    mask = [[False] * len(groups) for _ in range(n_rows)]
    margin = [row[0] for row in frequency.suppressed]
    withheld = False
    for r in range(n_options):
        mask[r] = (
            _protect_line(cells[r], margin[r], k) if exclusive_groups else _primary(cells[r], k)
        )
    exclusive_rows = list(range(n_options, n_rows))
    if exclusive_groups:
        free = [i for i, r in enumerate(exclusive_rows) if margin[r]]
        protected = protect_crosstab([cells[r] for r in exclusive_rows], k, free)
        if protected is None:
            withheld = True
        else:
            for i, r in enumerate(exclusive_rows):
                mask[r] = list(protected[i])
    else:
        for c in range(len(groups)):
            column = [cells[r][c] for r in exclusive_rows]
            result = suppress_table([column], k)
            for i, r in enumerate(exclusive_rows):
                mask[r][c] = result.suppressed[0][i] or result.grand_total() is None
    return ProtectedTable(
        variable,
        layout,
        dimension,
        columns,
        [[frequency.counts[r][0], *cells[r]] for r in range(n_rows)],
        [[margin[r], *mask[r]] for r in range(n_rows)],
        withheld=withheld,
        exclusive=exclusive_groups,
    )


def _primary(line: list[int], k: int) -> list[bool]:
    return [1 <= value < k for value in line]


def _protect_line(line: list[int], total_suppressed: bool, k: int) -> list[bool]:
    """One option of a multiple-choice question across groups, its total published or not."""
    if total_suppressed:
        return [True] * len(line)
    return list(suppress_table([line], k).suppressed[0])


# ---------------------------------------------------------------------------------------------
# Publishing


def publish(table: ProtectedTable, counts: GroupCounts, k: int) -> TableDoc:
    """The table as published: suppressed counts and what goes with them are the marker."""
    layout, variable = table.layout, table.variable
    n_columns = len(table.columns)
    if table.withheld:
        return TableDoc(
            variable=variable.id,
            dimension=table.dimension,
            columns=[c.key for c in table.columns],
            sizes=[c.size for c in table.columns],
            rows=[],
            bases=[],
            withheld=WITHHELD,
        )
    bases = [_base(table, c) for c in range(n_columns)]
    rows = []
    for r, category in enumerate(layout.rows):
        shown: list[Count] = [
            SUPPRESSED if table.suppressed[r][c] else table.counts[r][c] for c in range(n_columns)
        ]
        percents: list[Percent] = [
            _percent(table, r, c, bases[c], category) for c in range(n_columns)
        ]
        rows.append(RowDoc(key=category.key, counts=shown, percents=percents))
    document = TableDoc(
        variable=variable.id,
        dimension=table.dimension,
        columns=[c.key for c in table.columns],
        sizes=[c.size for c in table.columns],
        rows=rows,
        bases=bases,
        withheld=None,
    )
    if variable.kind is VariableKind.INDICATOR:
        document["estimates"] = [_estimate(table, c, bases[c]) for c in range(n_columns)]
    if variable.kind is VariableKind.NUMBER:
        document["summaries"] = _summaries(table, counts, k)
    return document


def _row(table: ProtectedTable, key: str) -> int | None:
    return next((r for r, c in enumerate(table.layout.rows) if c.key == key), None)


def _cell(table: ProtectedTable, key: str, column: int) -> Count | None:
    r = _row(table, key)
    if r is None:
        return None
    return SUPPRESSED if table.suppressed[r][column] else table.counts[r][column]


def _base(table: ProtectedTable, column: int) -> Count | None:
    """The denominator of the column's percentages, if it may be published."""
    kind = table.variable.kind
    if kind in (VariableKind.MULTIPLE, VariableKind.NUMBER, VariableKind.TEXT):
        return _cell(table, ANSWERED, column)
    if kind is VariableKind.INDICATOR:
        met, not_met = _cell(table, MET, column), _cell(table, NOT_MET, column)
        if isinstance(met, int) and isinstance(not_met, int):
            return met + not_met
        return SUPPRESSED
    n_options = len(table.layout.options)
    answers = [
        r for r, c in enumerate(table.layout.rows) if r >= n_options and c.key not in SPECIAL_KEYS
    ]
    others = [r for r in range(n_options, len(table.layout.rows)) if r not in answers]
    hidden_answers = any(table.suppressed[r][column] for r in answers)
    hidden_others = any(table.suppressed[r][column] for r in others)
    if hidden_answers and hidden_others:
        return SUPPRESSED
    return sum(table.counts[r][column] for r in answers)


def _percent(
    table: ProtectedTable, row: int, column: int, base: Count | None, category: Category
) -> Percent:
    kind = table.variable.kind
    if kind in (VariableKind.NUMBER, VariableKind.TEXT):
        return None
    if kind is VariableKind.INDICATOR:
        if category.key not in (MET, NOT_MET):
            return None
    elif _is_status(category.key):
        return None
    if table.suppressed[row][column] or not isinstance(base, int):
        return SUPPRESSED
    if base == 0:
        return None
    return round(100 * table.counts[row][column] / base, 1)


def _estimate(table: ProtectedTable, column: int, base: Count | None) -> EstimateDoc | str | None:
    if not isinstance(base, int):
        return SUPPRESSED
    if base == 0:
        return None
    met_row = _row(table, MET)
    assert met_row is not None, "an indicator always has a 'met' row"
    met = table.counts[met_row][column]
    lower, upper = wilson_interval(met, base)
    return EstimateDoc(
        value=round(met / base, 4),
        lower=round(lower, 4),
        upper=round(upper, 4),
        numerator=met,
        denominator=base,
    )


def _summaries(table: ProtectedTable, counts: GroupCounts, k: int) -> list[SummaryDoc | str | None]:
    answered_row = _row(table, ANSWERED)
    assert answered_row is not None
    answered = table.counts[answered_row]
    shown = [
        not table.suppressed[answered_row][c] and answered[c] >= k
        for c in range(len(table.columns))
    ]
    # Groups of one cross-tab add up to everyone: the overall mean and the shown groups' means
    # give away the mean of the hidden ones, so they must be k or more people together.
    groups = list(range(1, len(table.columns)))
    while table.exclusive and groups:
        hidden = sum(answered[c] for c in groups if not shown[c])
        if not 1 <= hidden < k:
            break
        candidates = [c for c in groups if shown[c]]
        if not candidates:
            break
        shown[min(candidates, key=lambda c: (answered[c], c))] = False
    result: list[SummaryDoc | str | None] = []
    for c, column in enumerate(table.columns):
        if answered[c] == 0 and not table.suppressed[answered_row][c]:
            result.append(None)
            continue
        if not shown[c]:
            result.append(SUPPRESSED)
            continue
        values: Counter[float] = Counter()
        for member in column.members:
            values.update(counts.values(member, table.variable.id))
        summary = summarise_counts(values)
        result.append(
            SummaryDoc(
                n=summary.n,
                mean=round(summary.mean, 2),
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


def label_of(categories: Sequence[Category], key: str) -> Text:
    return next((c.label for c in categories if c.key == key), {"en": key})
