"""Publication rounds: which responses a report may count, so that reports cannot be differenced.

A *round* is a calendar quarter ("2026-Q4"), worked out from each response's coarse period.
A round is **open** until a week after its quarter ends (a week-long period whose Thursday falls
in the quarter can end up to three days after it), and **closed** from then on. Responses are
stored with today's period, so no response can join a round once it is closed.

A report counts only responses of closed rounds, in *publication rounds*: the closed quarters in
order, each joined to the ones after it until together they hold at least ``3k`` responses.
Closed quarters at the end that do not reach that yet are held back until a later quarter
completes them. So between any two reports, whenever they were refreshed, the responses counted
are the same or differ by whole publication rounds of at least 3k people, and the tables of
such a round are published anyway (its column of the cross-tabs by round). New responses in the
open round change nothing that is published.

A published round must never change. Responses can still leave one (erasure, retention, a key
that is not unlocked, a row altered so it no longer opens) or, through the database, be added
to one. So each snapshot records its rounds with the exact number of responses counted in each,
and the next refresh compares: a round whose quarters or count differ from what was published
is withheld from then on (its quarters are recorded as withheld in every later snapshot).
Comparing the two reports then gives the withheld round's own column, published before, and
nothing about the responses that changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from .tally import round_of

# A quarter is closed this many days after its last day.
CLOSING_DELAY = timedelta(days=7)


@dataclass(frozen=True)
class PublicationRound:
    key: str  # "2026-Q1", or "2026-Q1 to 2026-Q2" when quarters are joined
    quarters: tuple[str, ...]
    responses: int


@dataclass(frozen=True)
class RoundPlan:
    """What a refresh counts: the periods of the publication rounds, and what waits."""

    rounds: tuple[PublicationRound, ...]
    periods: dict[str, str] = field(default_factory=dict)  # period -> publication round key
    open_rounds: tuple[str, ...] = ()
    held_back: tuple[str, ...] = ()  # closed quarters waiting to reach the minimum
    waiting: int = 0  # responses not counted (open or held back)
    withheld: tuple[str, ...] = ()  # quarters of rounds that changed after publication

    @property
    def counted(self) -> int:
        return sum(r.responses for r in self.rounds)

    @property
    def by_quarter(self) -> dict[str, str]:
        return {q: r.key for r in self.rounds for q in r.quarters}

    def without(self, quarters: set[str]) -> RoundPlan:
        """The plan with every round that has one of ``quarters`` withheld for good."""
        kept = tuple(r for r in self.rounds if not quarters & set(r.quarters))
        dropped = {q for r in self.rounds if r not in kept for q in r.quarters}
        withheld = tuple(sorted(set(self.withheld) | quarters | dropped))
        periods = {p: key for p, key in self.periods.items() if key in {r.key for r in kept}}
        return replace(self, rounds=kept, periods=periods, withheld=withheld)


def changed_rounds(
    rounds: tuple[PublicationRound, ...],
    counted: Mapping[str, int],
    published: list[tuple[tuple[str, ...], int]],
) -> set[str]:
    """Quarters of the rounds counted now that differ from the rounds published before.

    ``counted``: responses counted per quarter now; ``published``: (quarters, responses) of the
    rounds of the previous snapshot. A round differs if it shares a quarter with a published
    round but not all its quarters, or not its number of responses.
    """
    before = {quarter: (quarters, n) for quarters, n in published for quarter in quarters}
    changed: set[str] = set()
    for found in rounds:
        now = sum(counted.get(q, 0) for q in found.quarters)
        for quarter in found.quarters:
            if quarter in before and before[quarter] != (found.quarters, now):
                changed |= set(found.quarters) | set(before[quarter][0])
    return changed


def quarter_end(quarter: str) -> date | None:
    """The last day of "2026-Q4", or None for a round name that is not a quarter."""
    try:
        year, number = quarter.split("-Q")
        first_month = 3 * (int(number) - 1) + 1
        start = date(int(year), first_month, 1)
    except ValueError:
        return None
    following = (
        date(start.year + 1, 1, 1) if first_month == 10 else start.replace(month=first_month + 3)
    )
    return following - timedelta(days=1)


def is_closed(quarter: str, as_of: date) -> bool:
    end = quarter_end(quarter)
    return end is not None and as_of > end + CLOSING_DELAY


def plan_rounds(
    period_counts: Mapping[str, int], as_of: date, minimum: int, *, closed_only: bool = True
) -> RoundPlan:
    """Publication rounds from the number of stored responses per period.

    With ``closed_only`` False (a deliberately weakened setting, for tests) every quarter is
    published as it stands, open or not.
    """
    by_quarter: dict[str, list[str]] = {}
    for period in period_counts:
        by_quarter.setdefault(round_of(period), []).append(period)
    quarters = sorted(by_quarter)
    size = {q: sum(period_counts[p] for p in by_quarter[q]) for q in quarters}
    if not closed_only:
        every = tuple(PublicationRound(q, (q,), size[q]) for q in quarters)
        return RoundPlan(every, {p: q for q in quarters for p in by_quarter[q]})
    closed = [q for q in quarters if is_closed(q, as_of)]
    open_rounds = tuple(q for q in quarters if q not in closed)
    rounds: list[PublicationRound] = []
    pending: list[str] = []
    for quarter in closed:
        pending.append(quarter)
        total = sum(size[q] for q in pending)
        if total >= minimum:
            key = pending[0] if len(pending) == 1 else f"{pending[0]} to {pending[-1]}"
            rounds.append(PublicationRound(key, tuple(pending), total))
            pending = []
    periods = {p: r.key for r in rounds for q in r.quarters for p in by_quarter[q]}
    waiting = sum(size[q] for q in (*pending, *open_rounds))
    return RoundPlan(tuple(rounds), periods, open_rounds, tuple(pending), waiting)
