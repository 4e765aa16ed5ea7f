"""The cell key method: every published count is the true count, slightly adjusted.

Each response has a *record key*, a 32-bit number fixed for that response and secret
(``sealing.UnlockedKeys.record_key``). The *cell key* of a count is the sum of the record keys
of the people it counts, modulo 2**32. The published count is a function of the true count and
the cell key alone (the "perturbation table", here a formula, ``perturb``):

* a true zero stays 0;
* otherwise noise from a two-sided geometric distribution, P(e) proportional to ALPHA**|e|,
  is added (its quantile at the cell key), and the result kept at 0 or more;
* a result from 1 to k-1 becomes 0 or k, k with probability result/k (decided by a second
  number mixed from the cell key), so that no published count is ever from 1 to k-1 and small
  counts are not biased on average.

What follows, and why it was chosen (the design is written up in docs/disclosure-control.md):

* the same people give the same number, in every table and at every refresh: a cell counted
  twice (a filter view and the column of a cross-tab, an indicator's base and its question)
  shows the same value, and publishing again does not give a second draw to average;
* one person more or less gives a new cell key, uniformly spread, so the noise is drawn afresh;
* the noise has no hard bound: any published value can come from any true value (within
  about 30, the resolution of a 32-bit key), so no combination of published numbers, however
  many tables are solved together, pins a count to one value.

The noise alone does not stop differencing over time (a cell that nobody joined keeps its value,
so comparing two reports shows which cells a new person joined): that is the job of the
publication rounds (``rounds``).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

KEY_BITS = 32
MODULUS = 1 << KEY_BITS
# Ratio of the chance of noise e+1 to that of noise e: standard deviation 2 counts.
ALPHA = 0.5
# How many responses a publication round needs, as a multiple of k; also the smallest group a
# table is broken down by.
GROUP_FACTOR = 3


@dataclass(frozen=True)
class Protection:
    """How a report is protected. Only tests use anything but the default."""

    k: int
    perturb: bool = True
    closed_rounds_only: bool = True

    @property
    def smallest_group(self) -> int:
        """The fewest people (as published) a group needs to be shown on its own."""
        return GROUP_FACTOR * self.k

    def published(self, count: int, cell_key: int) -> int:
        return perturb(count, cell_key, self.k) if self.perturb else count


def _noise_table(alpha: float) -> tuple[list[float], int]:
    """Cumulative probabilities of the noise, from -limit upwards, and limit."""
    limit = math.ceil(KEY_BITS * math.log(2) / -math.log(alpha)) + 1
    scale = (1 - alpha) / (1 + alpha)
    cumulative = []
    total = 0.0
    for e in range(-limit, limit + 1):
        total += scale * alpha ** abs(e)
        cumulative.append(total)
    return cumulative, limit


_CUMULATIVE, _LIMIT = _noise_table(ALPHA)


def noise(cell_key: int) -> int:
    """The noise added at a cell key: the geometric quantile at (key + 1/2) / 2**32."""
    u = ((cell_key % MODULUS) + 0.5) / MODULUS
    index = min(bisect.bisect_left(_CUMULATIVE, u), len(_CUMULATIVE) - 1)
    return index - _LIMIT


def _second_uniform(cell_key: int) -> float:
    """A number in [0, 1) from the cell key, independent of ``noise`` (splitmix64 finaliser)."""
    z = (cell_key + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z ^= z >> 31
    return (z >> 11) / float(1 << 53)


def perturb(count: int, cell_key: int, k: int) -> int:
    """The published value of a true ``count`` whose cell key is ``cell_key``."""
    if count <= 0:
        return 0
    value = max(count + noise(cell_key), 0)
    if 1 <= value < k:
        value = k if _second_uniform(cell_key) < value / k else 0
    return value


def distribution(count: int, k: int) -> dict[int, float]:
    """The chance of each published value for a true ``count`` (what an attacker knows)."""
    if count <= 0:
        return {0: 1.0}
    scale = (1 - ALPHA) / (1 + ALPHA)
    result: dict[int, float] = {}
    for e in range(-_LIMIT, _LIMIT + 1):
        value = max(count + e, 0)
        chance = scale * ALPHA ** abs(e)
        if 1 <= value < k:
            result[k] = result.get(k, 0.0) + chance * value / k
            result[0] = result.get(0, 0.0) + chance * (1 - value / k)
        else:
            result[value] = result.get(value, 0.0) + chance
    return result


# The extreme noises a 32-bit cell key can give.
LOWEST_NOISE, HIGHEST_NOISE = noise(0), noise(MODULUS - 1)


def true_range(published: int, k: int) -> tuple[int, int]:
    """Every true count that can be published as ``published`` lies in this range."""
    if published == 0:
        return 0, k - 1 - LOWEST_NOISE
    low = max(1, published - HIGHEST_NOISE)
    if published == k:
        low = 1
    return low, published - LOWEST_NOISE
