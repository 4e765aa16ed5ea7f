"""The groups a dimension splits respondents into: only groups big enough to be broken down.

A table is broken down only by groups whose *published* size is at least the smallest group
(3k, ``Protection.smallest_group``): a small group's own column would be a handful of people
with noise of a couple of counts on each cell. Every decision here is taken on published
(perturbed) sizes, never on true ones, so whether a group is shown tells nothing a viewer does
not see anyway.

For a dimension whose groups do not overlap (site, round, channel, a single-choice question),
the values too small on their own are merged into one "Other (combined)" group, shown if it is
big enough, else left out (its people are still counted in "all"; what "all" minus the shown
groups gives is a sum of independently adjusted counts, not their numbers). The combined group
is counted, and its numbers adjusted, as a group of its own. No shown value is ever merged to
make it bigger: one small site must not take a big one out of the report.

For a multiple-choice question one person may be in several groups (one per option chosen):
each option chosen by enough people is a group; the others are not shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .plan import Text

COMBINED = "_combined"


@dataclass(frozen=True)
class Group:
    key: str
    label: Text
    members: tuple[str, ...]
    size: int  # published
    builtin: bool = False
    true_size: int = 0


PublishedSize = Callable[[Sequence[str]], tuple[int, int]]  # members -> (true, published)


def exclusive_groups(
    values: Sequence[str],
    labels: Sequence[tuple[Text, bool]],
    size_of: PublishedSize,
    smallest: int,
) -> list[Group]:
    """Groups of a dimension whose values do not overlap.

    ``labels[i]`` is (label, builtin) of ``values[i]``; ``size_of(members)`` gives the true and
    published number of people in the union of ``members``.
    """
    sizes = [size_of([value]) for value in values]
    present = [i for i, (_, shown) in enumerate(sizes) if shown > 0]
    shown = [i for i in present if sizes[i][1] >= smallest]
    combined = [i for i in present if sizes[i][1] < smallest]
    groups = [
        Group(values[i], labels[i][0], (values[i],), sizes[i][1], labels[i][1], sizes[i][0])
        for i in shown
    ]
    if combined:
        members = tuple(values[i] for i in sorted(combined))
        true, published = size_of(members)
        if published >= smallest:
            groups.append(
                Group(
                    COMBINED,
                    {"en": "Other (combined)"},
                    members,
                    published,
                    builtin=True,
                    true_size=true,
                )
            )
    return groups


def overlapping_groups(
    values: Sequence[str],
    labels: Sequence[tuple[Text, bool]],
    size_of: PublishedSize,
    smallest: int,
) -> list[Group]:
    """Groups of a multiple-choice dimension: the options chosen by enough people."""
    groups = []
    for value, (label, builtin) in zip(values, labels, strict=True):
        true, published = size_of([value])
        if published >= smallest:
            groups.append(Group(value, label, (value,), published, builtin, true))
    return groups
