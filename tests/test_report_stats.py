"""Interval estimates and summaries against published reference values."""

from __future__ import annotations

import math

import pytest

from survey_app.reports.stats import (
    EmptySampleError,
    InvalidCountError,
    NonFiniteValueError,
    NumericSummary,
    newcombe_difference,
    numeric_summary,
    wilson_interval,
)

# Newcombe (1998a), Statistics in Medicine 17:857-872, Table I, method 3 (score, no correction).
WILSON_PUBLISHED = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
]

# Newcombe (1998b), Statistics in Medicine 17:873-890, Table II, method 10.
# Listed as (a, m, b, n) with the published difference a/m - b/n and its limits.
NEWCOMBE_PUBLISHED = [
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.0582, 0.8062),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
    (0, 10, 0, 10, -0.2775, 0.2775),
    (10, 10, 0, 20, 0.6791, 1.0000),
    (10, 10, 0, 10, 0.6075, 1.0000),
]


@pytest.mark.parametrize(("successes", "n", "lower", "upper"), WILSON_PUBLISHED)
def test_wilson_interval_matches_published_values(
    successes: int, n: int, lower: float, upper: float
) -> None:
    got_lower, got_upper = wilson_interval(successes, n)
    assert got_lower == pytest.approx(lower, abs=5e-5)
    assert got_upper == pytest.approx(upper, abs=5e-5)


def test_wilson_interval_is_exactly_bounded_at_the_extremes() -> None:
    assert wilson_interval(0, 7)[0] == 0.0
    assert wilson_interval(7, 7)[1] == 1.0
    assert 0.0 < wilson_interval(7, 7)[0] < 1.0


def test_wilson_interval_widens_with_z() -> None:
    narrow = wilson_interval(30, 100, z=1.0)
    wide = wilson_interval(30, 100)
    assert wide[0] < narrow[0] < 0.3 < narrow[1] < wide[1]


def test_wilson_interval_refuses_an_empty_sample() -> None:
    with pytest.raises(EmptySampleError, match="at least one observation"):
        wilson_interval(0, 0)


@pytest.mark.parametrize(("successes", "n"), [(5, 4), (-1, 4), (1, -3)])
def test_wilson_interval_refuses_impossible_counts(successes: int, n: int) -> None:
    with pytest.raises(InvalidCountError):
        wilson_interval(successes, n)


@pytest.mark.parametrize(("a", "m", "b", "n", "lower", "upper"), NEWCOMBE_PUBLISHED)
def test_newcombe_difference_matches_published_values(
    a: int, m: int, b: int, n: int, lower: float, upper: float
) -> None:
    # The function reports change from the first group to the second (p2 - p1),
    # so the published a/m - b/n is obtained with b/n as the first group.
    difference, got_lower, got_upper = newcombe_difference(b, n, a, m)
    assert difference == pytest.approx(a / m - b / n)
    assert got_lower == pytest.approx(lower, abs=5e-5)
    assert got_upper == pytest.approx(upper, abs=5e-5)


def test_newcombe_difference_is_later_minus_earlier() -> None:
    difference, lower, upper = newcombe_difference(56, 70, 48, 80)
    assert difference == pytest.approx(-0.2)
    assert lower == pytest.approx(-0.3339, abs=5e-5)
    assert upper == pytest.approx(-0.0524, abs=5e-5)


def test_newcombe_difference_refuses_an_empty_round() -> None:
    with pytest.raises(EmptySampleError):
        newcombe_difference(3, 10, 0, 0)


def test_numeric_summary_uses_linear_quartiles() -> None:
    # Reference: numpy.percentile([...], [25, 50, 75]) with the default "linear" method.
    summary = numeric_summary([7, 1, 3, 10, 4])
    assert summary == NumericSummary(
        n=5, mean=5.0, median=4.0, q1=3.0, q3=7.0, minimum=1.0, maximum=10.0
    )
    even = numeric_summary([1, 2, 3, 4])
    assert (even.q1, even.median, even.q3) == (1.75, 2.5, 3.25)


def test_numeric_summary_of_one_value() -> None:
    summary = numeric_summary([42.5])
    assert summary.n == 1
    assert summary.q1 == summary.median == summary.q3 == summary.minimum == 42.5


def test_numeric_summary_mean_is_accurate_for_many_decimals() -> None:
    summary = numeric_summary([0.1] * 10)
    assert summary.mean == 0.1


def test_numeric_summary_refuses_empty_and_non_finite_values() -> None:
    with pytest.raises(EmptySampleError):
        numeric_summary([])
    with pytest.raises(NonFiniteValueError):
        numeric_summary([1.0, math.nan])
