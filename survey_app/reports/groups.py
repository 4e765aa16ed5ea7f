"""The groups a dimension splits respondents into, none of them smaller than k.

For a dimension whose groups do not overlap (site, round, channel, a single-choice question) the
groups follow the dimension's own published frequency table: each value shown there is a group;
the values suppressed there are merged into one "combined" group, whose size anyone can already
work out from that table (everyone minus the values shown). If the combined group is still under
k, the smallest shown values join it until it is not. So every group is at least k, the groups
cover everyone, and every cross-tab by the dimension keeps the same totals as the question's
frequency table (see ``linked``).

For a multiple-choice question one person may be in several groups (one per option chosen):
each option chosen by at least k people is a group; the others are not shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .plan import Text

COMBINED = "_combined"


@dataclass(frozen=True)
class Group:
    key: str
    label: Text
    members: tuple[str, ...]
    size: int
    builtin: bool = False


def exclusive_groups(
    values: Sequence[str],
    sizes: Sequence[int],
    suppressed: Sequence[bool],
    labels: Sequence[tuple[Text, bool]],
    k: int,
) -> list[Group]:
    """Groups of a dimension from its frequency table and that table's suppression pattern.

    ``labels[i]`` is (label, builtin) of ``values[i]``. Returns no groups when fewer than k
    people are counted at all.
    """
    if sum(sizes) < k:
        return []
    shown = [i for i, size in enumerate(sizes) if size > 0 and not suppressed[i]]
    combined = [i for i, size in enumerate(sizes) if size > 0 and suppressed[i]]
    while combined and sum(sizes[i] for i in combined) < k and shown:
        smallest = min(shown, key=lambda i: (sizes[i], i))
        shown.remove(smallest)
        combined.append(smallest)
    groups = [Group(values[i], labels[i][0], (values[i],), sizes[i], labels[i][1]) for i in shown]
    if combined:
        members = tuple(values[i] for i in sorted(combined))
        groups.append(
            Group(
                COMBINED,
                {"en": "Other (combined)"},
                members,
                sum(sizes[i] for i in combined),
                builtin=True,
            )
        )
    return groups


def overlapping_groups(
    values: Sequence[str], sizes: Sequence[int], labels: Sequence[tuple[Text, bool]], k: int
) -> list[Group]:
    """Groups of a multiple-choice dimension: the options chosen by at least k people."""
    return [
        Group(value, label, (value,), size, builtin)
        for value, size, (label, builtin) in zip(values, sizes, labels, strict=True)
        if size >= k
    ]
