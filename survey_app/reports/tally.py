"""Counting opened responses into partial aggregates that add up.

A worker counts its batches into a ``TallyCounter`` and hands back one ``Tally``; tallies from
several workers are added together. Nothing in a tally belongs to one response: it holds counts
per group and category, the numeric answers as counts per value, and how many responses could
not be opened and why.

What a count is keyed by. Counting every question once per dimension would cost a few hundred
dictionary updates per response, so each response is counted once per *membership*: its
(site, round, channel), and one combination of values per block of disaggregation questions
(age band x gender x ..., as long as the block stays small enough to keep memory bounded). The
per-dimension counts are added up from these afterwards by ``group_counts``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from ..definitions import PREFER_NOT_TO_SAY as PNTS_ANSWER
from ..definitions import Page, Question
from ..definitions.answers import unasked_keys
from .perturbation import MODULUS
from .plan import (
    ALL,
    ANSWERED,
    CHANNEL,
    MET,
    NOT_ASKED,
    NOT_COUNTED,
    NOT_MET,
    PREFER_NOT_TO_SAY,
    ROUND,
    SITE,
    SKIPPED,
    Dimension,
    ReportPlan,
    Variable,
    VariableKind,
)

Membership = tuple[str, ...]
GroupKey = tuple[str, str]  # (dimension id, group value); ("all", "all") is everyone
BASE = "base"
BLOCK = "block"
# A block of disaggregation questions is counted jointly while its number of value
# combinations stays under this: it bounds the counts held whatever the number of responses.
BLOCK_LIMIT = 512
_FLUSH_AT = 200_000
_Array = np.ndarray[Any, np.dtype[np.int64]]
_MULTI_SEPARATOR = "\t"
# Stands in for the answer of a question that did not apply to a response (its page or its own
# condition was false): counted as "not asked", apart from a skip (applied, left unanswered).
_UNASKED = object()


def round_of(period: str) -> str:
    """The round a coarse period belongs to: its calendar quarter, as "2026-Q4"."""
    try:
        if "-W" in period:
            year, week = period.split("-W")
            day = date.fromisocalendar(int(year), int(week), 4)  # the week's Thursday
        elif len(period) == 7:
            day = date.fromisoformat(f"{period}-01")
        else:
            day = date.fromisoformat(period)
    except ValueError:
        return period
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def blocks(plan: ReportPlan) -> tuple[tuple[Dimension, ...], ...]:
    """The disaggregation questions, grouped into blocks counted jointly."""
    found: list[list[Dimension]] = []
    size = 0
    for dimension in plan.dimensions:
        if dimension.question is None:
            continue
        values = len(plan.variable(dimension.id).categories)
        own = (values if dimension.exclusive else 2 ** min(values, 20)) + 3
        if found and size * own <= BLOCK_LIMIT:
            found[-1].append(dimension)
            size *= own
        else:
            found.append([dimension])
            size = own
    return tuple(tuple(block) for block in found)


@dataclass
class Tally:
    """Counts that can be added together; see the module doc."""

    sizes: Counter[Membership] = field(default_factory=Counter)
    counts: Counter[tuple[Membership, str, str]] = field(default_factory=Counter)
    numbers: Counter[tuple[Membership, str, float]] = field(default_factory=Counter)
    versions: Counter[str] = field(default_factory=Counter)
    unreadable: Counter[str] = field(default_factory=Counter)
    # Sums of the record keys of the responses counted in ``sizes`` and ``counts`` (cell keys
    # before the modulus, see ``perturbation``).
    size_keys: Counter[Membership] = field(default_factory=Counter)
    count_keys: Counter[tuple[Membership, str, str]] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.sizes.update(other.sizes)
        self.counts.update(other.counts)
        self.size_keys.update(other.size_keys)
        self.count_keys.update(other.count_keys)
        self.numbers.update(other.numbers)
        self.versions.update(other.versions)
        self.unreadable.update(other.unreadable)

    @property
    def responses(self) -> int:
        return sum(self.versions.values())


_Lookup = Callable[[Any, int], int]
_CACHE_LIMIT = 50_000
_SIZE = ("", "_size")  # the slot that counts responses themselves


@dataclass(frozen=True)
class _VersionRules:
    """How each variable is counted for responses of one version."""

    choices: tuple[tuple[str, _Lookup], ...]
    choice_variables: tuple[str, ...]
    constant: tuple[int, ...]  # "not asked" slots, and the response itself
    texts: tuple[tuple[str, _Lookup, int], ...]
    multiples: tuple[tuple[str, str, dict[str, int], int, int, int, int], ...]
    numbers: tuple[tuple[str, dict[float, int], int, int, int, int], ...]
    dates: tuple[tuple[str, int, int, int, int], ...]
    indicators: tuple[_IndicatorRule, ...]
    block_questions: tuple[tuple[tuple[str, bool], ...], ...]  # (question id or "", exclusive)
    unasked: _UnaskedRule | None  # None when every question of the version always applies
    # Repeated pages' questions counted once per person: (its id, its repetitions' keys)
    repeated: tuple[tuple[str, tuple[str, ...], bool], ...] = ()  # ..., whether options count


class _IndicatorRule:
    """Whether a response is in an indicator's numerator, denominator or neither.

    The answer depends only on the questions the expressions name, so it is remembered per
    combination of their values: most responses then cost one lookup instead of two
    evaluations.
    """

    def __init__(self, variable: Variable, met: int, not_met: int, not_counted: int) -> None:
        indicator = variable.indicator
        assert indicator is not None
        self.numerator = indicator.numerator
        self.denominator = indicator.denominator
        self.references = tuple(sorted(self.numerator.references() | self.denominator.references()))
        self.met, self.not_met, self.not_counted = met, not_met, not_counted
        self.known: dict[Any, int] = {}

    def slot(self, answers: Mapping[str, Any]) -> int:
        get = answers.get
        if len(self.references) == 1:
            key = _hashable(get(self.references[0]))
        else:
            key = tuple(_hashable(get(name)) for name in self.references)
        slot = self.known.get(key)
        if slot is None:
            if not self.denominator.is_true(answers):
                slot = self.not_counted
            else:
                slot = self.met if self.numerator.is_true(answers) else self.not_met
            if len(self.known) < _CACHE_LIMIT:
                self.known[key] = slot
        return slot


class _UnaskedRule:
    """Which questions did not apply to a response, remembered per combination of the values
    the conditions name (most responses then cost one lookup)."""

    def __init__(self, pages: Sequence[Page]) -> None:
        self.pages = pages
        names: set[str] = set()
        for page in pages:
            for expression in (page.relevant, *(q.relevant for q in page.questions)):
                if expression is not None:
                    names |= expression.references()
        self.references = tuple(sorted(names))
        self.known: dict[Any, frozenset[str]] = {}

    @classmethod
    def for_pages(cls, pages: Sequence[Page]) -> _UnaskedRule | None:
        conditional = any(
            page.relevant is not None or any(q.relevant is not None for q in page.questions)
            for page in pages
        )
        return cls(pages) if conditional else None

    def __call__(self, answers: Mapping[str, Any]) -> frozenset[str]:
        key = tuple(_hashable(answers.get(name)) for name in self.references)
        found = self.known.get(key)
        if found is None:
            found = unasked_keys(self.pages, answers)
            if len(self.known) < _CACHE_LIMIT:
                self.known[key] = found
        return found


def _person(answers: Mapping[str, Any], keys: tuple[str, ...], options: bool) -> Any:
    """One person's answer to a repeated page's question, from all their repetitions: every
    option they gave at least once (as text, in the order first given) when they answered in
    some repetition, else "prefer not to say" if they said so once, else a skip if they were
    asked, else not asked."""
    given: list[str] = []
    answered = declined = asked = False
    for key in keys:
        value = answers.get(key)
        if value is _UNASKED:
            continue
        asked = True
        if value is None:
            continue
        if value == PNTS_ANSWER:
            declined = True
            continue
        answered = True
        for option in value if isinstance(value, list) else (value,):
            text = str(option)
            if text not in given:
                given.append(text)
    if answered:
        return given if options else ANSWERED
    if declined:
        return PNTS_ANSWER
    return None if asked else _UNASKED


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class TallyCounter:
    """Counts opened responses quickly; ``tally()`` gives the result as a ``Tally``."""

    def __init__(self, plan: ReportPlan) -> None:
        self._plan = plan
        self._blocks = blocks(plan)
        self._slot_ids: dict[tuple[str, str | float], int] = {}
        self._slots: list[tuple[str, str | float]] = []
        self._number_slots: dict[str, dict[float, int]] = {}
        self._member_ids: dict[Membership, int] = {}
        self._members: list[Membership] = []
        self._base_ids: dict[tuple[str, str, str], int] = {}
        self._rules: dict[str, _VersionRules] = {}
        # Per membership, the slots counted since the last flush, and the record key and
        # number of slots of each response among them; then, per slot, the counts and the
        # sums of record keys modulo 2**32 (added up in C by ``_flush``).
        self._pending: list[list[int]] = []
        self._pending_keys: list[list[int]] = []
        self._pending_lengths: list[list[int]] = []
        self._pending_size = 0
        self._counts: list[_Array] = []
        self._keys: list[_Array] = []
        self._versions: Counter[str] = Counter()
        self._unreadable: Counter[str] = Counter()

    # --- the hot path: one call per response --------------------------------------------

    def add(
        self,
        version: str,
        period: str,
        answers: Mapping[str, Any],
        site: str,
        channel: str,
        record_key: int = 0,
    ) -> None:
        rules = self._rules.get(version) or self._rules_for(version)
        self._versions[version] += 1
        given = answers
        if rules.unasked is not None:
            unasked = rules.unasked(answers)
            if unasked:
                answers = {**answers, **{k: _UNASKED for k in unasked if answers.get(k) is None}}
        if rules.repeated:
            answers = {
                **answers,
                **{q: _person(answers, keys, options) for q, keys, options in rules.repeated},
            }
        get = answers.get
        try:
            # One lookup per question: each table maps a skip (None), "prefer not to say" and
            # every known answer to its slot; -1 marks an answer the definitions do not list.
            slots = [lookup(get(question_id), -1) for question_id, lookup in rules.choices]
        except TypeError:  # an unhashable answer where one value was expected
            slots = [-1] * len(rules.choices)
        if -1 in slots:
            self._unknown_answers(rules, answers, slots)
        slots += rules.constant
        slots += [lookup(get(q), answered) for q, lookup, answered in rules.texts]
        for question_id, by_value, answered, skipped, pnts, unasked_slot in rules.numbers:
            value = get(question_id)
            if value is None:
                slots.append(skipped)
            elif value is _UNASKED:
                slots.append(unasked_slot)
            elif value == PNTS_ANSWER or not isinstance(value, int | float):
                slots.append(pnts)
            else:
                slot = by_value.get(value)
                if slot is None:
                    slot = by_value[value] = self._slot(question_id, value)
                slots += (answered, slot)
        for (
            question_id,
            variable_id,
            options,
            answered,
            skipped,
            pnts,
            unasked_slot,
        ) in rules.multiples:
            value = get(question_id)
            if value is None:
                slots.append(skipped)
            elif value is _UNASKED:
                slots.append(unasked_slot)
            elif value == PNTS_ANSWER or not isinstance(value, list):
                slots.append(pnts)
            else:
                slots.append(answered)
                for option in value:
                    slot = options.get(option)
                    slots.append(slot if slot is not None else self._slot(variable_id, option))
        for question_id, answered, skipped, pnts, unasked_slot in rules.dates:
            value = get(question_id)
            if value is None:
                slots.append(skipped)
            elif value is _UNASKED:
                slots.append(unasked_slot)
            elif value == PNTS_ANSWER:
                slots.append(pnts)
            else:
                # Only whether a date was given: rows made of the dates themselves would
                # publish a value one person gave as a row label.
                slots.append(answered)
        if rules.indicators and rules.repeated:
            # An indicator counts people: a repeated question reads as every answer given.
            given = {**given, **{q: _person(given, keys, True) for q, keys, _ in rules.repeated}}
        for indicator in rules.indicators:
            slots.append(indicator.slot(given))

        members = [self._base(site, period, channel)]
        for index, block in enumerate(rules.block_questions):
            members.append(self._member(_block_key(index, block, answers)))
        pending, pending_keys, lengths = self._pending, self._pending_keys, self._pending_lengths
        length = len(slots)
        for member in members:
            pending[member] += slots
            pending_keys[member].append(record_key)
            lengths[member].append(length)
        self._pending_size += len(slots) * len(members)
        if self._pending_size >= _FLUSH_AT:
            self._flush()

    def _unknown_answers(
        self, rules: _VersionRules, answers: Mapping[str, Any], slots: list[int]
    ) -> None:
        """Count answers the definitions do not list under their own value."""
        for index, (question_id, lookup) in enumerate(rules.choices):
            if slots[index] != -1:
                continue
            value = answers.get(question_id)
            slot = -1
            if not isinstance(value, list | dict):
                slot = lookup(value, -1)
            if slot == -1:
                slot = self._slot(rules.choice_variables[index], str(value))
            slots[index] = slot

    def add_unreadable(self, reason: str) -> None:
        self._unreadable[reason] += 1

    # --- keys -------------------------------------------------------------------------------

    def _flush(self) -> None:
        width = len(self._slots)
        for member, pending in enumerate(self._pending):
            if not pending:
                continue
            slots = np.array(pending, dtype=np.intp)
            # Each response's record key, once per slot it has. Fewer than _FLUSH_AT keys under
            # 2**32 add up to less than 2**53, so bincount's float sums are exact.
            weights = np.repeat(
                np.array(self._pending_keys[member], dtype=np.float64),
                np.array(self._pending_lengths[member], dtype=np.intp),
            )
            counts, keys = self._widened(member, width)
            counts += np.bincount(slots, minlength=width)
            keys += np.bincount(slots, weights=weights, minlength=width).astype(np.int64)
            keys %= MODULUS
            pending.clear()
            self._pending_keys[member].clear()
            self._pending_lengths[member].clear()
        self._pending_size = 0

    def _widened(self, member: int, width: int) -> tuple[_Array, _Array]:
        counts, keys = self._counts[member], self._keys[member]
        if len(counts) < width:
            extra = np.zeros(width - len(counts), dtype=np.int64)
            counts = self._counts[member] = np.concatenate([counts, extra])
            keys = self._keys[member] = np.concatenate([keys, extra])
        return counts, keys

    def _slot(self, variable_id: str, category: str | float) -> int:
        key = (variable_id, category)
        slot = self._slot_ids.get(key)
        if slot is None:
            slot = self._slot_ids[key] = len(self._slots)
            self._slots.append(key)
        return slot

    def _member(self, membership: Membership) -> int:
        member = self._member_ids.get(membership)
        if member is None:
            member = self._member_ids[membership] = len(self._members)
            self._members.append(membership)
            self._pending.append([])
            self._pending_keys.append([])
            self._pending_lengths.append([])
            self._counts.append(np.zeros(0, dtype=np.int64))
            self._keys.append(np.zeros(0, dtype=np.int64))
        return member

    def _base(self, site: str, period: str, channel: str) -> int:
        member = self._base_ids.get((site, period, channel))
        if member is None:
            member = self._member((BASE, site, round_of(period), channel))
            self._base_ids[(site, period, channel)] = member
        return member

    # --- rules per version ---------------------------------------------------------------------

    def _rules_for(self, version: str) -> _VersionRules:
        survey = self._plan.versions.get(version)
        choices: list[tuple[str, _Lookup]] = []
        choice_variables: list[str] = []
        constant = [self._slot(*_SIZE)]
        texts: list[tuple[str, _Lookup, int]] = []
        multiples: list[tuple[str, str, dict[str, int], int, int, int, int]] = []
        numbers: list[tuple[str, dict[float, int], int, int, int, int]] = []
        dates: list[tuple[str, int, int, int, int]] = []
        indicators: list[_IndicatorRule] = []
        for variable in self._plan.variables:
            slot = self._slot_maker(variable.id)
            if variable.kind is VariableKind.INDICATOR:
                indicators.append(
                    _IndicatorRule(variable, slot(MET), slot(NOT_MET), slot(NOT_COUNTED))
                )
                continue
            if version not in variable.versions:
                constant.append(slot(NOT_ASKED))
                continue
            skipped, pnts, unasked = slot(SKIPPED), slot(PREFER_NOT_TO_SAY), slot(NOT_ASKED)
            if variable.kind is VariableKind.CHOICE:
                table: dict[Any, int] = {None: skipped, PNTS_ANSWER: pnts, _UNASKED: unasked}
                for category in variable.categories:
                    table[category.key] = slot(category.key)
                    # The value as the type stores it (a rating keeps numbers), when it differs.
                    if variable.question is not None:
                        stored = _stored(variable.question, category.key)
                        if stored is not None:
                            table[stored] = slot(category.key)
                choices.append((variable.id, table.get))
                choice_variables.append(variable.id)
            elif variable.kind is VariableKind.MULTIPLE:
                options = {category.key: slot(category.key) for category in variable.categories}
                multiples.append(
                    (variable.id, variable.id, options, slot(ANSWERED), skipped, pnts, unasked)
                )
            elif variable.kind is VariableKind.NUMBER:
                by_value = self._number_slots.setdefault(variable.id, {})
                numbers.append((variable.id, by_value, slot(ANSWERED), skipped, pnts, unasked))
            elif variable.kind is VariableKind.DATE:
                dates.append((variable.id, slot(ANSWERED), skipped, pnts, unasked))
            else:
                status = {None: skipped, PNTS_ANSWER: pnts, _UNASKED: unasked}
                texts.append((variable.id, status.get, slot(ANSWERED)))
        block_questions = tuple(
            tuple(
                (
                    dimension.id if version in self._plan.variable(dimension.id).versions else "",
                    dimension.exclusive,
                )
                for dimension in block
            )
            for block in self._blocks
        )
        rules = _VersionRules(
            choices=tuple(choices),
            choice_variables=tuple(choice_variables),
            constant=tuple(constant),
            texts=tuple(texts),
            multiples=tuple(multiples),
            numbers=tuple(numbers),
            dates=tuple(dates),
            indicators=tuple(indicators),
            block_questions=block_questions,
            unasked=_UnaskedRule.for_pages(survey.pages) if survey is not None else None,
            repeated=tuple(
                (
                    variable.id,
                    variable.repeated[version],
                    variable.kind is VariableKind.MULTIPLE,
                )
                for variable in self._plan.variables
                if variable.repeated is not None and version in variable.repeated
            ),
        )
        self._rules[version] = rules
        return rules

    def _slot_maker(self, variable_id: str) -> Callable[[str], int]:
        def slot(category: str) -> int:
            return self._slot(variable_id, category)

        return slot

    # --- result ----------------------------------------------------------------------------------

    def tally(self) -> Tally:
        self._flush()
        members, slots = self._members, self._slots
        counts: Counter[tuple[Membership, str, str]] = Counter()
        numbers: Counter[tuple[Membership, str, float]] = Counter()
        sizes: Counter[Membership] = Counter()
        size_keys: Counter[Membership] = Counter()
        count_keys: Counter[tuple[Membership, str, str]] = Counter()
        for member, counted in enumerate(self._counts):
            membership = members[member]
            keys = self._keys[member].tolist()
            by_slot = counted.tolist()
            for slot in np.flatnonzero(counted).tolist():
                number = by_slot[slot]
                variable_id, category = slots[slot]
                if isinstance(category, str):
                    if (variable_id, category) == _SIZE:
                        sizes[membership] = number
                        size_keys[membership] = keys[slot] % MODULUS
                    else:
                        counts[(membership, variable_id, category)] = number
                        count_keys[(membership, variable_id, category)] = keys[slot] % MODULUS
                else:
                    numbers[(membership, variable_id, category)] = number
        return Tally(
            sizes=sizes,
            counts=counts,
            numbers=numbers,
            versions=Counter(self._versions),
            unreadable=Counter(self._unreadable),
            size_keys=size_keys,
            count_keys=count_keys,
        )


@dataclass
class GroupCounts:
    """Counts per group of each dimension, added up from a tally's memberships.

    ``size_keys`` and ``cell_keys`` add up the record keys of the same people (the cell keys of
    ``perturbation``, before the modulus); a union of groups adds them up again.
    """

    sizes: Counter[GroupKey] = field(default_factory=Counter)
    cells: dict[GroupKey, Counter[tuple[str, str]]] = field(default_factory=dict)
    numbers: dict[GroupKey, dict[str, Counter[float]]] = field(default_factory=dict)
    size_keys: Counter[GroupKey] = field(default_factory=Counter)
    cell_keys: dict[GroupKey, Counter[tuple[str, str]]] = field(default_factory=dict)

    def count(self, group: GroupKey, variable_id: str, category: str) -> int:
        cells = self.cells.get(group)
        return cells[(variable_id, category)] if cells is not None else 0

    def cell_key(self, group: GroupKey, variable_id: str, category: str) -> int:
        keys = self.cell_keys.get(group)
        return keys[(variable_id, category)] if keys is not None else 0

    def values(self, group: GroupKey, variable_id: str) -> Counter[float]:
        return self.numbers.get(group, {}).get(variable_id, Counter())

    def groups_of(self, dimension_id: str) -> list[str]:
        return sorted(value for dim, value in self.sizes if dim == dimension_id)


def group_counts(
    plan: ReportPlan, tally: Tally, rounds: Mapping[str, str] | None = None
) -> GroupCounts:
    """Counts per (dimension, group), from the counts per membership.

    ``rounds`` maps each quarter to the publication round it is counted in (each quarter is a
    round of its own without it).
    """
    block_list = blocks(plan)
    expanded: dict[Membership, list[GroupKey]] = {}

    def groups(membership: Membership) -> list[GroupKey]:
        found = expanded.get(membership)
        if found is None:
            found = expanded[membership] = _expand(membership, block_list, rounds)
        return found

    result = GroupCounts()
    for membership, size in tally.sizes.items():
        for group in groups(membership):
            result.sizes[group] += size
            result.size_keys[group] += tally.size_keys[membership]
    for (membership, variable_id, category), number in tally.counts.items():
        key = tally.count_keys[(membership, variable_id, category)]
        for group in groups(membership):
            result.cells.setdefault(group, Counter())[(variable_id, category)] += number
            result.cell_keys.setdefault(group, Counter())[(variable_id, category)] += key
    for (membership, variable_id, value), number in tally.numbers.items():
        for group in groups(membership):
            by_variable = result.numbers.setdefault(group, {})
            by_variable.setdefault(variable_id, Counter())[value] += number
    return result


def _block_key(
    index: int, block: tuple[tuple[str, bool], ...], answers: Mapping[str, Any]
) -> Membership:
    values = [BLOCK, str(index)]
    for question_id, exclusive in block:
        if not question_id:
            values.append(NOT_ASKED)
            continue
        value = answers.get(question_id)
        if value is _UNASKED:
            values.append(NOT_ASKED)
        elif value is None:
            values.append(SKIPPED)
        elif value == PNTS_ANSWER:
            values.append(PREFER_NOT_TO_SAY)
        elif exclusive or not isinstance(value, list):
            values.append(str(value))
        else:
            values.append(_MULTI_SEPARATOR.join(value))
    return tuple(values)


def _expand(
    membership: Membership,
    block_list: Sequence[tuple[Dimension, ...]],
    rounds: Mapping[str, str] | None,
) -> list[GroupKey]:
    if membership[0] == BASE:
        _, site, round_, channel = membership
        if rounds is not None:
            round_ = rounds.get(round_, round_)
        return [(ALL, ALL), (SITE, site), (ROUND, round_), (CHANNEL, channel)]
    block = block_list[int(membership[1])]
    found: list[GroupKey] = []
    for dimension, value in zip(block, membership[2:], strict=True):
        if dimension.exclusive or value.startswith("_"):
            found.append((dimension.id, value))
        else:
            found.extend((dimension.id, option) for option in value.split(_MULTI_SEPARATOR))
    return found


def _stored(question: Question, key: str) -> object | None:
    """An option's value as the question's type stores it; None for a category the type
    cannot store (an older version's option, a built-in row)."""
    try:
        return question.kind.stored_choice(key)
    except ValueError:
        return None
