"""Numeric summaries of answers kept as counts per value.

A report keeps numeric answers as ``{value: how many}`` so that memory does not grow with the
number of responses for whole numbers. The summary is the same as
``stats.numeric_summary`` over the expanded values (linear quartiles, Hyndman and Fan type 7).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .stats import EmptySampleError, NonFiniteValueError, NumericSummary


def summarise_counts(counts: Mapping[float, int]) -> NumericSummary:
    """``numeric_summary`` of the values ``counts`` describes, without expanding them."""
    ordered = sorted((float(value), number) for value, number in counts.items() if number > 0)
    n = sum(number for _, number in ordered)
    if n == 0:
        raise EmptySampleError("a numeric summary needs at least one value")
    if not all(math.isfinite(value) for value, _ in ordered):
        raise NonFiniteValueError(
            "values must be finite numbers; remove NaN or infinite answers before summarising"
        )
    values = [value for value, _ in ordered]
    ends: list[int] = []  # ends[i]: index just past the last copy of values[i]
    running = 0
    for _, number in ordered:
        running += number
        ends.append(running)

    def at(index: int) -> float:
        # The value at 0-based position `index` in the expanded, sorted sample.
        low, high = 0, len(ends) - 1
        while low < high:
            middle = (low + high) // 2
            if ends[middle] > index:
                high = middle
            else:
                low = middle + 1
        return values[low]

    def quantile(p: float) -> float:
        position = (n - 1) * p
        below = math.floor(position)
        above = min(below + 1, n - 1)
        fraction = position - below
        return at(below) + (at(above) - at(below)) * fraction

    return NumericSummary(
        n=n,
        mean=math.fsum(value * number for value, number in ordered) / n,
        median=quantile(0.5),
        q1=quantile(0.25),
        q3=quantile(0.75),
        minimum=values[0],
        maximum=values[-1],
    )
