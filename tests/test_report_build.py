"""The report snapshot built from counted answers: what it shows and what it hides."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

from survey_app.definitions import Survey, load_survey_text
from survey_app.reports.build import build_snapshot
from survey_app.reports.perturbation import Protection
from survey_app.reports.plan import NOT_ASKED, ReportPlan
from survey_app.reports.snapshot import SUPPRESSED, SnapshotDoc, TableDoc, view_by_id
from survey_app.reports.stats import numeric_summary
from survey_app.reports.tally import TallyCounter, round_of
from survey_app.reports.weighted import summarise_counts

SURVEY = """
format = 1
[survey]
id = "check"
title = "Check"
default_language = "en"
languages = ["en"]

[choices.safe]
options = [{ value = "yes", label = "Yes" }, { value = "partly", label = "Partly" }, { value = "no", label = "No" }]
[choices.age]
options = [{ value = "young", label = "Young" }, { value = "old", label = "Old" }]
[choices.help]
options = [{ value = "legal", label = "Legal" }, { value = "medical", label = "Medical" }]

[[pages]]
id = "p"
[[pages.questions]]
id = "consent"
type = "consent"
label = "Agree?"
[[pages.questions]]
id = "felt_safe"
type = "single"
choices = "safe"
prefer_not_to_say = true
label = "Did you feel safe?"
[[pages.questions]]
id = "age_band"
type = "single"
choices = "age"
disaggregate = true
label = "Age"
[[pages.questions]]
id = "services"
type = "multiple"
choices = "help"
label = "Help received"
[[pages.questions]]
id = "visits"
type = "integer"
label = "Visits"
[[pages.questions]]
id = "arrived"
type = "date"
label = "Arrived"
[[pages.questions]]
id = "comment"
type = "longtext"
label = "Anything else?"

