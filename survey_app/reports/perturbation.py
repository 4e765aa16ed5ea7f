"""The cell key method: every published count is the true count, slightly adjusted.

Each response has a *record key*, a 32-bit number fixed for that response and secret
(``sealing.UnlockedKeys.record_key``). The *cell key* of a count is the sum of the record keys
of the people it counts, modulo 2**32. The published count is a function of the true count and
the cell key alone (the "perturbation table", here a formula, ``perturb``):

* a true zero stays 0;
* otherwise noise from a discrete normal distribution, P(e) proportional to
  exp(-e**2 / (2 * NOISE_SD**2)), is added (its quantile at the cell key), and the result kept
  at 0 or more;
* a result from 1 to k-1 becomes 0 or k, k with probability result/k (decided by a second
  number mixed from the cell key), so that no published count is ever from 1 to k-1 and small
  counts are not biased on average.

What follows, and why it was chosen (the design is written up in docs/disclosure-control.md):

* the same people give the same number, in every table and at every refresh: a cell counted
  twice (a filter view and the column of a cross-tab, an indicator's base and its question)
  shows the same value, and publishing again does not give a second draw to average;
* one person more or less gives a new cell key, uniformly spread, so the noise is drawn afresh;
* the noise has no hard bound: any published value can come from any true value (within
  about 12, the resolution of a 32-bit key), so no combination of published numbers, however
  many tables are solved together, pins a count to one value;
* of all noises with that variance, the normal shape has the most entropy (it is the shape the
  perturbation tables of European statistics offices approach) and the thinnest tails: a
  count is seldom moved by much more than its standard deviation, which keeps the shares
  worked out from adjusted counts within a few points of the true ones (``percent_base``).

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
# Standard deviation of the noise, in counts.
NOISE_SD = 2.0
# How many responses a publication round needs, as a multiple of k; also the smallest group a
# table is broken down by.
GROUP_FACTOR = 3
# How far, in percentage points, the adjustment may move a published share: a share (and an
# indicator's estimate and interval) is shown only where its base is big enough for that.
PERCENT_POINTS = 5


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

    @property
    def percent_base(self) -> int:
        """The smallest published base a percentage, estimate or interval is shown on.

        The small-count rule moves a count under k by up to k - 1 (to 0 or k), and the noise
        moves any count by about NOISE_SD: a share is shown only where that many people make
        at most PERCENT_POINTS points of it. Below, a share of adjusted counts could be off by
        more than a few points, so the cell says there are too few answers to show it. With
        counts not adjusted (tests only) nothing moves them: the smallest group is enough.
        """
        if not self.perturb:
            return self.smallest_group
        return math.ceil((self.k - 1 + NOISE_SD) * 100 / PERCENT_POINTS)

    def published(self, count: int, cell_key: int) -> int:
        return perturb(count, cell_key, self.k) if self.perturb else count


def _noise_table(sd: float) -> tuple[list[float], list[float], int]:
    """Chances and cumulative chances of the noise, from -limit upwards, and limit.

    The limit is the largest noise whose chance a 32-bit cell key can still resolve.
    """

    def weight(e: int) -> float:
        return math.exp(-(e * e) / (2 * sd * sd))

    total = sum(weight(e) for e in range(-1000, 1001))
    limit = 0
    while weight(limit + 1) / total >= 1 / MODULUS:
        limit += 1
    chances = [weight(e) / total for e in range(-limit, limit + 1)]
    scale = sum(chances)  # the chances beyond the limit are given to those within it
    chances = [chance / scale for chance in chances]
    cumulative = []
    running = 0.0
    for chance in chances:
        running += chance
        cumulative.append(running)
    return chances, cumulative, limit


_CHANCES, _CUMULATIVE, _LIMIT = _noise_table(NOISE_SD)


def noise(cell_key: int) -> int:
    """The noise added at a cell key: its quantile at (key + 1/2) / 2**32."""
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
    result: dict[int, float] = {}
    for e, chance in zip(range(-_LIMIT, _LIMIT + 1), _CHANCES, strict=True):
        value = max(count + e, 0)
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
