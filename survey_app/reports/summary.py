"""The scorecard at the top of a report: each indicator against its target, in plain words.

Everything here is read from the published snapshot: the latest value is the estimate of the
newest publication round (or of everyone, when only one round is published), and the change
is worked out from the published met and answered counts of the two newest rounds, both of
them closed and already shown in the cross-tab by round. No true count is involved.

A change is "clear" when its 95% interval (Newcombe) leaves out zero; otherwise the sentence
says there is no clear change, since the difference could be noise of the sample or of the
adjusted counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..messages import N_
from .groups import COMBINED
from .plan import ROUND, VariableKind
from .presentation import Labels
from .snapshot import EstimateDoc, TableDoc, VariableDoc, ViewDoc
from .stats import newcombe_difference


@dataclass(frozen=True)
class Change:
    """Change of an indicator between two published rounds, in percentage points."""

    since: str  # the earlier round, as a label
    points: float
    lower: float
    upper: float

    @property
    def clear(self) -> bool:
        return self.lower > 0 or self.upper < 0


@dataclass(frozen=True)
class Score:
    """One indicator on the scorecard."""

    variable: VariableDoc
    label: str
    value: float | None  # percent, None when not published (too few answered)
    lower: float
    upper: float
    answered: int | None
    period: str | None  # the round the value is from, None for everyone in the view
    target: float | None  # percent
    change: Change | None
    # Two or more rounds are published, but fewer than two with an estimate shown.
    change_withheld: bool = False

    @property
    def gap(self) -> float | None:
        """Points above (positive) or below (negative) the target."""
        if self.value is None or self.target is None:
            return None
        return round(self.value - self.target, 1)

    @property
    def status(self) -> str:
        """ "met", "below", "unknown" (no value) or "none" (no target): a class for the page."""
        if self.value is None:
            return "unknown"
        if self.target is None:
            return "none"
        return "met" if self.value >= self.target else "below"


def _percent(value: float) -> float:
    return round(100 * value, 1)


def _by_round(tables: list[TableDoc]) -> TableDoc | None:
    return next((t for t in tables if t["dimension"] == ROUND), None)


def _published_rounds(by_round: TableDoc) -> list[tuple[str, EstimateDoc]]:
    """The rounds with a published estimate, oldest first (round keys sort in time order)."""
    found = [
        (key, estimate)
        for key, estimate in zip(
            by_round["columns"][1:], by_round.get("estimates", [])[1:], strict=False
        )
        if key != COMBINED and isinstance(estimate, dict)
    ]
    return sorted(found, key=lambda item: item[0])


def _change(labels: Labels, rounds: list[tuple[str, EstimateDoc]]) -> Change | None:
    if len(rounds) < 2:
        return None
    (before_key, before), (_, latest) = rounds[-2], rounds[-1]
    difference, lower, upper = newcombe_difference(
        before["numerator"], before["denominator"], latest["numerator"], latest["denominator"]
    )
    return Change(
        labels.group(ROUND, before_key), _percent(difference), _percent(lower), _percent(upper)
    )


def score(labels: Labels, variable: VariableDoc, view: ViewDoc) -> Score:
    tables = view["tables"][variable["id"]]
    target = None if variable["target"] is None else _percent(variable["target"])
    by_round = _by_round(tables["crosstabs"]) if view["dimension"] is None else None
    rounds = _published_rounds(by_round) if by_round is not None else []
    round_columns = [k for k in by_round["columns"][1:] if k != COMBINED] if by_round else []
    change_withheld = len(round_columns) >= 2 and len(rounds) < 2
    period: str | None = None
    estimate: object = None
    if rounds:
        key, estimate = rounds[-1]
        period = labels.group(ROUND, key)
    else:
        found = tables["frequency"].get("estimates", [])
        estimate = found[0] if found else None
    base = tables["frequency"]["bases"][0] if tables["frequency"]["bases"] else None
    if not isinstance(estimate, dict):
        return Score(
            variable,
            labels.variable(variable),
            None,
            0.0,
            0.0,
            base if isinstance(base, int) else None,
            period,
            target,
            None,
            change_withheld,
        )
    return Score(
        variable,
        labels.variable(variable),
        _percent(estimate["value"]),
        _percent(estimate["lower"]),
        _percent(estimate["upper"]),
        int(estimate["denominator"]),
        period,
        target,
        _change(labels, rounds),
        change_withheld,
    )


def scorecard(labels: Labels, view: ViewDoc) -> list[Score]:
    """Every indicator of the view, in the order of the survey file."""
    return [
        score(labels, variable, view)
        for variable in labels.document["variables"]
        if variable["kind"] == VariableKind.INDICATOR.value and variable["id"] in view["tables"]
    ]


def number(value: float) -> str:
    """A percentage or a number of points, without a trailing ".0"."""
    return f"{value:.1f}".removesuffix(".0")


def sentence(labels: Labels, item: Score) -> str:
    """ "Below target by 48 points. No clear change since 2026-Q3." in the page's language."""
    if item.value is None:
        return labels.say(N_("Too few people answered to show this safely."))
    gap = item.gap
    if gap is None:
        first = labels.say(N_("No target is set."))
    elif gap >= 0:
        first = labels.say(N_("Target met (%(points)s points above it)."), points=number(gap))
    else:
        first = labels.say(N_("Below target by %(points)s points."), points=number(-gap))
    change = item.change
    if change is None and item.change_withheld:
        second = labels.say(N_("Too few answers in each round to show a change."))
    elif change is None:
        second = labels.say(N_("Only one round is published: no change to show yet."))
    elif not change.clear:
        second = labels.say(N_("No clear change since %(round)s."), round=change.since)
    elif change.points > 0:
        second = labels.say(
            N_("Up %(points)s points since %(round)s."),
            points=number(change.points),
            round=change.since,
        )
    else:
        second = labels.say(
            N_("Down %(points)s points since %(round)s."),
            points=number(-change.points),
            round=change.since,
        )
    return f"{first} {second}"


def interval_words(labels: Labels, item: Score) -> str:
    """The 95% interval as a reader would say it."""
    if item.value is None:
        return ""
    return labels.say(
        N_("We are 95%% sure the true share is between %(lower)s%% and %(upper)s%%."),
        lower=number(item.lower),
        upper=number(item.upper),
    )


def change_words(labels: Labels, item: Score) -> str:
    change = item.change
    if change is None:
        return ""
    return labels.say(
        N_("Change since %(round)s: %(points)s points (95%% interval %(lower)s to %(upper)s)."),
        round=change.since,
        points=_signed(change.points),
        lower=_signed(change.lower),
        upper=_signed(change.upper),
    )


def _signed(value: float) -> str:
    return ("+" if value > 0 else "") + number(value)