[[indicators]]
id = "safe"
label = "% who felt safe"
numerator = "${felt_safe} = 'yes'"
denominator = "${felt_safe} != ''"
target = 0.8
"""

Response = tuple[dict[str, Any], str, str, str]  # answers, site, period, channel
EXACT = Protection(5, perturb=False)


def survey(text: str = SURVEY) -> Survey:
    return load_survey_text(text, "check.toml")


def snapshot(
    responses: list[Response],
    k: int | Protection = 5,
    *,
    current: Survey | None = None,
    older: Sequence[tuple[Survey, list[Response]]] = (),
    seed: int = 1,
) -> SnapshotDoc:
    """The snapshot of ``responses``, each with a random record key (the same for a seed)."""
    current = current or survey()
    plan = ReportPlan.build(current, [s for s, _ in older])
    counter = TallyCounter(plan)
    keys = random.Random(seed)
    for answers, site, period, channel in responses:
        counter.add(current.version, period, answers, site, channel, keys.getrandbits(32))
    for old, old_responses in older:
        for answers, site, period, channel in old_responses:
            counter.add(old.version, period, answers, site, channel, keys.getrandbits(32))
    return build_snapshot(plan, counter.tally(), k, created_at="2026-11-28T12:00:00+00:00")


def many(
    answers: dict[str, Any],
    count: int,
    site: str = "North",
    period: str = "2026-W10",
    channel: str = "self",
) -> list[Response]:
    return [(dict(answers), site, period, channel)] * count


def table(
    document: SnapshotDoc, variable: str, dimension: str | None = None, view: str = "all"
) -> TableDoc:
    found = view_by_id(document, view)
    assert found is not None, f"no view {view}"
    tables = found["tables"][variable]
    if dimension is None:
        return tables["frequency"]
    return next(t for t in tables["crosstabs"] if t["dimension"] == dimension)


def cells(t: TableDoc, column: int = 0) -> dict[str, Any]:
    return {row["key"]: row["counts"][column] for row in t["rows"]}


def percents(t: TableDoc, column: int = 0) -> dict[str, Any]:
    return {row["key"]: row["percents"][column] for row in t["rows"]}


def test_skipped_and_declined_are_shown_apart_and_left_out_of_percentages() -> None:
    responses = (
        many({"felt_safe": "yes"}, 20)
        + many({"felt_safe": "partly"}, 10)
        + many({"felt_safe": "no"}, 10)
        + many({}, 6)
        + many({"felt_safe": "_pnts"}, 5)
    )
    frequency = table(snapshot(responses, EXACT), "felt_safe")
    assert cells(frequency) == {"yes": 20, "partly": 10, "no": 10, "_skipped": 6, "_pnts": 5}
    assert frequency["bases"] == [40]
    assert percents(frequency) == {
        "yes": 50.0,
        "partly": 25.0,
        "no": 25.0,
        "_skipped": None,
        "_pnts": None,
    }


def test_a_question_that_did_not_apply_is_counted_as_not_asked_apart_from_a_skip() -> None:
    # Follow-ups asked only of those who did not feel safe: a "yes" never saw them.
    conditional = SURVEY
    for question in ('id = "services"', 'id = "visits"', 'id = "comment"'):
        conditional = conditional.replace(
            question, f"{question}\nrelevant = \"${{felt_safe}} != 'yes'\"", 1
        )
    responses = (
        many({"felt_safe": "yes"}, 20)
        + many({"felt_safe": "no", "visits": 2, "services": ["legal"], "comment": "x"}, 10)
        + many({"felt_safe": "no"}, 6)
    )
    document = snapshot(responses, EXACT, current=survey(conditional))
    for question in ("visits", "services", "comment"):
        counted = cells(table(document, question))
        assert counted[NOT_ASKED] == 20, question
        assert counted["_skipped"] == 6, question
        assert counted["_answered"] == 10, question
    # Where the question always applies, an empty answer is a skip, never "not asked".
    assert cells(table(document, "arrived"))["_skipped"] == 36
    assert cells(table(document, "arrived")).get(NOT_ASKED, 0) == 0


def test_counts_are_adjusted_and_everything_else_follows_from_the_adjusted_counts() -> None:
    responses = (
        many({"felt_safe": "yes"}, 30)
        + many({"felt_safe": "partly"}, 2)
        + many({"felt_safe": "no"}, 109)
    )
    shown = []
    for seed in range(40):
        frequency = table(snapshot(responses, seed=seed), "felt_safe")
        counts = cells(frequency)
        assert counts["partly"] in (0, *range(5, 40)), "a count of 2 is never shown as 1 to 4"
        base = counts["yes"] + counts["partly"] + counts["no"]
        assert frequency["bases"] == [base]
        assert percents(frequency)["yes"] == round(100 * counts["yes"] / base, 1)
        shown.append(counts["yes"])
    assert len(set(shown)) > 3, "the adjustment differs with the people counted"
    assert abs(sum(shown) / len(shown) - 30) < 1.5, "and is not biased"


def test_the_same_people_give_the_same_number_in_every_table() -> None:
    rng = random.Random(3)
    responses = [
        (
            {"felt_safe": rng.choice(["yes", "yes", "partly", "no"])},
            rng.choice(["North", "South"]),
            "2026-W05",
            rng.choice(["self", "assisted"]),
        )
        for _ in range(80)
    ]
    # Everyone of the survey's only round: the round column counts the same people as "all".
    document = snapshot(responses)
    frequency = cells(table(document, "felt_safe"))
    for dimension in ("site", "channel"):
        assert cells(table(document, "felt_safe", dimension)) == frequency
    # Counted in another order, or in two workers: the same published numbers.
    plan = ReportPlan.build(survey())
    keys = random.Random(1)
    keyed = [(r, keys.getrandbits(32)) for r in responses]
    halves = [TallyCounter(plan), TallyCounter(plan)]
    for index, ((answers, site, period, channel), key) in enumerate(reversed(keyed)):
        halves[index % 2].add(survey().version, period, answers, site, channel, key)
    tally = halves[0].tally()
    tally.add(halves[1].tally())
    again = build_snapshot(plan, tally, 5, created_at=document["created_at"])
    assert again == document


def test_one_more_person_draws_the_noise_afresh_for_the_cells_they_join() -> None:
    base = many({"felt_safe": "yes"}, 30) + many({"felt_safe": "no"}, 20)
    changed = 0
    for seed in range(30):
        before = cells(table(snapshot(base, seed=seed), "felt_safe"))
        after = cells(
            table(snapshot([*base, *many({"felt_safe": "no"}, 1)], seed=seed), "felt_safe")
        )
        assert after["yes"] == before["yes"], "nobody joined 'yes': same people, same number"
        changed += after["no"] != before["no"] + 1
    assert changed > 10


def test_numbers_publish_median_and_quartiles_and_dates_only_whether_given() -> None:
    responses = [
        ({"visits": v, "arrived": f"2026-0{1 + v % 3}-1{v % 9}"}, "North", "2026-W10", "self")
        for v in range(1, 31)
    ]
    document = snapshot(responses, EXACT)
    visits = table(document, "visits")
    summary = visits["summaries"][0]
    assert isinstance(summary, dict)
    assert summary == {"n": 30, "median": 15.5, "q1": 8.25, "q3": 22.75}
    arrived = cells(table(document, "arrived"))
    assert arrived == {"_answered": 30, "_skipped": 0, "_pnts": 0}
    assert "2026-01" not in json.dumps(document), "no row label comes from the answers"


def test_a_summary_of_few_people_is_not_published() -> None:
    responses = (
        many({"visits": 3}, 40, site="North")
        + many({"visits": 90}, 6, site="South")
        + many({"felt_safe": "no"}, 14, site="South")
    )
    document = snapshot(responses, EXACT)
    by_site = table(document, "visits", "site")
    assert by_site["columns"] == ["all", "North", "South"]
    north, south = by_site["summaries"][1:]
    assert isinstance(north, dict) and north["median"] == 3
    assert south == SUPPRESSED, "six people's values are not summarised"
    assert table(document, "visits", view="site=South")["summaries"] == [SUPPRESSED]


def test_small_groups_are_merged_or_not_broken_down() -> None:
    responses = (
        many({"felt_safe": "yes", "age_band": "young"}, 12)
        + many({"felt_safe": "no", "age_band": "young"}, 8)
        + many({"felt_safe": "yes", "age_band": "old"}, 9)
        + many({"felt_safe": "no", "age_band": "old"}, 6)
        + many({"felt_safe": "yes"}, 2)  # age skipped by two people: a group under 3k
        + many({"felt_safe": "yes", "age_band": "_pnts"}, 9)  # with these, 11: still under
    )
    document = snapshot(responses, EXACT)
    age = next(d for d in document["dimensions"] if d["id"] == "age_band")
    sizes = {g["key"]: g["size"] for g in age["groups"]}
    assert sizes == {"young": 20, "old": 15}, "two people who skipped are not a group"
    crosstab = table(document, "felt_safe", "age_band")
    assert crosstab["columns"] == ["all", "young", "old"]
    assert cells(crosstab) == cells(table(document, "felt_safe"))


def test_a_filter_shows_the_column_of_the_crosstab() -> None:
    rng = random.Random(3)
    responses = [
        (
            {"felt_safe": rng.choice(["yes", "yes", "partly", "no"])},
            rng.choice(["North", "South", "East"]),
            rng.choice(["2026-W05", "2026-W30"]),
            rng.choice(["self", "assisted"]),
        )
        for _ in range(120)
    ]
    document = snapshot(responses)
    by_site = table(document, "felt_safe", "site")
    for index, site in enumerate(by_site["columns"][1:], start=1):
        filtered = table(document, "felt_safe", view=f"site={site}")
        assert cells(filtered) == cells(by_site, index)
        assert percents(filtered) == percents(by_site, index)
    rounds = {view["group"] for view in document["views"] if view["dimension"] == "round"}
    assert rounds == {"2026-Q1", "2026-Q3"}


def test_indicator_has_wilson_interval_target_and_change_between_rounds() -> None:
    responses = (
        many({"felt_safe": "yes"}, 12, period="2026-W05")
        + many({"felt_safe": "no"}, 18, period="2026-W05")
        + many({"felt_safe": "yes"}, 24, period="2026-W40")
        + many({"felt_safe": "no"}, 6, period="2026-W40")
    )
    document = snapshot(responses, EXACT)
    variable = next(v for v in document["variables"] if v["id"] == "indicator:safe")
    assert variable["target"] == 0.8
    overall = table(document, "indicator:safe")["estimates"][0]
    assert isinstance(overall, dict)
    assert overall["value"] == 0.6 and overall["denominator"] == 60
    assert overall["lower"] == pytest.approx(0.4736, abs=1e-4)
    assert overall["upper"] == pytest.approx(0.7143, abs=1e-4)
    change = view_by_id(document, "all")["tables"]["indicator:safe"]["change"]  # type: ignore[index]
    assert change is not None
    assert (change["first"], change["last"]) == ("2026-Q1", "2026-Q4")
    assert change["difference"] == pytest.approx(0.4)
    assert 0 < change["lower"] < 0.4 < change["upper"]
    # With adjusted counts: from the published "met" and "not met", on a base big enough.
    adjusted = table(snapshot(responses * 3), "indicator:safe")
    estimate = adjusted["estimates"][0]
    assert isinstance(estimate, dict)
    met = cells(adjusted)["_met"]
    assert (estimate["numerator"], estimate["denominator"]) == (met, adjusted["bases"][0])
    assert table(snapshot(responses), "indicator:safe")["estimates"] == [SUPPRESSED]


@pytest.mark.parametrize("seed", range(6))
def test_a_share_is_shown_only_on_a_base_the_adjustment_cannot_move_by_more_than_5_points(
    seed: int,
) -> None:
    # k - 1 = 4 counts of the small-count rule and 2 of noise: 6 people in 120 are 5 points.
    base = 120
    rng = random.Random(seed)
    answers = ["yes"] * 70 + ["partly"] * 6 + ["no"] * 64
    responses = [
        ({"felt_safe": answer}, site, "2026-W10", "self")
        for answer, site in zip(answers, rng.choices(["North", "South"], k=140), strict=True)
    ]
    document = snapshot(responses, seed=seed)
    sites = table_columns(document, "felt_safe")
    assert len(sites) == 2 and all(
        isinstance(s["bases"][0], int) and s["bases"][0] < base for s in sites
    )
    for found in (table(document, "felt_safe"), *sites):
        counts, shares = cells(found), percents(found)
        answered = found["bases"][0]
        assert isinstance(answered, int)
        if answered < base:
            assert set(shares.values()) <= {SUPPRESSED, None}, "too few answers for a share"
        else:
            assert shares["yes"] == round(100 * counts["yes"] / answered, 1)
    overall = percents(table(document, "felt_safe"))
    assert isinstance(overall["partly"], float) and abs(overall["partly"] - 100 * 6 / 140) <= 5
    assert document["percent_base"] == base


def table_columns(document: SnapshotDoc, variable: str) -> list[TableDoc]:
    """Each site's column, as its filter view shows it."""
    return [
        table(document, variable, view=view["id"])
        for view in document["views"]
        if view["dimension"] == "site"
    ]


