"""Disclosure control: no suppressed count can be worked out from what a table publishes.

The attacker here is exact: it searches every table of non-negative integers that agrees with
every published number (cells, row and column totals, grand totals, and for a series the pooled
table) and looks for a second possible value of each suppressed cell. It assumes nothing else,
in particular not that a suppressed cell is non-zero.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from survey_app.reports.suppression import (
    InvalidTableError,
    InvalidThresholdError,
    MismatchedRoundsError,
    SuppressedSeries,
    SuppressedTable,
    suppress_series,
    suppress_table,
)

Cell = tuple[int, int, int]  # (table, row, column)


@dataclass
class Published:
    """What an attacker sees, as sums of unknown cells equal to known numbers."""

    unknowns: list[Cell]
    truth: dict[Cell, int]
    equations: list[tuple[list[int], int]]  # (indices into unknowns, right-hand side)


def _add_line(
    published: Published,
    known: dict[Cell, int],
    cells: Sequence[Cell],
    total: int,
) -> None:
    index = {cell: i for i, cell in enumerate(published.unknowns)}
    unknown = [index[cell] for cell in cells if cell not in known]
    remainder = total - sum(known[cell] for cell in cells if cell in known)
    published.equations.append((unknown, remainder))


def _observe(tables: Sequence[SuppressedTable], pooled: SuppressedTable | None) -> Published:
    """Everything published by some tables and, if given, their pooled table.

    Unknowns are the suppressed shown cells of the rounds; a pooled cell is the sum of the
    rounds' cells, which is how the attacker relates the pooled table to them.
    """
    known: dict[Cell, int] = {}
    unknowns: list[Cell] = []
    truth: dict[Cell, int] = {}
    for t, table in enumerate(tables):
        for r in table.shown_rows:
            for c in table.shown_columns:
                value = table.published_value(r, c)
                if value is None:
                    unknowns.append((t, r, c))
                    truth[(t, r, c)] = table.counts[r][c]
                else:
                    known[(t, r, c)] = value
    published = Published(unknowns, truth, [])
    shown = [t for t, table in enumerate(tables) if table.shown_rows]
    sources: list[tuple[SuppressedTable, list[int]]] = [(tables[t], [t]) for t in shown]
    if pooled is not None:
        sources.append((pooled, shown))
    for table, parts in sources:
        rows, columns = table.shown_rows, table.shown_columns
        for r in rows:
            total = table.row_total(r)
            if total is not None:
                _add_line(published, known, [(t, r, c) for t in parts for c in columns], total)
        for c in columns:
            total = table.column_total(c)
            if total is not None:
                _add_line(published, known, [(t, r, c) for t in parts for r in rows], total)
        grand = table.grand_total()
        if grand is not None:
            cells = [(t, r, c) for t in parts for r in rows for c in columns]
            _add_line(published, known, cells, grand)
        if table is pooled:
            for r in rows:
                for c in columns:
                    value = table.published_value(r, c)
                    if value is not None:
                        _add_line(published, known, [(t, r, c) for t in parts], value)
    return published


def _find_other_table(published: Published, target: list[int]) -> bool:
    """Whether some consistent table gives the cells in ``target`` a different sum."""
    n = len(published.unknowns)
    true_values = [published.truth[cell] for cell in published.unknowns]
    bound = [max(v for v in true_values) * 4 + 50] * n
    for variables, rhs in published.equations:
        for v in variables:
            bound[v] = min(bound[v], rhs)
    equations_of: list[list[int]] = [[] for _ in range(n)]
    for e, (variables, _) in enumerate(published.equations):
        for v in variables:
            equations_of[v].append(e)
    target_truth = sum(true_values[v] for v in target)
    order = list(dict.fromkeys([*target, *range(n)]))
    values: list[int | None] = [None] * n

    def consistent(v: int) -> bool:
        for e in equations_of[v]:
            variables, rhs = published.equations[e]
            assigned = sum(values[u] or 0 for u in variables)
            room = sum(bound[u] for u in variables if values[u] is None)
            if assigned > rhs or assigned + room < rhs:
                return False
        return True

    def search(position: int) -> bool:
        if position == len(order):
            return sum(values[v] or 0 for v in target) != target_truth
        v = order[position]
        if position == len(target) and sum(values[u] or 0 for u in target) == target_truth:
            return False
        candidates = range(bound[v] + 1)
        for e in equations_of[v]:
            variables, rhs = published.equations[e]
            open_variables = [u for u in variables if values[u] is None]
            if open_variables == [v]:
                forced = rhs - sum(values[u] or 0 for u in variables if u != v)
                candidates = range(forced, forced + 1) if 0 <= forced <= bound[v] else range(0)
                break
        for candidate in candidates:
            values[v] = candidate
            if consistent(v) and search(position + 1):
                return True
        values[v] = None
        return False

    assert all(
        sum(true_values[v] for v in variables) == rhs for variables, rhs in published.equations
    ), "the published numbers must agree with the real table"
    return search(0)


def _derivable_cells(
    tables: Sequence[SuppressedTable], pooled: SuppressedTable | None = None
) -> list[str]:
    published = _observe(tables, pooled)
    position = {cell: i for i, cell in enumerate(published.unknowns)}
    found = []
    for cell in published.unknowns:
        if not _find_other_table(published, [position[cell]]):
            found.append(f"table {cell[0]} cell {cell[1:]} = {published.truth[cell]}")
    if pooled is not None:
        for r in pooled.shown_rows:
            for c in pooled.shown_columns:
                if pooled.published_value(r, c) is None:
                    parts = [position[cell] for cell in published.unknowns if cell[1:] == (r, c)]
                    if not _find_other_table(published, parts):
                        found.append(f"pooled cell {(r, c)} = {pooled.counts[r][c]}")
    return found


def _assert_publishes_nothing_small(table: SuppressedTable) -> None:
    k = table.k
    numbers = [table.grand_total()]
    numbers += [table.row_total(r) for r in range(len(table.counts))]
    numbers += [table.column_total(c) for c in range(len(table.counts[0]))]
    for r in table.shown_rows:
        for c in table.shown_columns:
            value = table.counts[r][c]
            assert table.suppressed[r][c] == (table.published_value(r, c) is None)
            if value == 0:
                assert table.published_value(r, c) == 0, "zeros stay published"
            elif value < k:
                assert table.primary[r][c]
            numbers.append(table.published_value(r, c))
    assert all(n is None or n == 0 or n >= k for n in numbers), numbers
    for r in table.shown_rows:
        total = table.row_total(r)
        assert total is None or total == sum(table.counts[r][c] for c in table.shown_columns)
    for c in table.shown_columns:
        total = table.column_total(c)
        assert total is None or total == sum(table.counts[r][c] for r in table.shown_rows)
    grand = table.grand_total()
    assert grand is None or grand == sum(
        table.counts[r][c] for r in table.shown_rows for c in table.shown_columns
    )


def _random_table(rng: random.Random, rows: int, columns: int) -> list[list[int]]:
    high = rng.choice([6, 12, 12, 20])
    return [[rng.randint(0, high) for _ in range(columns)] for _ in range(rows)]


# --- The attacker itself must catch a weak pattern, or the proofs below prove nothing.


def test_attacker_recovers_a_cell_hidden_without_complements() -> None:
    naive = SuppressedTable(
        counts=((2, 9), (7, 8)),
        k=5,
        suppressed=((True, False), (False, False)),
        primary=((True, False), (False, False)),
        complementary=((False, False), (False, False)),
        hidden_rows=(False, False),
        hidden_columns=(False, False),
    )
    assert _derivable_cells([naive]) == ["table 0 cell (0, 0) = 2"]


def test_attacker_solves_two_hidden_cells_per_line_by_linear_algebra() -> None:
    # Two hidden 2 x 2 blocks joined by one cell: every line with a hidden cell has at least
    # two, yet rows 0-1 minus columns 0-1 give the joining cell exactly.
    hidden = {(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 2), (2, 3), (3, 2), (3, 3)}
    mask = tuple(tuple((r, c) in hidden for c in range(4)) for r in range(4))
    naive = SuppressedTable(
        counts=((2, 6, 9, 8), (7, 8, 3, 9), (9, 9, 6, 7), (8, 9, 5, 6)),
        k=5,
        suppressed=mask,
        primary=tuple(
            tuple(v and (r, c) == (1, 2) for c, v in enumerate(row)) for r, row in enumerate(mask)
        ),
        complementary=mask,
        hidden_rows=(False,) * 4,
        hidden_columns=(False,) * 4,
    )
    assert _derivable_cells([naive]) == ["table 0 cell (1, 2) = 3"]


# --- Single tables


def test_small_cell_gets_complements_in_its_row_and_column() -> None:
    result = suppress_table([[2, 10, 8], [9, 7, 12], [6, 11, 20]], k=5)
    assert result.primary[0][0]
    assert sum(map(sum, result.suppressed)) >= 4
    assert sum(result.suppressed[0]) >= 2
    assert sum(row[0] for row in result.suppressed) >= 2
    # The smallest cells are the ones given up.
    assert result.published_value(2, 2) == 20
    assert _derivable_cells([result]) == []
    assert result.grand_total() == 85


def test_frequency_table_suppresses_small_categories_and_keeps_total() -> None:
    result = suppress_table([[3, 0, 7, 9]], k=5)
    assert [result.published_value(0, c) for c in range(4)] == [None, 0, None, 9]
    assert result.primary[0][0] and result.complementary[0][2]
    assert result.grand_total() == 19 and result.row_total(0) == 19
    assert result.column_total(0) is None and result.column_total(3) == 9
    assert not any(result.hidden_columns)


def test_table_without_small_cells_is_published_whole() -> None:
    result = suppress_table([[5, 0, 8], [9, 7, 0]], k=5)
    assert not any(map(any, result.suppressed))
    assert [result.published_value(1, c) for c in range(3)] == [9, 7, 0]


def test_small_group_is_left_out_and_totals_cover_shown_groups_only() -> None:
    result = suppress_table([[1, 2, 0], [8, 9, 10]], k=5)
    assert result.hidden_rows == (True, False)
    assert result.published_value(0, 0) is None
    assert result.row_total(0) is None
    assert [result.column_total(c) for c in range(3)] == [8, 9, 10]
    assert result.grand_total() == 27


def test_small_grand_total_hides_the_whole_table() -> None:
    result = suppress_table([[1, 0], [0, 2]], k=5)
    assert all(result.hidden_rows) and all(result.hidden_columns)
    assert result.grand_total() is None


def test_cell_that_zeros_leave_unprotectable_drops_its_group() -> None:
    # With the zero published, the margins fix every cell of the 2 x 2 table.
    result = suppress_table([[2, 5], [5, 0]], k=3)
    assert result.hidden_rows == (True, False)
    assert result.published_value(1, 0) == 5
    assert _derivable_cells([result]) == []


def test_k_of_one_suppresses_nothing() -> None:
    result = suppress_table([[1, 2], [3, 0]], k=1)
    assert not any(map(any, result.suppressed)) and not any(result.hidden_rows)


@pytest.mark.parametrize(
    ("counts", "error"),
    [([], InvalidTableError), ([[1, 2], [3]], InvalidTableError), ([[1, -1]], InvalidTableError)],
)
def test_invalid_tables_are_refused(counts: list[list[int]], error: type[Exception]) -> None:
    with pytest.raises(error):
        suppress_table(counts, k=5)


def test_invalid_threshold_is_refused() -> None:
    with pytest.raises(InvalidThresholdError):
        suppress_table([[1]], k=0)


def test_no_suppressed_cell_is_derivable_in_random_tables() -> None:
    rng = random.Random(20260528)
    shapes = [(2, 2), (2, 3), (3, 2), (3, 3), (2, 4), (3, 4)]
    checked = suppressed = 0
    for case in range(600):
        rows, columns = shapes[case % len(shapes)]
        k = rng.choice([3, 5])
        counts = _random_table(rng, rows, columns)
        result = suppress_table(counts, k)
        _assert_publishes_nothing_small(result)
        assert _derivable_cells([result]) == [], (counts, k, result.suppressed)
        checked += 1
        suppressed += sum(map(sum, result.suppressed))
    assert checked == 600 and suppressed > 500  # the random tables do exercise suppression


def test_no_suppressed_cell_is_derivable_in_frequency_tables() -> None:
    for k in (3, 5):
        for n in range(1, 5):
            for counts in itertools.product([0, 1, 2, 4, 5, 9], repeat=n):
                for table in ([list(counts)], [[value] for value in counts]):
                    result = suppress_table(table, k)
                    _assert_publishes_nothing_small(result)
                    assert _derivable_cells([result]) == [], (table, k)


# --- Series of rounds with a pooled table


def _check_series(result: SuppressedSeries, rounds: list[list[list[int]]]) -> None:
    shown = [t for t, hidden in enumerate(result.hidden_rounds) if not hidden]
    pooled = [
        [sum(rounds[t][r][c] for t in shown) for c in range(len(rounds[0][0]))]
        for r in range(len(rounds[0]))
    ]
    assert [list(row) for row in result.pooled.counts] == pooled
    for table in [*result.rounds, result.pooled]:
        _assert_publishes_nothing_small(table)
    assert _derivable_cells(list(result.rounds), result.pooled) == [], rounds


def test_round_suppression_is_balanced_by_another_round() -> None:
    rounds = [[[3, 7, 20]], [[9, 8, 20]]]
    result = suppress_series(rounds, k=5)
    assert result.rounds[0].primary[0][0]
    assert result.rounds[1].suppressed[0][:2] == (True, True)
    assert not any(result.pooled.suppressed[0])
    _check_series(result, rounds)


def test_cell_suppressed_in_one_round_only_would_be_derivable_from_pooled() -> None:
    rounds = [[[3, 7, 20], [9, 9, 9]], [[9, 8, 20], [9, 9, 9]]]
    alone = [suppress_table(table, k=5) for table in rounds]
    pooled_alone = suppress_table([[12, 15, 40], [18, 18, 18]], k=5)
    assert _derivable_cells(alone, pooled_alone) != []
    _check_series(suppress_series(rounds, k=5), rounds)


def test_group_small_in_one_round_is_left_out_of_every_table() -> None:
    rounds = [[[2, 1], [9, 9]], [[10, 12], [9, 9]]]
    result = suppress_series(rounds, k=5)
    for table in [*result.rounds, result.pooled]:
        assert table.hidden_rows == (True, False)
    assert result.pooled.grand_total() == 36
    _check_series(result, rounds)


def test_round_with_too_few_responses_is_left_out_of_the_pooled_table() -> None:
    rounds = [[[1, 2], [0, 0]], [[10, 12], [9, 9]]]
    result = suppress_series(rounds, k=5)
    assert result.hidden_rounds == (True, False)
    assert result.rounds[0].grand_total() is None
    assert result.pooled.grand_total() == 40
    _check_series(result, rounds)


def test_series_of_only_tiny_rounds_publishes_nothing() -> None:
    result = suppress_series([[[1, 2]], [[0, 3]]], k=5)
    assert result.hidden_rounds == (True, True)
    assert result.pooled.grand_total() is None
    assert all(result.pooled.hidden_columns)


def test_series_rounds_must_share_a_shape() -> None:
    with pytest.raises(MismatchedRoundsError):
        suppress_series([[[1, 2]], [[1, 2, 3]]], k=5)
    with pytest.raises(MismatchedRoundsError):
        suppress_series([], k=5)


def test_no_cell_is_derivable_across_two_random_rounds_and_pooled() -> None:
    rng = random.Random(7)
    shapes = [(1, 2), (1, 3), (1, 4), (2, 2), (2, 3), (3, 2), (3, 3)]
    for case in range(350):
        rows, columns = shapes[case % len(shapes)]
        k = rng.choice([3, 5])
        rounds = [_random_table(rng, rows, columns) for _ in range(2)]
        _check_series(suppress_series(rounds, k), rounds)


def test_no_cell_is_derivable_across_three_random_rounds_and_pooled() -> None:
    rng = random.Random(11)
    shapes = [(1, 3), (2, 2), (2, 3)]
    for case in range(90):
        rows, columns = shapes[case % len(shapes)]
        rounds = [_random_table(rng, rows, columns) for _ in range(3)]
        _check_series(suppress_series(rounds, 5), rounds)


def test_survey_sized_series_never_hides_a_position_in_one_table_only() -> None:
    rng = random.Random(3)
    values = [0, 1, 2, 3, 4, 6, 8, 15, 30]
    rounds = [[[rng.choice(values) for _ in range(12)] for _ in range(12)] for _ in range(4)]
    result = suppress_series(rounds, k=5)
    for table in [*result.rounds, result.pooled]:
        _assert_publishes_nothing_small(table)
    # A cell hidden in exactly one table of a position would follow from the pooled cell.
    for r in result.pooled.shown_rows:
        for c in result.pooled.shown_columns:
            hidden = [t.suppressed[r][c] for t in [*result.rounds, result.pooled]]
            assert sum(hidden) != 1
