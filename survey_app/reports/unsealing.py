"""Opening a survey's sealed responses for a report: in batches, on every CPU core.

The parent process reads the sealed rows in batches and hands them to worker processes through
a bounded queue; each worker opens, decodes and counts its batches and sends back one partial
``Tally``, never the answers. So the parent never holds more than a few batches of blobs, and
memory does not grow with the number of responses.

How the key reaches the workers. Workers are started from a clean *forkserver* process, not
forked from the caller: a fork would copy everything the caller holds (in the web process:
the Flask secret key, database connections that the child must not touch, other staff members'
requests) and can deadlock on locks that other threads held at the moment of the fork. Each
worker gets only what it needs through its pipe: the survey definitions and the programme keys
it must open, re-wrapped for this run under a random one-time secret (``one_time_keys``). The
person's passphrase, which may guard other things too, never leaves the calling process, and
the raw private key never exists outside ``sealing``'s key objects. The one-time wrapping uses a
cheap KDF on purpose: its secret is 256 random bits, not a passphrase to be guessed, and neither
the secret nor the wrapped copy is ever stored.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import resource
import secrets
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..definitions import load_survey_json
from ..intake.responses import MalformedPayload, decode_payload, stored_responses
from ..keys import sealing
from ..messages import N_, DomainError
from .plan import ReportPlan
from .tally import Tally, TallyCounter

Row = tuple[str, str, str, bytes]  # response id, survey version, period, sealed blob
Progress = Callable[[int], None]

BATCH_SIZE = 2000
# Below this many responses, starting processes costs more than it saves.
PARALLEL_FROM = 4000
_ONE_TIME_KDF = sealing.ScryptParams(log2_n=10, r=8, p=1)
_POLL_SECONDS = 0.2
_QUEUED_BATCHES_PER_WORKER = 2


class UnsealingError(DomainError):
    """Opening the responses for a report failed as a whole (not one unreadable response)."""


class WorkerFailed(UnsealingError):
    """A worker process stopped without finishing its share."""


@dataclass(frozen=True)
class PlanSource:
    """The survey definitions a plan is built from, as text a worker can rebuild them from."""

    current: str
    older: tuple[str, ...]

    def plan(self) -> ReportPlan:
        return ReportPlan.build(
            load_survey_json(self.current), [load_survey_json(text) for text in self.older]
        )


@dataclass(frozen=True)
class OneTimeKeys:
    wrapped: tuple[sealing.WrappedKey, ...]
    secret: str

    def unlock(self) -> sealing.UnlockedKeys:
        return sealing.UnlockedKeys.unlock(self.wrapped, self.secret)


def one_time_keys(candidates: Iterable[sealing.WrappedKey], passphrase: str) -> OneTimeKeys:
    """The keys ``passphrase`` opens, re-wrapped under a fresh random secret for one run."""
    secret = secrets.token_urlsafe(32)
    wrapped = []
    for candidate in candidates:
        try:
            wrapped.append(sealing.rewrap(candidate, passphrase, secret, kdf=_ONE_TIME_KDF))
        except sealing.WrongPassphrase:
            continue
    if not wrapped:
        raise sealing.WrongPassphrase(N_("the passphrase does not open any of the keys"))
    return OneTimeKeys(tuple(wrapped), secret)


def count_rows(session: Session, survey_id: str) -> int:
    stored = stored_responses()
    return session.scalar(select(func.count()).where(stored.c.survey_id == survey_id)) or 0


def period_counts(session: Session, survey_id: str) -> dict[str, int]:
    """How many responses are stored for each coarse period (readable or not)."""
    stored = stored_responses()
    query = (
        select(stored.c.period, func.count())
        .where(stored.c.survey_id == survey_id)
        .group_by(stored.c.period)
    )
    return {period: count for period, count in session.execute(query)}


def row_batches(
    session: Session,
    survey_id: str,
    batch_size: int = BATCH_SIZE,
    periods: Collection[str] | None = None,
) -> Iterator[list[Row]]:
    """The survey's rows in batches; only those of ``periods`` when given."""
    stored = stored_responses()
    query = (
        select(stored.c.id, stored.c.survey_version, stored.c.period, stored.c.sealed)
        .where(stored.c.survey_id == survey_id)
        .order_by(stored.c.id)
        .execution_options(yield_per=batch_size)
    )
    if periods is not None:
        query = query.where(stored.c.period.in_(sorted(periods)))
    for partition in session.execute(query).partitions(batch_size):
        yield [(row[0], row[1], row[2], row[3]) for row in partition]


def count_batch(
    counter: TallyCounter, survey_id: str, keys: sealing.UnlockedKeys, rows: Sequence[Row]
) -> None:
    """Open, decode and count one batch; responses that do not open are counted by reason."""
    for response_id, version, period, blob in rows:
        binding = sealing.ResponseBinding(response_id, survey_id, version)
        try:
            answers, meta = decode_payload(keys.open(blob, binding))
        except (sealing.SealingError, MalformedPayload) as error:
            counter.add_unreadable(type(error).__name__)
            continue
        record_key = keys.record_key(blob, response_id)
        counter.add(version, period, answers, meta.site, meta.channel, record_key)