def test_fewer_than_3k_responses_publish_no_table() -> None:
    document = snapshot(many({"felt_safe": "yes"}, 14))
    assert document["responses"] == 14
    assert document["views"] == []
    assert "no table is published" in document["notes"][0]


def test_free_text_never_reaches_the_snapshot() -> None:
    secret = "my sister Amina at the hotel on Rue 9"
    document = snapshot(many({"felt_safe": "yes", "comment": secret}, 22), EXACT)
    assert secret not in json.dumps(document)
    assert cells(table(document, "comment")) == {"_answered": 22, "_skipped": 0, "_pnts": 0}


def test_older_versions_count_where_the_question_still_matches() -> None:
    old = survey(
        SURVEY.replace('id = "visits"\ntype = "integer"', 'id = "visits"\ntype = "text"').replace(
            '{ value = "no", label = "No" }', '{ value = "never", label = "Never" }'
        )
    )
    current = survey()
    document = snapshot(
        many({"felt_safe": "yes", "visits": 3}, 10),
        EXACT,
        current=current,
        older=[(old, many({"felt_safe": "never", "visits": "three"}, 6))],
    )
    assert document["versions"] == sorted([current.version, old.version])
    assert cells(table(document, "felt_safe"))["never"] == 6
    assert cells(table(document, "visits"))[NOT_ASKED] == 6, (
        "a type change is not the same question"
    )
    rows = next(v for v in document["variables"] if v["id"] == "felt_safe")["rows"]
    assert [r["label"]["en"] for r in rows if r["key"] == "never"] == ["Never"]


