"""A question's frequency table and its cross-tabs, protected together.

The attacker is exact: it searches every frequency table and every pair of cross-tabs of
non-negative integers that agree with all published numbers (cells, the number of responses,
the group sizes of both dimensions, and the fact that each cross-tab's rows add up to the
frequency table) and looks for a second possible value of each suppressed cell.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence

import pytest

from survey_app.reports.linked import InvalidCrosstabError, Mask, protect_crosstab
from survey_app.reports.suppression import suppress_table

K = 3


def _solutions(
    known: dict[tuple[int, int], int],
    unknown: list[tuple[int, int]],
    row_totals: Sequence[int],
    column_totals: Sequence[int],
) -> Iterator[tuple[int, ...]]:
    """Every assignment of the unknown cells that makes rows and columns add up."""
    n_rows, n_columns = len(row_totals), len(column_totals)
    row_room = [
        row_totals[r] - sum(v for (rr, _), v in known.items() if rr == r) for r in range(n_rows)
    ]
    column_room = [
        column_totals[c] - sum(v for (_, cc), v in known.items() if cc == c)
        for c in range(n_columns)
    ]
    if min(row_room + column_room, default=0) < 0:
        return
    left_in_row = [sum(1 for r, _ in unknown if r == row) for row in range(n_rows)]
    left_in_column = [sum(1 for _, c in unknown if c == column) for column in range(n_columns)]
    values: list[int] = []

    def search(index: int) -> Iterator[tuple[int, ...]]:
        if index == len(unknown):
            if not any(row_room) and not any(column_room):
                yield tuple(values)
            return
        r, c = unknown[index]
        left_in_row[r] -= 1
        left_in_column[c] -= 1
        low = 0
        if left_in_row[r] == 0 or left_in_column[c] == 0:
            # The last unknown of a line must take what is left of it.
            forced = {row_room[r]} if left_in_row[r] == 0 else set()
            if left_in_column[c] == 0:
                forced = {column_room[c]} if not forced else forced & {column_room[c]}
            choices = sorted(v for v in forced if v >= 0)
        else:
            choices = list(range(low, min(row_room[r], column_room[c]) + 1))
        for value in choices:
            if value > row_room[r] or value > column_room[c]:
                continue
            row_room[r] -= value
            column_room[c] -= value
            values.append(value)
            yield from search(index + 1)
            values.pop()
            row_room[r] += value
            column_room[c] += value
        left_in_row[r] += 1
        left_in_column[c] += 1

    yield from search(0)


def _compositions(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    if parts == 0:
        if total == 0:
            yield ()
        return
    for bars in itertools.combinations(range(total + parts - 1), parts - 1):
        edges = (-1, *bars, total + parts - 1)
        yield tuple(edges[i + 1] - edges[i] - 1 for i in range(parts))


def _split(
    table: Sequence[Sequence[int]], mask: Mask
) -> tuple[dict[tuple[int, int], int], list[tuple[int, int]]]:
    known = {
        (r, c): value
        for r, row in enumerate(table)
        for c, value in enumerate(row)
        if not mask[r][c]
    }
    unknown = [(r, c) for r, row in enumerate(mask) for c, hidden in enumerate(row) if hidden]
    return known, unknown


def _crosstab(cube: list[list[list[int]]], axis: int) -> list[list[int]]:
    """Category by group of one dimension (axis 1 or 2 of the question x D1 x D2 cube)."""
    if axis == 1:
        return [[sum(cell) for cell in plane] for plane in cube]
    return [
        [sum(plane[a][b] for a in range(len(plane))) for b in range(len(plane[0]))]
        for plane in cube
    ]


def _attack(
    frequencies: list[int], f_mask: tuple[bool, ...], crosstabs: list[tuple[list[list[int]], Mask]]
) -> list[str]:
    """Suppressed cells that have only one possible value; empty when all is protected."""
    total = sum(frequencies)
    free = [r for r, hidden in enumerate(f_mask) if hidden]
    published_sum = sum(v for v, hidden in zip(frequencies, f_mask, strict=True) if not hidden)
    seen_f: list[set[int]] = [set() for _ in free]
    seen_x: list[list[set[int]]] = []
    splits = []
    for table, mask in crosstabs:
        known, unknown = _split(table, mask)
        splits.append(
            (
                known,
                unknown,
                [sum(table[r][c] for r in range(len(table))) for c in range(len(table[0]))],
            )
        )
        seen_x.append([set() for _ in unknown])
    for candidate in _compositions(total - published_sum, len(free)):
        rows = list(frequencies)
        for r, value in zip(free, candidate, strict=True):
            rows[r] = value
        found = [list(_solutions(known, unknown, rows, sizes)) for known, unknown, sizes in splits]
        if not all(found):
            continue
        for i, value in enumerate(candidate):
            seen_f[i].add(value)
        for t, solutions in enumerate(found):
            for solution in solutions:
                for i, value in enumerate(solution):
                    seen_x[t][i].add(value)
    problems = [f"frequency row {free[i]}: {sorted(s)}" for i, s in enumerate(seen_f) if len(s) < 2]
    for t, cells in enumerate(seen_x):
        problems += [
            f"cross-tab {t} cell {i}: {sorted(s)}" for i, s in enumerate(cells) if len(s) < 2
        ]
    return problems


def _random_cube(rng: random.Random) -> list[list[list[int]]] | None:
    n_rows, n_d1, n_d2 = rng.choice([2, 3, 4]), rng.choice([2, 3]), 2
    common, rare = [0, 1, 1, 2, 2, 3, 4], [0, 0, 0, 0, 1, 1, 2]
    # Some categories are rare, so that the frequency table itself has suppressed cells.
    weights = [rng.choice([common, rare]) for _ in range(n_rows)]
    cube = [
        [[rng.choice(weights[r]) for _ in range(n_d2)] for _ in range(n_d1)] for r in range(n_rows)
    ]
    for axis in (1, 2):
        sizes = [sum(col) for col in zip(*_crosstab(cube, axis), strict=True)]
        if any(size < K for size in sizes):
            return None  # the caller merges small groups before protecting
    if sum(sum(sum(p) for p in plane) for plane in cube) > 24:
        return None
    return cube


def test_frequency_table_and_two_crosstabs_leave_every_suppressed_cell_open() -> None:
    rng = random.Random(20261128)
    checked = withheld = 0
    while checked < 150:
        cube = _random_cube(rng)
        if cube is None:
            continue
        frequencies = [sum(sum(cell) for cell in plane) for plane in cube]
        suppressed = suppress_table([frequencies], K)
        if suppressed.grand_total() is None:
            continue
        f_mask = suppressed.suppressed[0]
        free = [r for r, hidden in enumerate(f_mask) if hidden]
        crosstabs = []
        for axis in (1, 2):
            table = _crosstab(cube, axis)
            mask = protect_crosstab(table, K, free)
            if mask is None:
                withheld += 1
                continue
            crosstabs.append((table, mask))
        problems = _attack(frequencies, f_mask, crosstabs)
        assert not problems, f"cube {cube}: derivable {problems}"
        checked += 1
    assert withheld < 15, "protection gives up too often"


def test_cells_under_threshold_are_suppressed_and_zeros_published() -> None:
    table = [[10, 2, 8], [6, 7, 0], [9, 5, 12]]
    mask = protect_crosstab(table, 5, free_rows=[])
    assert mask is not None
    assert mask[0][1] is True
    assert mask[1][2] is False  # a zero is published
    assert sum(map(sum, mask)) >= 4  # one small cell needs a whole cycle of four


def test_free_rows_are_joined_even_when_every_cell_is_large() -> None:
    # Rows 0 and 1 are suppressed in the frequency table (complementary there): a cross-tab
    # that published all their cells would publish their totals.
    table = [[10, 12], [11, 9], [30, 40]]
    mask = protect_crosstab(table, 5, free_rows=[0, 1])
    assert mask is not None
    assert any(mask[0]) and any(mask[1])
    assert not any(mask[2])


def test_a_cell_without_any_cycle_withholds_the_crosstab() -> None:
    # The small cell's row and column have no other non-zero cell to hide it with.
    assert protect_crosstab([[2, 0], [0, 9]], 5, free_rows=[]) is None


@pytest.mark.parametrize(
    ("counts", "free"),
    [([], []), ([[1, 2], [3]], []), ([[1, -1]], []), ([[1, 2]], [3]), ([[0, 0], [1, 5]], [0])],
)
def test_bad_input_is_refused(counts: list[list[int]], free: list[int]) -> None:
    with pytest.raises(InvalidCrosstabError):
        protect_crosstab(counts, 5, free)
