"""The report snapshot: every published table of a survey, from the counts of its responses.

Every count is perturbed (``perturbation``) and everything else worked out from published
counts (``tables``); groups are shown only when big enough (``groups``). What is published,
for threshold k:

* the view "all": for each question and indicator its frequency table over everyone, and its
  cross-tab by each dimension (site, round, channel, and each disaggregation question);
  indicators with Wilson 95% intervals and their change from the first to the last round
  (Newcombe interval);
* a view per group of site, round and channel (the filters): each variable's frequencies in
  that group, which are the group's column of the cross-tab in "all", so a filter never shows
  anything the cross-tab does not.

Cross-tabs inside a filter (age band within one site) would be three-way tables; they are not
published. Of two disaggregation questions only one cross-tab is published (the later question
by the earlier), as its mirror image would be protected differently and give cells away.
Nothing is published at all when fewer than 3k responses are counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..definitions import Survey
from .groups import COMBINED, Group, exclusive_groups, overlapping_groups
from .perturbation import MODULUS, Protection
from .plan import ALL, CHANNEL, ROUND, SITE, Dimension, ReportPlan, Variable, builtin
from .snapshot import (
    FORMAT,
    SUPPRESSED,
    ChangeDoc,
    DimensionDoc,
    GroupDoc,
    SnapshotDoc,
    TableDoc,
    VariableDoc,
    VariableTables,
    ViewDoc,
    now_iso,
)
from .stats import newcombe_difference
from .tables import Layout, column_of, crosstab, frequency_table, layout_of, publish
from .tally import GroupCounts, Tally, group_counts

FILTER_DIMENSIONS = (ROUND, SITE, CHANNEL)


@dataclass(frozen=True)
class _Split:
    dimension: Dimension
    groups: list[Group]


def build_snapshot(
    plan: ReportPlan,
    tally: Tally,
    protection: Protection | int,
    *,
    created_at: str | None = None,
    rounds: dict[str, str] | None = None,
) -> SnapshotDoc:
    """Every published table of ``plan``'s survey over ``tally``, protected.

    ``protection`` may be just the threshold k (the standard protection); ``rounds`` maps each
    quarter counted to its publication round.
    """
    if isinstance(protection, int):
        protection = Protection(protection)
    k = protection.k
    counts = group_counts(plan, tally, rounds)
    versions = frozenset(plan.versions)
    layouts = {v.id: layout_of(v, versions) for v in plan.variables}
    document = _skeleton(plan.survey, tally, k, created_at or now_iso())
    document["percent_base"] = protection.percent_base
    document["variables"] = [_variable_doc(v, layouts[v.id]) for v in plan.variables]
    total = counts.sizes[(ALL, ALL)]
    if total < protection.smallest_group:
        document["notes"].append(
            f"Fewer than {protection.smallest_group} responses have been counted: "
            "no table is published yet."
        )
        return document

    frequencies = {
        v.id: frequency_table(counts, v, layouts[v.id], protection) for v in plan.variables
    }
    splits = [
        split
        for dimension in plan.dimensions
        if (split := _split(dimension, counts, layouts, protection)) is not None
    ]
    document["dimensions"] = [_dimension_doc(split) for split in splits]
    crosstabs: dict[tuple[str, str], TableDoc] = {}
    everyone: dict[str, VariableTables] = {}
    for variable in plan.variables:
        frequency = frequencies[variable.id]
        tables = []
        for split in splits:
            if len(split.groups) < 2 or not _publishes(plan, variable, split.dimension):
                continue
            table = crosstab(counts, frequency, split.dimension.id, split.groups, protection)
            published = publish(table, counts, protection)
            crosstabs[(variable.id, split.dimension.id)] = published
            tables.append(published)
        everyone[variable.id] = VariableTables(
            frequency=publish(frequency, counts, protection),
            crosstabs=tables,
            change=_change(crosstabs.get((variable.id, ROUND))),
        )
    views = [ViewDoc(id=ALL, dimension=None, group=None, responses=total, tables=everyone)]
    for split in splits:
        if split.dimension.id not in FILTER_DIMENSIONS or len(split.groups) < 2:
            continue
        for index, group in enumerate(split.groups, start=1):
            views.append(_filter_view(plan, split.dimension.id, group, index, crosstabs))
    document["views"] = views
    return document


def _skeleton(survey: Survey, tally: Tally, k: int, created_at: str) -> SnapshotDoc:
    return SnapshotDoc(
        format=FORMAT,
        survey_id=survey.id,
        title=survey.title.as_dict(),
        default_language=survey.default_language,
        languages=list(survey.language_codes),
        created_at=created_at,
        threshold=k,
        responses=tally.responses,
        unreadable=dict(sorted(tally.unreadable.items())),
        versions=sorted(tally.versions),
        suppressed_marker=SUPPRESSED,
        notes=[],
        variables=[],
        dimensions=[],
        views=[],
        rounds=[],
        withheld_quarters=[],
    )


def _variable_doc(variable: Variable, layout: Layout) -> VariableDoc:
    target = variable.indicator.target if variable.indicator is not None else None
    return VariableDoc(
        id=variable.id,
        kind=variable.kind.value,
        type=variable.question_type,
        label=variable.label,
        target=target,
        rows=layout.info(),
    )


def _split(
    dimension: Dimension, counts: GroupCounts, layouts: dict[str, Layout], protection: Protection
) -> _Split | None:
    smallest = protection.smallest_group
    if dimension.question is None:
        values = counts.groups_of(dimension.id)
        if not values:
            return None

        def sizes(members: Sequence[str]) -> tuple[int, int]:
            groups = [(dimension.id, m) for m in members]
            true = sum(counts.sizes[g] for g in groups)
            key = sum(counts.size_keys[g] for g in groups) % MODULUS
            return true, protection.published(true, key)

        labels = [
            (builtin(value), True) if dimension.id == CHANNEL else ({"en": value}, False)
            for value in values
        ]
        return _Split(dimension, exclusive_groups(values, labels, sizes, smallest))
    variable_id = dimension.id

    def answered(members: Sequence[str]) -> tuple[int, int]:
        true = sum(counts.count((ALL, ALL), variable_id, m) for m in members)
        key = sum(counts.cell_key((ALL, ALL), variable_id, m) for m in members) % MODULUS
        return true, protection.published(true, key)

    layout = layouts[variable_id]
    if dimension.exclusive:
        values = [c.key for c in layout.exclusive]
        labels = [(c.label, c.builtin) for c in layout.exclusive]
        return _Split(dimension, exclusive_groups(values, labels, answered, smallest))
    options = layout.options
    values = [c.key for c in options]
    labels = [(c.label, c.builtin) for c in options]
    return _Split(dimension, overlapping_groups(values, labels, answered, smallest))


def _publishes(plan: ReportPlan, variable: Variable, dimension: Dimension) -> bool:
    """Whether the cross-tab of ``variable`` by ``dimension`` is published."""
    if dimension.question is None:
        return True
    order = [d.id for d in plan.dimensions]
    if variable.id == dimension.id:
        return False
    if variable.id in order:
        # Two disaggregation questions: only the later one by the earlier one.
        return order.index(dimension.id) < order.index(variable.id)
    return True


def _dimension_doc(split: _Split) -> DimensionDoc:
    return DimensionDoc(
        id=split.dimension.id,
        label=split.dimension.label,
        builtin=split.dimension.builtin,
        exclusive=split.dimension.exclusive,
        groups=[
            GroupDoc(
                key=g.key, label=g.label, builtin=g.builtin, members=list(g.members), size=g.size
            )
            for g in split.groups
        ],
    )


def _filter_view(
    plan: ReportPlan,
    dimension_id: str,
    group: Group,
    index: int,
    crosstabs: dict[tuple[str, str], TableDoc],
) -> ViewDoc:
    tables: dict[str, VariableTables] = {}
    for variable in plan.variables:
        table = crosstabs.get((variable.id, dimension_id))
        if table is None:
            continue
        tables[variable.id] = VariableTables(
            frequency=column_of(table, index), crosstabs=[], change=None
        )
    return ViewDoc(
        id=f"{dimension_id}={group.key}",
        dimension=dimension_id,
        group=group.key,
        responses=group.size,
        tables=tables,
    )


def _change(by_round: TableDoc | None) -> ChangeDoc | None:
    """An indicator's change from the first to the last round with a published estimate."""
    if by_round is None or "estimates" not in by_round:
        return None
    published = [
        (key, estimate)
        for key, estimate in zip(by_round["columns"][1:], by_round["estimates"][1:], strict=True)
        if key != COMBINED and isinstance(estimate, dict)
    ]
    published.sort(key=lambda item: item[0])
    if len(published) < 2:
        return None
    (first, early), (last, late) = published[0], published[-1]
    difference, lower, upper = newcombe_difference(
        early["numerator"], early["denominator"], late["numerator"], late["denominator"]
    )
    return ChangeDoc(
        first=first,
        last=last,
        difference=round(difference, 4),
        lower=round(lower, 4),
        upper=round(upper, 4),
    )
