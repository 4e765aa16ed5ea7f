"""Disclosure control for cross-tabs that share their totals with other published tables.

A question's frequency table F (its categories counted over everyone in a view) and its
cross-tabs X_D by each dimension D are linked: the row totals of every X_D are the cells of F,
and the column totals of X_D are the sizes of D's groups, published in D's own table.
``suppression.suppress_table`` protects one table on its own, and hides small rows and columns
as groups, which changes that table's totals: set beside F or another cross-tab, the difference
hands back what was hidden. So here the margins are settled first and then held fixed:

* F is suppressed on its own (``suppress_table`` on the 1 x n table). A row whose F cell is
  suppressed is a *free row*: its total is not published.
* Groups are made at least k before any cross-tab is built (small groups merged, see
  ``groups``), so every column total is published and no column is ever hidden.
* Each cross-tab is then protected by ``protect_crosstab`` given F's pattern:

  - primary suppression of every cell 1..k-1;
  - every suppressed cell lies on a cycle of suppressed cells, where the total of a free row
    counts as a suppressed edge from the row to a shared *free node*;
  - all free rows are joined to each other through suppressed cells.

Why this protects F and all its cross-tabs together. Adding and subtracting 1 alternately
around a cycle of non-zero suppressed cells gives another table with every published number
unchanged (see ``suppression``). A cycle that uses no free edge leaves F alone, so it stays
valid whatever the other cross-tabs publish. A cycle through the free node moves one unit
between two free rows of F; because every cross-tab joins all free rows through suppressed
cells, each of them can follow that move along a path of its own, and F's own protection allows
it. So every suppressed cell of F and of each cross-tab keeps at least two possible values
against everything published for the question in that view.

Outside this guarantee, stated so nobody relies on it: three cross-tabs that are the pairwise
margins of one three-way table (question by age band, question by site, age band by site) are
not checked jointly; and the relation between a multiple-choice question's options and the
number who answered it is an inequality, not a sum, and is not used.

If a cell cannot be protected (published zeros leave it no cycle), ``protect_crosstab`` returns
None and the caller withholds that cross-tab: F and the group sizes never depend on a cross-tab,
so leaving one out reveals nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence

from .suppression import cheapest_path

Position = tuple[int, int]
Mask = tuple[tuple[bool, ...], ...]
_Cost = tuple[int, int]
_Node = tuple[str, int]
_FREE: _Node = ("free", 0)


class InvalidCrosstabError(ValueError):
    """The counts or free rows do not describe a cross-tab that can be protected."""


def protect_crosstab(
    counts: Sequence[Sequence[int]], k: int, free_rows: Collection[int]
) -> Mask | None:
    """Cells to suppress in a cross-tab published with fixed margins (see the module doc).

    ``counts[r][c]``: rows are the categories of the frequency table, columns the groups.
    ``free_rows``: rows whose total is suppressed in the frequency table. Column totals, the
    other row totals and the grand total are taken as published. Returns the suppression mask,
    or None when the cross-tab cannot be protected and must be withheld.
    """
    table = _validated(counts, k, free_rows)
    grid = _Grid(table, frozenset(free_rows))
    for row in grid.free_rows:
        if not any(table[row]):
            raise InvalidCrosstabError(
                f"row {row} is marked free (its total suppressed) but all its cells are zero; "
                "a zero total is always published"
            )
    suppressed = {
        (r, c) for r, line in enumerate(table) for c, value in enumerate(line) if 1 <= value < k
    }
    if not _join_free_rows(grid, suppressed):
        return None
    pending = sorted(suppressed)
    while pending:
        cell = pending.pop(0)
        if grid.path(cell, lambda p: (0, 0) if p in suppressed else None) is not None:
            continue
        found = grid.path(cell, _cost_of(table, suppressed))
        if found is None:
            return None
        added = [p for p in found if p not in suppressed]
        suppressed.update(added)
        pending.extend(added)
    return tuple(
        tuple((r, c) in suppressed for c in range(len(table[0]))) for r in range(len(table))
    )


def _validated(
    counts: Sequence[Sequence[int]], k: int, free_rows: Collection[int]
) -> tuple[tuple[int, ...], ...]:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidCrosstabError(f"the threshold k must be a whole number of at least 1: {k!r}")
    table = tuple(tuple(row) for row in counts)
    if not table or not table[0] or any(len(row) != len(table[0]) for row in table):
        raise InvalidCrosstabError("a cross-tab needs rows of the same, non-zero length")
    if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for row in table for v in row):
        raise InvalidCrosstabError("counts must be non-negative whole numbers")
    if any(not 0 <= r < len(table) for r in free_rows):
        raise InvalidCrosstabError(f"free rows {sorted(free_rows)} are not all rows of the table")
    return table


def _cost_of(
    table: tuple[tuple[int, ...], ...], suppressed: set[Position]
) -> Callable[[Position], _Cost | None]:
    def cost(position: Position) -> _Cost | None:
        if position in suppressed:
            return (0, 0)
        value = table[position[0]][position[1]]
        # Zeros stay published, so a cycle may only pass through non-zero cells.
        return None if value == 0 else (value, 1)

    return cost


def _join_free_rows(grid: _Grid, suppressed: set[Position]) -> bool:
    """Suppress the cheapest paths that join every free row to the first one."""
    rows = sorted(grid.free_rows)
    for row in rows[1:]:
        found = grid.row_path(rows[0], row, _cost_of(grid.table, suppressed))
        if found is None:
            return False
        suppressed.update(found)
    return True


class _Grid:
    """Rows and columns as nodes, cells as edges, plus the free node joined to the free rows."""

    def __init__(self, table: tuple[tuple[int, ...], ...], free_rows: frozenset[int]) -> None:
        self.table = table
        self.free_rows = free_rows
        self.columns = range(len(table[0]))
        self.rows = range(len(table))

    def neighbours(
        self, node: _Node, skip: Position | None, through_free: bool
    ) -> Iterable[tuple[_Node, Position | None]]:
        kind, index = node
        if kind == "row":
            for column in self.columns:
                if (index, column) != skip:
                    yield ("column", column), (index, column)
            if through_free and index in self.free_rows:
                yield _FREE, None
        elif kind == "column":
            for row in self.rows:
                if (row, index) != skip:
                    yield ("row", row), (row, index)
        elif through_free:
            for row in sorted(self.free_rows):
                yield ("row", row), None

    def path(
        self, through: Position, cost: Callable[[Position], _Cost | None]
    ) -> list[Position] | None:
        """Cheapest path joining the two ends of ``through`` without using it."""
        return self._cheapest(("row", through[0]), ("column", through[1]), through, cost, True)

    def row_path(
        self, start: int, goal: int, cost: Callable[[Position], _Cost | None]
    ) -> list[Position] | None:
        """Cheapest path of cells between two rows, not through the free node."""
        return self._cheapest(("row", start), ("row", goal), None, cost, False)

    def _cheapest(
        self,
        start: _Node,
        goal: _Node,
        skip: Position | None,
        cost: Callable[[Position], _Cost | None],
        through_free: bool,
    ) -> list[Position] | None:
        found = cheapest_path(
            start, goal, lambda node: self.neighbours(node, skip, through_free), cost
        )
        return None if found is None else found[1]
