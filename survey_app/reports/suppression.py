"""Small-cell suppression for count tables published with their totals.

What is published. A table of counts (rows x columns) is shown with its row totals, column
totals and grand total; a frequency table is the 1 x n case. A series of such tables (one per
round) is shown together with the pooled table, the cell-wise sum of the rounds.

Rules, with threshold ``k``:

* Groups. A row or column whose total is 1..k-1 is a group too small to show: it is left out
  entirely (``hidden_rows`` / ``hidden_columns``) and every published total, the grand total
  included, is the sum over the shown rows and columns only. Leaving a group out changes the
  other totals, so the rule is applied until nothing changes. A line with a single shown cell is
  not a group of its own: its total is that cell, so the cell rule below covers it (this is how
  the categories of a frequency table are treated). A table whose grand total is 1..k-1 is not
  shown at all.
* Primary suppression: every shown cell with a count of 1..k-1.
* Zeros are always published.
* Complementary suppression: further non-zero cells, the smallest first, until no suppressed
  cell can be worked out exactly from what is published, knowing only that counts are
  non-negative integers.
* If a suppressed cell cannot be protected that way (published zeros can leave no room), the
  smaller of its row and column is left out as a group and the table is worked out again.

Why the check is exact enough. Every suppressed cell holds at least 1, so adding 1 and
subtracting 1 alternately around a cycle of suppressed cells (cells joined through shared rows
and columns) gives another non-negative table with the same totals. A cell on such a cycle
therefore has at least two possible values. For a single table the converse also holds (a
table with totals is a network; any other solution decomposes into such cycles), so the cycle
test is exactly "not derivable". Lines whose total is not published (the categories of a
frequency table) are joined by a free node: moving a unit between two of them keeps every
published number.

Series. Groups left out in any round or in the pooled table are left out of all of them, so
every table shows the same rows and columns; a round whose grand total is 1..k-1 is left out
and the pooled table is the sum of the shown rounds. A suppressed cell of a round is protected
by a cycle that is suppressed in that round and in the pooled table (the pooled cells move with
it), or in that round and another round (opposite moves, the pooled table unchanged). A
suppressed pooled cell is protected by a cycle suppressed in the pooled table and one round.
These moves are sufficient, not necessary, so a series may hide a little more than the least
possible, never less.

Scope. Protection covers one table, or one series with its pooled table. Totals left to be
compared with another published table (say the same rows counted over all respondents,
hidden groups included) are outside it: publish such tables as one series or not at all.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

Position = tuple[int, int]
Mask = tuple[tuple[bool, ...], ...]
_Cost = tuple[int, int]
_Node = tuple[str, int]
_FREE_NODE: _Node = ("free", 0)


class InvalidTableError(ValueError):
    """The counts do not form a rectangular table of non-negative integers."""


class InvalidThresholdError(ValueError):
    """The suppression threshold k is not a positive integer."""


class MismatchedRoundsError(ValueError):
    """The tables of a series are missing or do not all have the same shape."""


@dataclass(frozen=True)
class SuppressedTable:
    """A count table with what may and may not be published.

    ``suppressed`` is ``primary | complementary``. Cells in hidden rows or columns are not
    marked suppressed: the whole group is left out of the published table instead. Use
    ``published_value``, ``row_total``, ``column_total`` and ``grand_total``, which return
    ``None`` for anything that must not be shown.
    """

    counts: tuple[tuple[int, ...], ...]
    k: int
    suppressed: Mask
    primary: Mask
    complementary: Mask
    hidden_rows: tuple[bool, ...]
    hidden_columns: tuple[bool, ...]

    @property
    def shown_rows(self) -> tuple[int, ...]:
        return tuple(r for r, hidden in enumerate(self.hidden_rows) if not hidden)

    @property
    def shown_columns(self) -> tuple[int, ...]:
        return tuple(c for c, hidden in enumerate(self.hidden_columns) if not hidden)

    def is_shown(self, row: int, column: int) -> bool:
        """Whether the cell belongs to the published table (even if its value is suppressed)."""
        return not self.hidden_rows[row] and not self.hidden_columns[column]

    def published_value(self, row: int, column: int) -> int | None:
        if not self.is_shown(row, column) or self.suppressed[row][column]:
            return None
        return self.counts[row][column]

    def row_total(self, row: int) -> int | None:
        if self.hidden_rows[row]:
            return None
        return self._line_total([(row, c) for c in self.shown_columns])

    def column_total(self, column: int) -> int | None:
        if self.hidden_columns[column]:
            return None
        return self._line_total([(r, column) for r in self.shown_rows])

    def grand_total(self) -> int | None:
        if not self.shown_rows or not self.shown_columns:
            return None
        return sum(self.counts[r][c] for r in self.shown_rows for c in self.shown_columns)

    def _line_total(self, cells: list[Position]) -> int | None:
        # A line with one shown cell has that cell as its total: publishing the total of a
        # suppressed single cell would publish the cell.
        if len(cells) == 1 and self.suppressed[cells[0][0]][cells[0][1]]:
            return None
        return sum(self.counts[r][c] for r, c in cells)


@dataclass(frozen=True)
class SuppressedSeries:
    """The same table across rounds, plus the pooled table (sum of the shown rounds)."""

    rounds: tuple[SuppressedTable, ...]
    pooled: SuppressedTable
    hidden_rounds: tuple[bool, ...]


def suppress_table(counts: Sequence[Sequence[int]], k: int) -> SuppressedTable:
    """Apply disclosure control to one table published with its totals (see module doc)."""
    _check_threshold(k)
    tables, _ = _suppress([_validated(counts)], k, pooled=False)
    return tables[0]


def suppress_series(tables: Sequence[Sequence[Sequence[int]]], k: int) -> SuppressedSeries:
    """Apply disclosure control to rounds of one table published with their pooled table."""
    _check_threshold(k)
    if not tables:
        raise MismatchedRoundsError("a series needs at least one round")
    rounds = [_validated(table) for table in tables]
    shapes = sorted({(len(table), len(table[0])) for table in rounds})
    if len(shapes) != 1:
        raise MismatchedRoundsError(
            f"every round must have the same rows and columns; got shapes {shapes}"
        )
    results, shown_rounds = _suppress(rounds, k, pooled=True)
    return SuppressedSeries(
        rounds=tuple(results[:-1]),
        pooled=results[-1],
        hidden_rounds=tuple(t not in shown_rounds for t in range(len(rounds))),
    )


def _suppress(
    rounds: list[tuple[tuple[int, ...], ...]], k: int, *, pooled: bool
) -> tuple[list[SuppressedTable], list[int]]:
    """Suppress rounds (and their pooled table if ``pooled``).

    Returns the results (rounds, then the pooled table) and the indices of the shown rounds.
    """
    n_rows, n_columns = len(rounds[0]), len(rounds[0][0])
    forced_rows: set[int] = set()
    forced_columns: set[int] = set()
    while True:
        plan = _plan_groups(rounds, k, pooled, forced_rows, forced_columns)
        layers = [_Layer(table) for table in plan.tables]
        grid = _Grid(plan.rows, plan.columns)
        for layer in layers:
            layer.primary = {p for p in grid.cells() if 1 <= layer.value(p) <= k - 1}
        stuck = _protect(grid, layers, _linkages(len(layers), pooled))
        if stuck is None:
            break
        # Published zeros leave this cell no cycle: leave out the smaller of its lines.
        layer_index, (row, column) = stuck
        table = plan.tables[layer_index]
        row_total = _total(table, [row], plan.columns)
        column_total = _total(table, plan.rows, [column])
        if row_total <= column_total:
            forced_rows.add(row)
        else:
            forced_columns.add(column)

    hidden_rows = tuple(r not in plan.rows for r in range(n_rows))
    hidden_columns = tuple(c not in plan.columns for c in range(n_columns))
    layer_by_round = dict(zip(plan.shown_rounds, layers, strict=False))
    everything = (True,) * n_rows, (True,) * n_columns
    shown = hidden_rows, hidden_columns
    results = [
        _result(table, k, layer_by_round.get(t), *(shown if t in layer_by_round else everything))
        for t, table in enumerate(rounds)
    ]
    if pooled:
        results.append(_result(layers[-1].counts, k, layers[-1], *shown))
    return results, plan.shown_rounds


# ---------------------------------------------------------------------------------------------
# Groups


@dataclass(frozen=True)
class _GroupPlan:
    rows: list[int]
    columns: list[int]
    shown_rounds: list[int]
    tables: list[tuple[tuple[int, ...], ...]]  # shown rounds, then pooled when there is one


def _plan_groups(
    rounds: list[tuple[tuple[int, ...], ...]],
    k: int,
    pooled: bool,
    forced_rows: set[int],
    forced_columns: set[int],
) -> _GroupPlan:
    n_rows, n_columns = len(rounds[0]), len(rounds[0][0])
    hidden_rows, hidden_columns = set(forced_rows), set(forced_columns)
    hidden_rounds: set[int] = set()
    while True:
        rows = [r for r in range(n_rows) if r not in hidden_rows]
        columns = [c for c in range(n_columns) if c not in hidden_columns]
        shown_rounds = [t for t in range(len(rounds)) if t not in hidden_rounds]
        if not rows or not columns or not shown_rounds:
            # Nothing left to show: publish no table rather than a table of zeros.
            hidden_rows, hidden_columns = set(range(n_rows)), set(range(n_columns))
            rows, columns = [], []
        tables = [rounds[t] for t in shown_rounds]
        if pooled:
            tables.append(_sum_tables(tables, n_rows, n_columns))
            small_rounds = {
                t for t in shown_rounds if _is_small(_total(rounds[t], rows, columns), k)
            }
            if small_rounds:
                hidden_rounds |= small_rounds
                continue
        new_rows: set[int] = set()
        new_columns: set[int] = set()
        for table in tables:
            if len(columns) >= 2:
                new_rows |= {r for r in rows if _is_small(_total(table, [r], columns), k)}
            if len(rows) >= 2:
                new_columns |= {c for c in columns if _is_small(_total(table, rows, [c]), k)}
        if _is_small(_total(tables[-1], rows, columns), k):
            new_rows, new_columns = set(rows), set(columns)
        if not new_rows and not new_columns:
            return _GroupPlan(rows, columns, shown_rounds, tables)
        hidden_rows |= new_rows
        hidden_columns |= new_columns


def _is_small(count: int, k: int) -> bool:
    return 1 <= count <= k - 1


def _total(table: Sequence[Sequence[int]], rows: Sequence[int], columns: Sequence[int]) -> int:
    return sum(table[r][c] for r in rows for c in columns)


def _sum_tables(
    tables: list[tuple[tuple[int, ...], ...]], n_rows: int, n_columns: int
) -> tuple[tuple[int, ...], ...]:
    return tuple(
        tuple(sum(table[r][c] for table in tables) for c in range(n_columns)) for r in range(n_rows)
    )


# ---------------------------------------------------------------------------------------------
# Complementary suppression


class _Layer:
    """One table being suppressed: a round, the pooled table, or a lone table."""

    def __init__(self, counts: tuple[tuple[int, ...], ...]) -> None:
        self.counts = counts
        self.primary: set[Position] = set()
        self.complementary: set[Position] = set()

    def value(self, position: Position) -> int:
        return self.counts[position[0]][position[1]]

    def is_suppressed(self, position: Position) -> bool:
        return position in self.primary or position in self.complementary


@dataclass(frozen=True)
class _Grid:
    """The shown rows and columns, as a graph: rows and columns are nodes, cells are edges."""

    rows: list[int]
    columns: list[int]

    def cells(self) -> list[Position]:
        return [(r, c) for r in self.rows for c in self.columns]

    @property
    def free_rows(self) -> bool:
        # Row totals are not published of their own when each row has a single shown cell.
        return len(self.columns) == 1 and len(self.rows) > 1

    @property
    def free_columns(self) -> bool:
        return len(self.rows) == 1 and len(self.columns) > 1

    def neighbours(self, node: _Node, skip: Position) -> Iterable[tuple[_Node, Position | None]]:
        kind, index = node
        if kind == "row":
            for column in self.columns:
                if (index, column) != skip:
                    yield ("column", column), (index, column)
            if self.free_rows:
                yield _FREE_NODE, None
        elif kind == "column":
            for row in self.rows:
                if (row, index) != skip:
                    yield ("row", row), (row, index)
            if self.free_columns:
                yield _FREE_NODE, None
        else:
            if self.free_rows:
                yield from ((("row", r), None) for r in self.rows)
            if self.free_columns:
                yield from ((("column", c), None) for c in self.columns)

    def cheapest_cycle(
        self, through: Position, edge_cost: Callable[[Position], _Cost | None]
    ) -> tuple[_Cost, list[Position]] | None:
        """Cheapest path joining the two ends of ``through`` without using it (Dijkstra)."""
        return cheapest_path(
            ("row", through[0]),
            ("column", through[1]),
            lambda node: self.neighbours(node, through),
            edge_cost,
        )


def cheapest_path(
    start: _Node,
    goal: _Node,
    neighbours: Callable[[_Node], Iterable[tuple[_Node, Position | None]]],
    edge_cost: Callable[[Position], _Cost | None],
) -> tuple[_Cost, list[Position]] | None:
    """Dijkstra over a graph whose edges are cells (or free links, ``None``, costing nothing).

    Returns the total cost and the cells on the cheapest path, or None when ``goal`` cannot be
    reached; a cell whose cost is None cannot be used.
    """
    best: dict[_Node, _Cost] = {start: (0, 0)}
    came_from: dict[_Node, tuple[_Node, Position | None]] = {}
    queue: list[tuple[_Cost, _Node]] = [((0, 0), start)]
    while queue:
        cost, node = heapq.heappop(queue)
        if node == goal:
            path: list[Position] = []
            while node != start:
                node, cell = came_from[node]
                if cell is not None:
                    path.append(cell)
            return cost, path
        if cost > best[node]:
            continue
        for neighbour, cell in neighbours(node):
            step = (0, 0) if cell is None else edge_cost(cell)
            if step is None:
                continue
            new_cost = (cost[0] + step[0], cost[1] + step[1])
            if neighbour not in best or new_cost < best[neighbour]:
                best[neighbour] = new_cost
                came_from[neighbour] = (node, cell)
                heapq.heappush(queue, (new_cost, neighbour))
    return None


def _linkages(n_layers: int, pooled: bool) -> list[tuple[int, ...]]:
    """Sets of layers that may carry one cycle together (see the module doc)."""
    if not pooled:
        return [(0,)]
    pooled_index = n_layers - 1
    with_pooled: list[tuple[int, ...]] = [(t, pooled_index) for t in range(pooled_index)]
    between_rounds: list[tuple[int, ...]] = [
        (t, s) for t in range(pooled_index) for s in range(t + 1, pooled_index)
    ]
    return with_pooled + between_rounds


def _protect(
    grid: _Grid, layers: list[_Layer], linkages: list[tuple[int, ...]]
) -> tuple[int, Position] | None:
    """Add complementary suppressions; return a cell that cannot be protected, if any.

    Protection only grows as cells are added, so each cell needs checking once it is
    suppressed and again only until a cycle protects it.
    """
    pending = [(index, p) for index, layer in enumerate(layers) for p in sorted(layer.primary)]
    while pending:
        layer_index, position = pending.pop(0)
        if _is_protected(grid, layers, linkages, layer_index, position):
            continue
        added = _add_cheapest_cycle(grid, layers, linkages, layer_index, position)
        if added is None:
            return layer_index, position
        assert added, "a cycle that adds nothing would already protect the cell"
        pending.extend(added)
        pending.append((layer_index, position))
    return None


def _is_protected(
    grid: _Grid,
    layers: list[_Layer],
    linkages: list[tuple[int, ...]],
    layer_index: int,
    position: Position,
) -> bool:
    for linkage in linkages:
        if layer_index not in linkage:
            continue
        members = [layers[m] for m in linkage]
        if not all(layer.is_suppressed(position) for layer in members):
            continue

        def suppressed_in_all(cell: Position, members: list[_Layer] = members) -> _Cost | None:
            return (0, 0) if all(layer.is_suppressed(cell) for layer in members) else None

        if grid.cheapest_cycle(position, suppressed_in_all) is not None:
            return True
    return False


def _add_cheapest_cycle(
    grid: _Grid,
    layers: list[_Layer],
    linkages: list[tuple[int, ...]],
    layer_index: int,
    position: Position,
) -> list[tuple[int, Position]] | None:
    """Suppress the cheapest cycle through ``position``; None when no cycle exists."""
    best: tuple[_Cost, tuple[int, ...], list[Position]] | None = None
    for linkage in linkages:
        if layer_index not in linkage:
            continue
        members = [layers[m] for m in linkage]

        def cost_in_all(cell: Position, members: list[_Layer] = members) -> _Cost | None:
            # Zeros stay published, so a cycle may only pass through non-zero cells.
            if any(layer.value(cell) == 0 for layer in members):
                return None
            added = [layer.value(cell) for layer in members if not layer.is_suppressed(cell)]
            return sum(added), len(added)

        own_cost = cost_in_all(position)
        if own_cost is None:
            continue
        found = grid.cheapest_cycle(position, cost_in_all)
        if found is None:
            continue
        path_cost, path = found
        cost = (own_cost[0] + path_cost[0], own_cost[1] + path_cost[1])
        if best is None or cost < best[0]:
            best = (cost, linkage, [position, *path])
    if best is None:
        return None
    _, linkage, cells = best
    added_cells = []
    for member in linkage:
        layer = layers[member]
        for cell in cells:
            if not layer.is_suppressed(cell):
                layer.complementary.add(cell)
                added_cells.append((member, cell))
    return added_cells


# ---------------------------------------------------------------------------------------------
# Input and output


def _check_threshold(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidThresholdError(
            f"the suppression threshold k must be a whole number of at least 1, got {k!r}"
        )


def _validated(counts: Sequence[Sequence[int]]) -> tuple[tuple[int, ...], ...]:
    table = tuple(tuple(row) for row in counts)
    if not table or not table[0]:
        raise InvalidTableError("a table needs at least one row and one column")
    if any(len(row) != len(table[0]) for row in table):
        raise InvalidTableError("every row of a table must have the same number of columns")
    for row in table:
        for value in row:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidTableError(f"counts must be non-negative integers, got {value!r}")
    return table


def _result(
    counts: tuple[tuple[int, ...], ...],
    k: int,
    layer: _Layer | None,
    hidden_rows: tuple[bool, ...],
    hidden_columns: tuple[bool, ...],
) -> SuppressedTable:
    primary = layer.primary if layer else set()
    complementary = layer.complementary if layer else set()

    def mask(cells: set[Position]) -> Mask:
        return tuple(
            tuple((r, c) in cells for c in range(len(counts[0]))) for r in range(len(counts))
        )

    return SuppressedTable(
        counts=counts,
        k=k,
        suppressed=mask(primary | complementary),
        primary=mask(primary),
        complementary=mask(complementary),
        hidden_rows=hidden_rows,
        hidden_columns=hidden_columns,
    )
