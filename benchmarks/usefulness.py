"""How far published percentages are from the true ones, and how many are not shown.

For each example survey at 300 and 3,000 generated responses (three sites and one small one,
three rounds, both channels), the same responses are published twice by the report code:

* before: exact numbers, nothing protected (every group broken down, every percentage of a
  base of one or more shown): the cells a report without disclosure control would show;
* after: the report as published (adjusted counts, groups of at least 3k, percentages only
  on a base of at least ``Protection.percent_base``).

Every percentage a viewer can see is compared with the true share of the same people: the
answers' percentages of every table (frequencies, every cross-tab, and every filter view,
each checked to be the same number as its cross-tab column), the indicators' estimates and
their 95% interval bounds, and the change between rounds with its interval bounds (the true
ones are the same formulas on true counts). Printed per survey and size: how many percentage
cells there are and how many are shown, the mean and the maximum absolute difference in
percentage points over those shown, and how many cells are not shown: "too few answers" (a
base under ``percent_base``) and cells of the exact report whose group is not broken down on
its own (merged into "Other (combined)" or left out). Target at 300 responses, over every
percentage shown: mean <= 2 and max <= 5. ``--seed`` draws other responses.

    .venv/bin/python benchmarks/usefulness.py [--seed N]

Exits 1 if the target is missed.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from survey_app.definitions import Survey, load_survey_file  # noqa: E402
from survey_app.intake.responses import coarse_period  # noqa: E402
from survey_app.operations.sample_data import fake_answers  # noqa: E402
from survey_app.reports.build import build_snapshot  # noqa: E402
from survey_app.reports.perturbation import Protection  # noqa: E402
from survey_app.reports.plan import (  # noqa: E402
    ALL,
    ANSWERED,
    MET,
    NOT_MET,
    ReportPlan,
    VariableKind,
)
from survey_app.reports.snapshot import SUPPRESSED, SnapshotDoc, TableDoc  # noqa: E402
from survey_app.reports.stats import newcombe_difference, wilson_interval  # noqa: E402
from survey_app.reports.tally import GroupCounts, GroupKey, TallyCounter, group_counts  # noqa: E402

SURVEYS = ("service-feedback", "reintegration-checkin")
SIZES = (300, 3000)
K = 5
TARGET_MEAN, TARGET_MAX = 2.0, 5.0

Where = tuple[str, ...]  # (variable, dimension or "", group, row or statistic)


class Unprotected(Protection):
    """Exact counts, every group, every percentage: what a report without protection shows."""

    @property
    def smallest_group(self) -> int:
        return 1

    @property
    def percent_base(self) -> int:
        return 1


def generate(survey: Survey, count: int, seed: int) -> TallyCounter:
    plan = ReportPlan.build(survey)
    counter = TallyCounter(plan)
    rng = random.Random(seed)
    days = (date(2026, 2, 10), date(2026, 5, 12), date(2026, 8, 18))
    for _ in range(count):
        site = rng.choice(["North", "South", "East"]) if rng.random() > 0.03 else "Hamlet"
        day = rng.choice(days) + timedelta(days=rng.randrange(3))
        channel = rng.choice(["self", "assisted"])
        key = rng.getrandbits(32)
        answers = fake_answers(survey, rng)
        counter.add(survey.version, coarse_period(day, "week"), answers, site, channel, key)
    return counter


@dataclass
class Truth:
    """True shares of any group of people, from the exact counts."""

    plan: ReportPlan
    counts: GroupCounts

    def count(self, members: Sequence[GroupKey], variable_id: str, row: str) -> int:
        return sum(self.counts.count(m, variable_id, row) for m in members)

    def base(self, members: Sequence[GroupKey], table: TableDoc, rows: dict[str, str]) -> int:
        variable = self.plan.variable(table["variable"])
        if variable.kind is VariableKind.INDICATOR:
            keys = [MET, NOT_MET]
        elif variable.kind is VariableKind.CHOICE:
            keys = [key for key, kind in rows.items() if kind == "answer"]
        else:
            keys = [ANSWERED]
        return sum(self.count(members, variable.id, key) for key in keys)


def members_of(document: SnapshotDoc, dimension: str | None, group: str) -> list[GroupKey]:
    if dimension is None or group == ALL:
        return [(ALL, ALL)]
    found = next(d for d in document["dimensions"] if d["id"] == dimension)
    return [
        (dimension, m) for m in next(g for g in found["groups"] if g["key"] == group)["members"]
    ]


def cells(document: SnapshotDoc, truth: Truth) -> Iterator[tuple[Where, Any, float]]:
    """(where, published, true) of every percentage a viewer can see, in every view."""
    kinds = {v["id"]: {r["key"]: r["kind"] for r in v["rows"]} for v in document["variables"]}
    variable_kinds = {v["id"]: v["kind"] for v in document["variables"]}
    for view in document["views"]:
        for variable_id, tables in view["tables"].items():
            for table in [tables["frequency"], *tables["crosstabs"]]:
                dimension = table["dimension"] or view["dimension"]
                rows = kinds[variable_id]
                for c, column in enumerate(table["columns"]):
                    members = members_of(document, dimension, column)
                    base = truth.base(members, table, rows)
                    label = (variable_id, dimension or "", column)
                    for row in table["rows"]:
                        percent = row["percents"][c]
                        if percent is None and not carries_percent(
                            variable_kinds[variable_id], rows[row["key"]], row["key"]
                        ):
                            continue
                        if not base:  # nobody to have a share of
                            continue
                        true = truth.count(members, variable_id, row["key"])
                        share = min(100.0, round(100 * true / base, 1))
                        yield (*label, row["key"]), percent, share
                    if "estimates" in table and base:  # no true estimate on no one
                        estimate = table["estimates"][c]
                        met = truth.count(members, variable_id, MET)
                        lower, upper = wilson_interval(met, base)
                        exact = {"value": met / base, "lower": lower, "upper": upper}
                        for name, value in exact.items():
                            shown = estimate[name] * 100 if isinstance(estimate, dict) else estimate
                            yield (*label, name), shown, 100 * value
            if tables["change"] is not None:
                change = tables["change"]
                true_rounds = []
                for key in (change["first"], change["last"]):
                    members = members_of(document, "round", key)
                    met = truth.count(members, variable_id, MET)
                    true_rounds += [met, met + truth.count(members, variable_id, NOT_MET)]
                exact_change = newcombe_difference(*true_rounds)
                for name, value in zip(("difference", "lower", "upper"), exact_change, strict=True):
                    where = (variable_id, "round", "change", name)
                    yield where, 100 * change[name], 100 * value  # type: ignore[literal-required]


def carries_percent(variable_kind: str, row_kind: str, key: str) -> bool:
    """Whether a row has a percentage wherever its base is not zero."""
    if variable_kind == VariableKind.INDICATOR.value:
        return key in (MET, NOT_MET)
    if variable_kind == VariableKind.CHOICE.value:
        return row_kind == "answer"
    return variable_kind == VariableKind.MULTIPLE.value and row_kind == "option"


@dataclass
class Result:
    errors: list[float] = field(default_factory=list)
    too_few: int = 0
    cells: int = 0
    mismatched: int = 0  # a filter view's number that is not its cross-tab column's
    shown: set[Where] = field(default_factory=set)
    withheld: set[Where] = field(default_factory=set)

    @property
    def mean(self) -> float:
        return sum(self.errors) / len(self.errors) if self.errors else 0.0

    @property
    def worst(self) -> float:
        return max(self.errors, default=0.0)


def compare(document: SnapshotDoc, truth: Truth) -> Result:
    result = Result()
    seen: dict[Where, Any] = {}
    for where, published, true in cells(document, truth):
        if where in seen:
            result.mismatched += seen[where] != published
            continue
        seen[where] = published
        result.cells += 1
        if published == SUPPRESSED or published is None:  # None: an adjusted base of 0
            result.too_few += 1
            result.withheld.add(where)
            continue
        result.shown.add(where)
        result.errors.append(abs(float(published) - true))
    return result


def measure(survey_id: str, size: int, seed: int) -> tuple[Result, Result]:
    survey = load_survey_file(ROOT / "surveys" / f"{survey_id}.toml")
    plan = ReportPlan.build(survey)
    tally = generate(survey, size, seed).tally()
    truth = Truth(plan, group_counts(plan, tally))
    before = compare(build_snapshot(plan, tally, Unprotected(1, perturb=False)), truth)
    after = compare(build_snapshot(plan, tally, Protection(K)), truth)
    return before, after


def main() -> int:
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 0
    missed = False
    print(
        f"percentage points, every percentage a viewer can see (seed {seed}, k = {K}, "
        f"a % shown on a base of {Protection(K).percent_base} or more)"
    )
    print(f"{'survey':<24}{'n':>6}  {'':<7}{'% cells':>8}{'shown':>7}{'mean':>7}{'max':>7}"
          f"{'too few answers':>17}{'group not shown':>17}")  # fmt: skip
    for survey_id in SURVEYS:
        for size in SIZES:
            before, after = measure(survey_id, size, seed + size)
            assert before.mismatched == after.mismatched == 0, "a filter differs from its column"
            # Cells of the exact report that the published one neither shows nor marks as too
            # few answers: their group is merged into "Other (combined)" or left out.
            not_own = len(before.shown - after.shown - after.withheld)
            for label, result, hidden in (("before", before, 0), ("after", after, not_own)):
                print(
                    f"{survey_id:<24}{size:>6}  {label:<7}{result.cells:>8}"
                    f"{len(result.shown):>7}{result.mean:>7.2f}"
                    f"{result.worst:>7.1f}{result.too_few:>17}{hidden:>17}"
                )
            if size == 300:
                missed |= after.mean > TARGET_MEAN or after.worst > TARGET_MAX
    print(
        f"target at 300 responses, every percentage shown: mean <= {TARGET_MEAN}, "
        f"max <= {TARGET_MAX} points: {'MISSED' if missed else 'met'}"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