def test_an_answer_the_survey_does_not_list_gets_no_row() -> None:
    document = snapshot(many({"felt_safe": "Amina's cousin"}, 20) + many({"felt_safe": "yes"}, 20))
    assert "Amina" not in json.dumps(document)


def test_every_table_is_protected_in_a_realistic_snapshot() -> None:
    rng = random.Random(11)
    responses = []
    for _ in range(300):
        answers: dict[str, Any] = {}
        if rng.random() > 0.05:
            answers["felt_safe"] = rng.choice(["yes", "yes", "partly", "no", "_pnts"])
        if rng.random() > 0.1:
            answers["age_band"] = rng.choice(["young", "old"])
        answers["services"] = rng.sample(["legal", "medical"], rng.randint(1, 2))
        site = rng.choice(["North", "South", "East", "Tiny"] if rng.random() > 0.02 else ["Tiny"])
        responses.append(
            (answers, site, rng.choice(["2026-W05", "2026-W30"]), rng.choice(["self", "assisted"]))
        )
    document = snapshot(responses)
    for view in document["views"]:
        for tables in view["tables"].values():
            for t in [tables["frequency"], *tables["crosstabs"]]:
                for row in t["rows"]:
                    for value in row["counts"]:
                        small = isinstance(value, int) and 1 <= value < 5
                        assert not small, (view["id"], t)
                for size in t["sizes"]:
                    assert size >= 15


