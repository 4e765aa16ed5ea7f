"""Interval estimates and numeric summaries used by survey reports.

Every function here is pure and works on plain counts or sequences of numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z_95 = 1.959964
"""Two-sided 95% standard normal quantile."""


class EmptySampleError(ValueError):
    """An estimate was asked for a sample with no observations."""


class InvalidCountError(ValueError):
    """Counts that cannot describe a sample (negative, or more successes than trials)."""


class NonFiniteValueError(ValueError):
    """A numeric summary was asked for values that include NaN or infinity."""


def _check_counts(successes: int, n: int) -> None:
    if n < 0 or successes < 0:
        raise InvalidCountError(
            f"counts must not be negative (got {successes} successes out of {n})"
        )
    if successes > n:
        raise InvalidCountError(
            f"successes ({successes}) cannot exceed the number of observations ({n})"
        )
    if n == 0:
        raise EmptySampleError(
            "a proportion needs at least one observation; report the indicator as "
            "'no data' instead of an interval"
        )


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval (without continuity correction) for ``successes / n``.

    Raises ``EmptySampleError`` when ``n == 0``: there is no proportion to estimate, and
    an interval of (0, 1) would look like information. Raises ``InvalidCountError`` for
    negative counts or ``successes > n``.
    """
    _check_counts(successes, n)
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half_width = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # Clamp at the exact ends: 0 successes must give a lower limit of exactly 0,
    # not a rounding residue either side of it.
    lower = 0.0 if successes == 0 else max(0.0, centre - half_width)
    upper = 1.0 if successes == n else min(1.0, centre + half_width)
    return lower, upper


def newcombe_difference(
    s1: int, n1: int, s2: int, n2: int, z: float = Z_95
) -> tuple[float, float, float]:
    """Difference ``p2 - p1`` of two independent proportions with its Newcombe interval.

    Hybrid score interval, method 10 of Newcombe (1998), Statistics in Medicine 17:873-890:
    it combines the Wilson intervals of both proportions. ``p1 = s1/n1`` is the earlier
    (baseline) round and ``p2 = s2/n2`` the later one, so a positive difference is an
    increase. Returns ``(difference, lower, upper)``.
    """
    _check_counts(s1, n1)
    _check_counts(s2, n2)
    p1 = s1 / n1
    p2 = s2 / n2
    l1, u1 = wilson_interval(s1, n1, z)
    l2, u2 = wilson_interval(s2, n2, z)
    difference = p2 - p1
    lower = difference - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    upper = difference + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return difference, lower, upper


@dataclass(frozen=True)
class NumericSummary:
    """Five-number summary plus mean of a sample.

    Quartiles use the "linear" method (Hyndman and Fan type 7, the default of numpy,
    R and spreadsheet ``QUARTILE.INC``): the p-quantile interpolates linearly between
    the sorted values at positions ``floor(h)`` and ``ceil(h)`` with ``h = (n - 1) * p``.
    """

    n: int
    mean: float
    median: float
    q1: float
    q3: float
    minimum: float
    maximum: float


def _linear_quantile(ordered: Sequence[float], p: float) -> float:
    position = (len(ordered) - 1) * p
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    fraction = position - below
    return ordered[below] + (ordered[above] - ordered[below]) * fraction


def numeric_summary(values: Sequence[float]) -> NumericSummary:
    """Summarise a non-empty sample of finite numbers (see ``NumericSummary``)."""
    if len(values) == 0:
        raise EmptySampleError("a numeric summary needs at least one value")
    ordered = sorted(float(value) for value in values)
    if not all(math.isfinite(value) for value in ordered):
        raise NonFiniteValueError(
            "values must be finite numbers; remove NaN or infinite answers before summarising"
        )
    return NumericSummary(
        n=len(ordered),
        mean=math.fsum(ordered) / len(ordered),
        median=_linear_quantile(ordered, 0.5),
        q1=_linear_quantile(ordered, 0.25),
        q3=_linear_quantile(ordered, 0.75),
        minimum=ordered[0],
        maximum=ordered[-1],
    )
