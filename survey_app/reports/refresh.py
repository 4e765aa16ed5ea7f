"""Refreshing a survey's published report: unlock, open and count, protect, publish, audit.

The key is unlocked for the run only and closed before the tables are built; what is stored is
the disclosure-controlled snapshot, which viewers read without any key. The refresh is written
to the audit log in the same transaction as the snapshot.

Only responses of closed publication rounds are opened and counted (``rounds``): responses of
the open round wait for it to close, whenever the report is refreshed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import Database
from ..definitions import Survey, load_survey_json
from ..intake.responses import SurveyNotAssigned, wrapped_keys
from ..keys import custody, sealing
from ..messages import N_, DomainError
from ..models import SurveyAssignment, SurveyVersion
from ..staff import audit
from . import snapshot
from .build import build_snapshot
from .perturbation import Protection
from .plan import ReportPlan
from .rounds import RoundPlan, changed_rounds, plan_rounds
from .snapshot import RoundDoc
from .tally import BASE, Tally
from .unsealing import (
    PARALLEL_FROM,
    PlanSource,
    UnsealingError,
    WorkerPool,
    default_workers,
    one_time_keys,
    period_counts,
    row_batches,
    tally_in_process,
)


class RefreshError(DomainError):
    """The report cannot be refreshed; the message says what to do."""


class UnknownSurvey(RefreshError):
    def __init__(self, survey_id: str) -> None:
        super().__init__(
            f"no survey {survey_id!r}: it is neither among the survey files nor stored with "
            "any response; see `survey-app surveys check`"
        )


# Breakdowns shown with every question on the report page (the report plan); the others stay
# on the breakdowns pages. Two keep the page readable and within its weight budget.
MOST_FEATURED_BREAKDOWNS = 2


class BreakdownError(DomainError):
    """Breakdowns asked for that the report cannot show with every question."""

    field = "breakdowns"


class UnknownBreakdown(BreakdownError):
    message_id = N_("“%(name)s” is not a breakdown of this report: choose among %(known)s.")

    def __init__(self, name: str, known: Sequence[str]) -> None:
        super().__init__(name=name, known=", ".join(known))


class TooManyBreakdowns(BreakdownError):
    message_id = N_(
        "Choose at most %(most)d breakdowns to show with every question; the others stay on "
        "the breakdowns pages."
    )

    def __init__(self) -> None:
        super().__init__(most=MOST_FEATURED_BREAKDOWNS)


def breakdown_choices(current: Survey) -> tuple[str, ...]:
    """The breakdowns a report of ``current`` has: site, round, channel and each
    disaggregation question, as dimension ids."""
    return tuple(dimension.id for dimension in ReportPlan.build(current).dimensions)


def featured_breakdowns(current: Survey, chosen: Sequence[str]) -> tuple[str, ...]:
    """``chosen`` checked: known breakdowns of ``current``, each once, at most two."""
    known = breakdown_choices(current)
    kept: list[str] = []
    for name in chosen:
        if name not in known:
            raise UnknownBreakdown(name, known)
        if name not in kept:
            kept.append(name)
    if len(kept) > MOST_FEATURED_BREAKDOWNS:
        raise TooManyBreakdowns()
    return tuple(kept)


class Progress(Protocol):
    def start(self, total: int) -> None: ...

    def advance(self, count: int) -> None: ...


@dataclass(frozen=True)
class RefreshOutcome:
    snapshot_id: int
    responses: int
    unreadable: dict[str, int]
    # (key id, why it was not unlocked, responses sealed to it)
    not_unlocked: list[tuple[str, str, int]]
    versions: list[str]
    threshold: int
    # Peak resident memory of each worker process, in KiB (none when counted in-process).
    worker_memory_kb: tuple[int, ...] = ()
    # Responses stored but not counted: open rounds, and closed ones not yet big enough.
    waiting: int = 0
    open_rounds: tuple[str, ...] = ()


def current_definition(session: Session, survey_id: str, catalogue: Mapping[str, Survey]) -> Survey:
    """The survey file if it is served, else the newest version stored with responses."""
    if survey_id in catalogue:
        return catalogue[survey_id]
    stored = session.scalars(
        select(SurveyVersion)
        .where(SurveyVersion.survey_id == survey_id)
        .order_by(SurveyVersion.ordinal.desc())
        .limit(1)
    ).first()
    if stored is None:
        raise UnknownSurvey(survey_id)
    return load_survey_json(stored.definition)


def plan_source(session: Session, current: Survey) -> PlanSource:
    older = session.scalars(
        select(SurveyVersion.definition)
        .where(SurveyVersion.survey_id == current.id, SurveyVersion.version != current.version)
        .order_by(SurveyVersion.ordinal)
    )
    return PlanSource(current.canonical_json, tuple(older))


def refresh(
    database: Database,
    current: Survey,
    k: int,
    passphrase: str,
    *,
    actor: str,
    key_file_text: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    parallel_from: int = PARALLEL_FROM,
    as_of: date | None = None,
    protection: Protection | None = None,
    breakdowns: Sequence[str] = (),
) -> RefreshOutcome:
    """Open the responses of ``current``'s closed rounds, publish a new snapshot, audit it.

    Responses are counted in ``workers`` processes (default: one per core) when there are at
    least ``parallel_from`` of them, else in this process. ``as_of`` is the day that decides
    which rounds are closed (today); ``protection`` is for tests that weaken it on purpose.
    ``breakdowns`` are shown with every question on the report page (the report plan); every
    table is published and protected together whichever are chosen.
    """
    featured = featured_breakdowns(current, breakdowns)
    workers = default_workers() if workers is None else workers
    protection = Protection(k) if protection is None else protection
    as_of = datetime.now(UTC).date() if as_of is None else as_of
    with database.session() as session:
        assigned = session.get(SurveyAssignment, current.id)
        if assigned is None:
            raise SurveyNotAssigned(current.id)
        source = plan_source(session, current)
        plan = source.plan()
        rounds = publication_rounds(session, current.id, as_of, protection)
        published, withheld = _published_before(session, current.id, protection)
        rounds = rounds.without(withheld)
        total = rounds.counted
        if progress is not None:
            progress.start(total)
        advance = progress.advance if progress is not None else None
        peaks: list[int] = []
        with ExitStack() as stack:
            pool = None
            if workers > 1 and total >= parallel_from:
                pool = stack.enter_context(WorkerPool(current.id, source, workers))
            keys = stack.enter_context(
                custody.unlock_audited(
                    database,
                    session,
                    assigned.programme_id,
                    passphrase,
                    key_file_text,
                    actor=actor,
                    purpose=f"refresh of the report on {current.id}",
                )
            )
            batches = row_batches(session, current.id, periods=set(rounds.periods))
            if pool is not None:
                candidates = _candidates(session, assigned.programme_id, key_file_text, keys)
                one_time = one_time_keys(candidates, passphrase)
                tally = pool.count(batches, one_time, advance, peaks)
            else:
                tally = tally_in_process(batches, current.id, plan, keys, advance)
            changed = changed_rounds(rounds.rounds, _per_quarter(tally), published)
            if changed:
                # A published round changed: count again without it (rare, so in-process).
                rounds = rounds.without(changed)
                batches = row_batches(session, current.id, periods=set(rounds.periods))
                tally = tally_in_process(batches, current.id, plan, keys)
            not_unlocked = []
            if tally.unreadable.get(sealing.UnknownKeyId.__name__):
                not_unlocked = custody.keys_not_unlocked(session, current.id, keys)
        document = build_snapshot(plan, tally, protection, rounds=rounds.by_quarter)
        counted = _per_quarter(tally)
        document["rounds"] = [
            RoundDoc(
                key=r.key,
                quarters=list(r.quarters),
                responses=sum(counted.get(q, 0) for q in r.quarters),
            )
            for r in rounds.rounds
        ]
        document["withheld_quarters"] = list(rounds.withheld)
        document["featured_breakdowns"] = list(featured)
        if rounds.waiting:
            document["notes"].append(_waiting_note(rounds))
        if rounds.withheld:
            document["notes"].append(
                f"Quarter {', '.join(rounds.withheld)} is no longer published: responses were "
                "removed from it, added to it or could not be opened after it was published, "
                "and comparing the reports would show what they said."
            )
        row = snapshot.save(session, document)
        audit.record(
            session,
            actor,
            "report.refresh",
            assigned.programme_id,
            _describe(current.id, row.id, tally, k, featured),
        )
        return RefreshOutcome(
            snapshot_id=row.id,
            responses=tally.responses,
            unreadable=dict(tally.unreadable),
            not_unlocked=not_unlocked,
            versions=sorted(tally.versions),
            threshold=k,
            worker_memory_kb=tuple(peaks),
            waiting=rounds.waiting,
            open_rounds=rounds.open_rounds,
        )


def publication_rounds(
    session: Session, survey_id: str, as_of: date, protection: Protection
) -> RoundPlan:
    """The rounds a refresh on ``as_of`` publishes (see ``rounds``)."""
    return plan_rounds(
        period_counts(session, survey_id),
        as_of,
        protection.smallest_group,
        closed_only=protection.closed_rounds_only,
    )


def _published_before(
    session: Session, survey_id: str, protection: Protection
) -> tuple[list[tuple[tuple[str, ...], int]], set[str]]:
    """Rounds of the newest snapshot with their responses, and the quarters withheld for good."""
    if not protection.closed_rounds_only:
        return [], set()
    try:
        previous = snapshot.latest(session, survey_id)
    except snapshot.SnapshotFormatError:
        return [], set()  # made before rounds were recorded
    if previous is None:
        return [], set()
    published = [(tuple(r["quarters"]), r["responses"]) for r in previous.get("rounds", [])]
    return published, set(previous.get("withheld_quarters", []))


def _per_quarter(tally: Tally) -> dict[str, int]:
    """Responses counted per quarter (the round of a membership is its quarter)."""
    found: dict[str, int] = {}
    for membership, size in tally.sizes.items():
        if membership[0] == BASE:
            found[membership[2]] = found.get(membership[2], 0) + size
    return found


def _waiting_note(rounds: RoundPlan) -> str:
    parts = []
    if rounds.open_rounds:
        parts.append(f"round {', '.join(rounds.open_rounds)} is open")
    if rounds.held_back:
        parts.append(
            f"closed round {', '.join(rounds.held_back)} is waiting to be published with the "
            "next one, as it is too small on its own"
        )
    return (
        "Only closed rounds are published: "
        + "; ".join(parts)
        + ". Their responses are counted once the round closes."
    )


def _candidates(
    session: Session, programme_id: int, key_file_text: str | None, keys: sealing.UnlockedKeys
) -> list[sealing.WrappedKey]:
    """The wrapped keys that were unlocked (the key file's already checked by custody)."""
    found = wrapped_keys(session, programme_id)
    if key_file_text is not None:
        found.append(sealing.read_key_file(key_file_text))
    return [key for key in found if key.key_id in keys.key_ids]


def _describe(
    survey_id: str, snapshot_id: int, tally: Tally, k: int, featured: Sequence[str]
) -> str:
    unreadable = sum(tally.unreadable.values())
    shown = f"; shown with every question: {', '.join(featured)}" if featured else ""
    return (
        f"report on {survey_id} refreshed as snapshot {snapshot_id}: {tally.responses} responses "
        f"opened, {unreadable} not; threshold {k}{shown}"
    )


def refresh_errors() -> tuple[type[DomainError], ...]:
    """The exceptions a refresh raises for reasons a person can act on."""
    return (
        RefreshError,
        BreakdownError,
        SurveyNotAssigned,
        UnsealingError,
        custody.CustodyError,
        sealing.SealingError,
    )