def test_summary_from_counts_matches_summary_of_values() -> None:
    rng = random.Random(5)
    for _ in range(50):
        values = [rng.choice([1, 2, 2.5, 7, 30]) for _ in range(rng.randint(1, 40))]
        assert summarise_counts(Counter(values)) == numeric_summary(values)


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("2026-W01", "2026-Q1"),
        ("2026-W14", "2026-Q2"),
        ("2026-11-28", "2026-Q4"),
        ("2026-07", "2026-Q3"),
        ("2025-W01", "2025-Q1"),
        ("oops", "oops"),
    ],
)
def test_rounds_are_quarters_of_the_coarse_period(period: str, expected: str) -> None:
    assert round_of(period) == expected


def test_odd_shapes_build_without_error_and_show_no_small_count() -> None:
    rng = random.Random(99)
    for _ in range(60):
        count = rng.choice([0, 1, 4, 6, 9, 15, 40])
        sites = rng.choice([["North"], ["North", "South"], ["A", "B", "C", "D"]])
        responses: list[Response] = []
        for _ in range(count):
            answers: dict[str, Any] = {}
            if rng.random() < 0.7:
                answers["felt_safe"] = rng.choice(["yes", "no", "partly", "_pnts"])
            if rng.random() < 0.7:
                answers["age_band"] = rng.choice(["young", "old"])
            if rng.random() < 0.5:
                answers["visits"] = rng.randint(0, 3)
            if rng.random() < 0.5:
                answers["services"] = ["legal"]
            responses.append(
                (
                    answers,
                    rng.choice(sites),
                    rng.choice(["2026-W02", "2026-W30"]),
                    rng.choice(["self", "assisted"]),
                )
            )
        k = rng.choice([2, 3, 5])
        document = snapshot(responses, k)
        json.dumps(document)
        for view in document["views"]:
            assert view["responses"] >= 3 * k
            for tables in view["tables"].values():
                for t in [tables["frequency"], *tables["crosstabs"]]:
                    for row in t["rows"]:
                        assert not any(isinstance(v, int) and 1 <= v < k for v in row["counts"])