def tally_in_process(
    batches: Iterable[Sequence[Row]],
    survey_id: str,
    plan: ReportPlan,
    keys: sealing.UnlockedKeys,
    progress: Progress | None = None,
) -> Tally:
    counter = TallyCounter(plan)
    for rows in batches:
        count_batch(counter, survey_id, keys, rows)
        if progress is not None:
            progress(len(rows))
    return counter.tally()


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class WorkerPool:
    """Worker processes, started before the key is unlocked so that they load meanwhile.

    Each worker gets its keys through a pipe of its own (``count``), then batches from a
    shared bounded queue. Use it as a context manager: leaving it stops every worker.
    """

    def __init__(self, survey_id: str, plan: PlanSource, workers: int) -> None:
        context = _context()
        self.tasks: Queue[Any] = context.Queue(maxsize=workers * _QUEUED_BATCHES_PER_WORKER)
        self.results: Queue[Any] = context.Queue()
        self.key_pipes: list[Connection] = []
        self.processes: list[BaseProcess] = []
        for _ in range(workers):
            receiving, sending = context.Pipe(duplex=False)
            process = context.Process(
                target=_work,
                args=(survey_id, plan, receiving, self.tasks, self.results),
                daemon=True,
            )
            process.start()
            receiving.close()
            self.key_pipes.append(sending)
            self.processes.append(process)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def count(
        self,
        batches: Iterable[Sequence[Row]],
        keys: OneTimeKeys,
        progress: Progress | None = None,
        peaks: list[int] | None = None,
    ) -> Tally:
        """Count the batches; ``peaks`` receives each worker's peak memory in KiB."""
        for pipe in self.key_pipes:
            pipe.send(keys)
            pipe.close()
        collector = _Collector(self.results, self.processes, progress)
        for rows in batches:
            collector.put(self.tasks, list(rows))
        for _ in self.processes:
            collector.put(self.tasks, None)
        tally = collector.finish()
        if peaks is not None:
            peaks.extend(collector.peaks)
        return tally

    def stop(self) -> None:
        for pipe in self.key_pipes:
            pipe.close()
        for process in self.processes:
            if process.is_alive():
                process.terminate()
            process.join()
        self.tasks.close()
        self.results.close()


def _context() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    assert isinstance(context, ForkServerContext)
    context.set_forkserver_preload([__name__])
    return context


class _Collector:
    """Gathers progress and partial tallies while the parent keeps feeding batches."""

    def __init__(
        self, results: Queue[Any], processes: Sequence[BaseProcess], progress: Progress | None
    ) -> None:
        self.results = results
        self.processes = processes
        self.progress = progress
        self.tally = Tally()
        self.finished = 0
        self.peaks: list[int] = []

    def put(self, tasks: Queue[Any], item: list[Row] | None) -> None:
        while True:
            self.drain(block=False)
            try:
                tasks.put(item, timeout=_POLL_SECONDS)
                return
            except queue.Full:
                self.check_alive()

    def finish(self) -> Tally:
        while self.finished < len(self.processes):
            self.drain(block=True)
        return self.tally

    def drain(self, *, block: bool) -> None:
        while True:
            try:
                message = (
                    self.results.get(timeout=_POLL_SECONDS) if block else self.results.get_nowait()
                )
            except queue.Empty:
                if block:
                    self.check_alive()
                return
            self.handle(message)
            block = False

    def handle(self, message: tuple[str, Any, Any]) -> None:
        kind, first, second = message
        if kind == "progress":
            if self.progress is not None:
                self.progress(first)
        elif kind == "done":
            self.tally.add(first)
            self.peaks.append(second)
            self.finished += 1
        else:
            raise _rebuild_error(first, second)

    def check_alive(self) -> None:
        dead = [p for p in self.processes if not p.is_alive() and p.exitcode not in (0, None)]
        if dead:
            raise WorkerFailed(
                N_(
                    "a report worker stopped unexpectedly (exit code %(code)s); the report was "
                    "not refreshed. Check the server's memory and try again"
                ),
                code=dead[0].exitcode,
            )


def _peak_memory_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _rebuild_error(kind: str, message: str) -> Exception:
    if kind == "WrongPassphrase":
        return sealing.WrongPassphrase(message)
    if kind in ("NoKeys", "MalformedKey", "SealingError"):
        return sealing.SealingError(message)
    return WorkerFailed(f"a report worker failed: {kind}: {message}")


def _work(
    survey_id: str,
    plan: PlanSource,
    key_pipe: Connection,
    tasks: Queue[Any],
    results: Queue[Any],
) -> None:
    """A worker's life: load, unlock, count batches until told to stop, send the tally back."""
    # Counting makes no reference cycles, and a collection pass over the batch in hand
    # would cost more than the whole count: this process lives for one refresh only.
    gc.disable()
    try:
        counter = TallyCounter(plan.plan())
        try:
            one_time: OneTimeKeys = key_pipe.recv()
        except EOFError:
            return  # stopped before any key was sent
        finally:
            key_pipe.close()
        with one_time.unlock() as keys:
            while True:
                rows = tasks.get()
                if rows is None:
                    break
                count_batch(counter, survey_id, keys, rows)
                results.put(("progress", len(rows), None))
        results.put(("done", counter.tally(), _peak_memory_kb()))
    except Exception as error:  # every failure goes back to the parent, which decides
        results.put(("error", type(error).__name__, str(error)))
