"""Attacks on published report snapshots, as a viewer without the key would run them.

Used by ``test_report_attacks.py`` (bounded versions) and ``benchmarks/differencing.py`` (the
200-trial version). The attacker gets everything published, knows the method and the
perturbation formula (``perturbation.true_range``), and, to be on the safe side, true facts a
real viewer would only guess: whether a dimension's shown groups cover everyone.

The ground truth the attacks are scored against is counted by the same code a refresh uses
(``unsealing`` and ``tally``), from the same rows, opened with the test passphrase.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_matrix

from survey_app.db import Database
from survey_app.definitions import Survey
from survey_app.definitions.answers import unasked_keys
from survey_app.intake.responses import ResponseMeta, store_response, wrapped_keys
from survey_app.keys import sealing
from survey_app.operations.sample_data import fake_answers
from survey_app.reports.perturbation import Protection, true_range
from survey_app.reports.plan import (
    ALL,
    MET,
    NOT_ASKED,
    NOT_COUNTED,
    NOT_MET,
    PREFER_NOT_TO_SAY,
    SKIPPED,
    ReportPlan,
    Variable,
    VariableKind,
)
from survey_app.reports.refresh import plan_source, publication_rounds
from survey_app.reports.snapshot import SnapshotDoc, TableDoc, view_by_id
from survey_app.reports.tally import GroupCounts, group_counts
from survey_app.reports.unsealing import row_batches, tally_in_process

Cell = tuple[str, str, str, int]  # variable id, dimension id ("" for everyone), row key, column


def ground_truth(
    database: Database,
    survey: Survey,
    programme_id: int,
    passphrase: str,
    as_of: date,
    protection: Protection,
) -> GroupCounts:
    """The true counts behind a refresh on ``as_of``, per group, counted as a refresh counts."""
    with database.session() as session:
        rounds = publication_rounds(session, survey.id, as_of, protection)
        plan = plan_source(session, survey).plan()
        with sealing.UnlockedKeys.unlock(wrapped_keys(session, programme_id), passphrase) as keys:
            tally = tally_in_process(
                row_batches(session, survey.id, periods=set(rounds.periods)), survey.id, plan, keys
            )
    return group_counts(plan, tally, rounds.by_quarter)


def store_known(
    database: Database, survey: Survey, rng: random.Random, day: date, site: str = "North"
) -> dict[str, Any]:
    """One more response with generated answers, which are returned."""
    answers = fake_answers(survey, rng)
    with database.session() as session:
        store_response(
            session,
            survey_id=survey.id,
            survey_version=survey.version,
            definition=survey.canonical_json,
            answers=answers,
            meta=ResponseMeta(site=site, channel="self", language="en", day=day),
            period_granularity="week",
        )
    return answers


# ---------------------------------------------------------------------------------------------
# One report: linear and integer programming over every linked table of a question


@dataclass
class LinkedAttack:
    """Solving one snapshot: which small true counts could be pinned to one value."""

    small_cells: int = 0  # cells whose true count is 1..k-1
    recovered: list[tuple[Cell, int]] = field(default_factory=list)
    integer_checked: int = 0
    widths: list[int] = field(default_factory=list)  # range of values left for each small cell


class _Program:
    def __init__(self) -> None:
        self.index: dict[Any, int] = {}
        self.low: list[float] = []
        self.high: list[float] = []
        self.rows: list[dict[int, float]] = []
        self.row_low: list[float] = []
        self.row_high: list[float] = []
        self.truth: dict[Cell, int] = {}  # the small true counts among the unknowns
        self._cached: dict[str, Any] = {}
        self._cached_rows = -1

    def variable(self, key: Any, low: float, high: float) -> int:
        if key in self.index:
            i = self.index[key]
            self.low[i], self.high[i] = max(self.low[i], low), min(self.high[i], high)
            return i
        self.index[key] = len(self.low)
        self.low.append(low)
        self.high.append(high)
        return self.index[key]

    def equal(self, terms: Mapping[int, float], value: float = 0.0) -> None:
        self.rows.append(dict(terms))
        self.row_low.append(value)
        self.row_high.append(value)

    def at_most(self, terms: Mapping[int, float], value: float = 0.0) -> None:
        self.rows.append(dict(terms))
        self.row_low.append(-np.inf)
        self.row_high.append(value)

    def matrix(self, rows: list[int] | None = None) -> csr_matrix:
        chosen = range(len(self.rows)) if rows is None else rows
        data, row_index, column_index = [], [], []
        for r, source in enumerate(chosen):
            for i, coefficient in self.rows[source].items():
                data.append(coefficient)
                row_index.append(r)
                column_index.append(i)
        shape = (len(chosen), len(self.low))
        return csr_matrix((data, (row_index, column_index)), shape=shape)

    def bound(self, target: int, sign: float) -> float:
        c = np.zeros(len(self.low))
        c[target] = sign
        result = linprog(
            c,
            bounds=list(zip(self.low, self.high, strict=True)),
            method="highs",
            **self._constraints(),
        )
        assert result.status == 0, result.message
        return float(sign * result.fun)

    def integer_bound(self, target: int, sign: float) -> float:
        c = np.zeros(len(self.low))
        c[target] = sign
        constraint = LinearConstraint(self.matrix(), self.row_low, self.row_high)
        result = milp(
            c,
            constraints=[constraint],
            integrality=np.ones(len(self.low)),
            bounds=Bounds(self.low, self.high),
        )
        assert result.status == 0, result.message
        return float(sign * result.fun)

    def _constraints(self) -> dict[str, Any]:
        if self._cached_rows == len(self.rows):
            return self._cached
        equal = [r for r in range(len(self.rows)) if self.row_low[r] == self.row_high[r]]
        upper = [r for r in range(len(self.rows)) if self.row_low[r] != self.row_high[r]]
        found: dict[str, Any] = {}
        if equal:
            found["A_eq"] = self.matrix(equal)
            found["b_eq"] = [self.row_low[r] for r in equal]
        if upper:
            found["A_ub"] = self.matrix(upper)
            found["b_ub"] = [self.row_high[r] for r in upper]
        self._cached, self._cached_rows = found, len(self.rows)
        return found


def _tables(document: SnapshotDoc, variable_id: str) -> list[TableDoc]:
    view = view_by_id(document, ALL)
    assert view is not None
    tables = view["tables"][variable_id]
    return [tables["frequency"], *tables["crosstabs"]]


def _indicator_rows(plan: ReportPlan, question: Variable) -> dict[str, dict[str, str]]:
    """Indicators computed from ``question`` alone: which of its rows is met, not met, neither."""
    found: dict[str, dict[str, str]] = {}
    for variable in plan.variables:
        indicator = variable.indicator
        if indicator is None:
            continue
        references = indicator.numerator.references() | indicator.denominator.references()
        if references != {question.id}:
            continue
        mapping = {}
        keys = [c.key for c in question.categories] + [SKIPPED, PREFER_NOT_TO_SAY]
        for key in keys:
            answers: dict[str, Any] = {}
            if key == PREFER_NOT_TO_SAY:
                answers[question.id] = "_pnts"
            elif key != SKIPPED:
                rating = question.question_type == "rating"
                answers[question.id] = int(key) if rating else key
            if not indicator.denominator.is_true(answers):
                mapping[key] = NOT_COUNTED
            else:
                mapping[key] = MET if indicator.numerator.is_true(answers) else NOT_MET
        # Not asked: no answer, as an indicator reads it.
        mapping[NOT_ASKED] = mapping[SKIPPED]
        found[variable.id] = mapping
    return found


def linked_attack(
    document: SnapshotDoc,
    plan: ReportPlan,
    truth: GroupCounts,
    *,
    perturbed: bool,
    integer_sample: int = 0,
    seed: int = 0,
    hidden: Callable[[Cell, int], bool] | None = None,
) -> LinkedAttack:
    """Bounds on every small true count of every single-choice question and its indicators.

    Each question is solved with all its published tables at once: its frequency table, its
    cross-tab by every dimension, the group sizes, and the indicators computed from it, tied by
    every equation that holds between them (rows add up to group sizes, groups to everyone when
    they cover everyone, an indicator's rows to the question's rows they come from). A count is
    recovered when the smallest and largest values it can take are the same.
    """
    k = document["threshold"]
    total = document["responses"]
    result = LinkedAttack()
    rng = random.Random(seed)
    groups = {d["id"]: d["groups"] for d in document["dimensions"]}
    covering = {
        dimension: sum(truth.sizes[(dimension, member)] for g in found for member in g["members"])
        == total
        for dimension, found in groups.items()
    }

    def published_range(value: Any, cell: Cell | None = None) -> tuple[float, float]:
        assert isinstance(value, int), value
        if cell is not None and hidden is not None and hidden(cell, value):
            return 0, total  # as if the cell were suppressed
        if perturbed and not 1 <= value < k:
            return true_range(value, k)
        # Exact as published, or a count the method says it never publishes: read as it is.
        return value, value

    integer_targets: list[tuple[_Program, int, Cell, int]] = []
    for question in plan.variables:
        if question.kind is not VariableKind.CHOICE:
            continue
        program = _Program()
        family = {question.id: None, **_indicator_rows(plan, question)}
        cells: dict[Cell, int] = {}
        for variable_id in family:
            for table in _tables(document, variable_id):
                dimension = table["dimension"] or ""
                for c, column in enumerate(table["columns"]):
                    size_key = ("size", dimension, column)
                    size = (
                        program.variable(size_key, total, total)
                        if c == 0
                        else program.variable(size_key, *published_range(table["sizes"][c]))
                    )
                    members = [(ALL, ALL)] if c == 0 else _members(groups, dimension, column)
                    column_cells = []
                    for row in table["rows"]:
                        cell: Cell = (variable_id, "" if c == 0 else dimension, row["key"], c)
                        # Column 0 of every cross-tab is the frequency table: one unknown.
                        key = (variable_id, "", row["key"], 0) if c == 0 else cell
                        index = program.variable(key, *published_range(row["counts"][c], key))
                        cells[key] = index
                        column_cells.append(index)
                        true = sum(truth.count(m, variable_id, row["key"]) for m in members)
                        _note_truth(result, program, key, true, k)
                    program.equal({i: 1.0 for i in column_cells} | {size: -1.0})
        # Groups covering everyone add up to everyone, row by row.
        for variable_id in family:
            for table in _tables(document, variable_id)[1:]:
                dimension = table["dimension"] or ""
                if not covering.get(dimension):
                    continue
                for row in table["rows"]:
                    terms = {
                        cells[(variable_id, dimension, row["key"], c)]: 1.0
                        for c in range(1, len(table["columns"]))
                    }
                    terms[cells[(variable_id, "", row["key"], 0)]] = -1.0
                    program.equal(terms)
        # Indicators computed from the question: each of their rows is a sum of its rows.
        for indicator_id, mapping in family.items():
            if mapping is None:
                continue
            for table in _tables(document, indicator_id):
                dimension = table["dimension"] or ""
                for c in range(len(table["columns"])):
                    where = "" if c == 0 else dimension
                    for slot in (MET, NOT_MET, NOT_COUNTED):
                        terms = {cells[(indicator_id, where, slot, c)]: -1.0}
                        for row_key, goes_to in mapping.items():
                            found = cells.get((question.id, where, row_key, c))
                            if goes_to == slot and found is not None:
                                terms[found] = terms.get(found, 0.0) + 1.0
                        program.equal(terms)
        for key, true in program.truth.items():
            index = program.index[key]
            low, high = program.bound(index, 1.0), program.bound(index, -1.0)
            width = int(np.floor(high + 1e-6) - np.ceil(low - 1e-6))
            result.widths.append(width)
            if width == 0:
                result.recovered.append((key, true))
            integer_targets.append((program, index, key, true))
    for program, index, key, true in rng.sample(
        integer_targets, min(integer_sample, len(integer_targets))
    ):
        low, high = program.integer_bound(index, 1.0), program.integer_bound(index, -1.0)
        result.integer_checked += 1
        if round(low) == round(high) and (key, true) not in result.recovered:
            result.recovered.append((key, true))
    return result


def _note_truth(result: LinkedAttack, program: _Program, key: Cell, true: int, k: int) -> None:
    if 1 <= true < k and key not in program.truth:
        program.truth[key] = true
        result.small_cells += 1


def _members(groups: Mapping[str, Any], dimension: str, column: str) -> list[tuple[str, str]]:
    group = next(g for g in groups[dimension] if g["key"] == column)
    return [(dimension, member) for member in group["members"]]


# ---------------------------------------------------------------------------------------------
# Two reports: differencing


def frequency(document: SnapshotDoc, variable_id: str, view: str = ALL) -> dict[str, int]:
    found = view_by_id(document, view)
    if found is None or variable_id not in found["tables"]:
        return {}
    table = found["tables"][variable_id]["frequency"]
    return {row["key"]: int(row["counts"][0]) for row in table["rows"]}


def answer_key(plan: ReportPlan, variable: Variable, answers: Mapping[str, Any]) -> str:
    """The row of ``variable`` a response of the current version is counted in."""
    value = answers.get(variable.id)
    if value is None:
        return NOT_ASKED if variable.id in unasked_keys(plan.survey.pages, answers) else SKIPPED
    if value == "_pnts":
        return PREFER_NOT_TO_SAY
    return str(value)


def difference_guess(before: SnapshotDoc, after: SnapshotDoc, variable_id: str) -> str | None:
    """The row whose count grew most between two reports; else the most common row."""
    old, new = frequency(before, variable_id), frequency(after, variable_id)
    if not new:
        return None
    grown = {key: new[key] - old.get(key, 0) for key in new}
    best = max(grown.values())
    if best > 0:
        return max(sorted(grown), key=lambda key: grown[key])
    return modal_guess(after, variable_id)


def modal_guess(document: SnapshotDoc, variable_id: str) -> str | None:
    """The guess from the published percentages alone: the most common row."""
    counts = frequency(document, variable_id)
    if not counts:
        return None
    return max(sorted(counts), key=lambda key: counts[key])


@dataclass
class Scores:
    """Per question: guesses right by differencing, by the published percentages, out of n."""

    attack: Counter[str] = field(default_factory=Counter)
    base: Counter[str] = field(default_factory=Counter)
    n: Counter[str] = field(default_factory=Counter)

    def score(
        self,
        plan: ReportPlan,
        before: SnapshotDoc,
        after: SnapshotDoc,
        newcomers: Iterable[Mapping[str, Any]],
    ) -> None:
        people = list(newcomers)
        for variable in plan.variables:
            if variable.kind is not VariableKind.CHOICE:
                continue
            guess = difference_guess(before, after, variable.id)
            base = modal_guess(before, variable.id)
            if guess is None or base is None:
                continue
            for answers in people:
                truth = answer_key(plan, variable, answers)
                self.n[variable.id] += 1
                self.attack[variable.id] += guess == truth
                self.base[variable.id] += base == truth

    def accuracy(self, variable_id: str) -> tuple[float, float]:
        n = self.n[variable_id]
        return self.attack[variable_id] / n, self.base[variable_id] / n

    def worst_excess(self) -> tuple[str, float]:
        """The question where differencing beats the published percentages most, in points."""
        excess = {v: 100 * (a - b) for v in self.n for a, b in [self.accuracy(v)]}
        worst = max(sorted(excess), key=lambda v: excess[v])
        return worst, excess[worst]

    def mean_excess(self) -> float:
        values = [100 * (a - b) for v in self.n for a, b in [self.accuracy(v)]]
        return sum(values) / len(values)
