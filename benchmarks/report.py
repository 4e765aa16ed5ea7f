"""Refreshing a report against merely opening the responses, and memory at 10,000 vs 100,000.

Generates synthetic sealed responses to a 30-question survey (written below: ratings, single and
multiple choice, yes/no, numbers, a date, free text, four disaggregation questions, four
indicators) in SQLite databases in a temporary folder, then measures, each in a fresh process:

* open-and-decode: every response opened and its payload decoded, nothing counted, on one core
  (``responses.open_responses``, as the plain counts command does) and spread over the same
  worker processes a refresh uses;
* refresh: the whole report (unlock, open, decode, count, disclosure control, snapshot stored);
* peak resident memory of the refreshing process and of its largest worker, at 10,000 and at
  100,000 responses.

Targets on the 2-core reference machine: refresh within 1.5x of open-and-decode on the same
cores and under 5 s at 100,000 responses; peak memory at 100,000 no more than 50 MB above 10,000.

    .venv/bin/python benchmarks/report.py [--small]
    .venv/bin/python benchmarks/report.py --pages

``--small`` runs 2,000 vs 20,000 responses, for a quick look. ``--pages`` weighs the report
pages instead: each example survey with 300 generated responses, refreshed through the real
refresh, its summary, printable and breakdown pages fetched as a viewer (HTML only; the style
sheets are shared and cached); target: the summary (the default report page) at most 150 KB.
Exits 1 if a target is missed.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import re
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from survey_app import migrate
from survey_app.db import Database
from survey_app.definitions import QuestionType, Survey, load_survey_text
from survey_app.intake.responses import (
    ResponseMeta,
    coarse_period,
    decode_payload,
    encode_payload,
    open_responses,
    register_version,
)
from survey_app.keys import sealing
from survey_app.keys.custody import add_key
from survey_app.models import Programme, Response, SurveyAssignment
from survey_app.reports.refresh import refresh
from survey_app.reports.unsealing import default_workers, row_batches

PASSPHRASE = "benchmark passphrase, long enough"
SURVEY_ID = "bench"
SITES = ["north", "south", "east", "west", "centre", "harbour", "hills"]
TARGET_RATIO = 1.5
TARGET_SECONDS = 5.0
TARGET_EXTRA_MB = 50.0
TARGET_PAGE_KB = 150.0

AGREEMENT = """[choices.agreement]
options = [
  { value = "1", label = "Strongly disagree" }, { value = "2", label = "Disagree" },
  { value = "3", label = "Neither" }, { value = "4", label = "Agree" },
  { value = "5", label = "Strongly agree" },
]
[choices.frequency]
options = [
  { value = "always", label = "Always" }, { value = "mostly", label = "Mostly" },
  { value = "sometimes", label = "Sometimes" }, { value = "never", label = "Never" },
]
[choices.services]
options = [
  { value = "legal", label = "Legal" }, { value = "medical", label = "Medical" },
  { value = "counselling", label = "Counselling" }, { value = "shelter", label = "Shelter" },
  { value = "work", label = "Work" }, { value = "cash", label = "Cash" },
]
[choices.age_band]
options = [
  { value = "under_18", label = "Under 18" }, { value = "18_24", label = "18-24" },
  { value = "25_34", label = "25-34" }, { value = "35_44", label = "35-44" },
  { value = "45_plus", label = "45+" },
]
[choices.gender]
options = [
  { value = "woman", label = "Woman" }, { value = "man", label = "Man" },
  { value = "other", label = "Another way" },
]
[choices.time_in_support]
options = [
  { value = "lt_3m", label = "Under 3 months" }, { value = "3_12m", label = "3-12 months" },
  { value = "gt_12m", label = "Over a year" },
]
"""


def survey_definition() -> str:
    """A 30-question survey: the kinds of question a feedback survey asks, in proportion."""
    questions = [("consent", 'type = "consent"')]
    questions += [
        (f"rating_{i}", 'type = "rating"\nchoices = "agreement"\nprefer_not_to_say = true')
        for i in range(1, 11)
    ]
    questions += [(f"often_{i}", 'type = "single"\nchoices = "frequency"') for i in range(1, 7)]
    questions += [(f"yes_{i}", 'type = "yesno"') for i in range(1, 5)]
    questions += [
        ("services", 'type = "multiple"\nchoices = "services"\ndisaggregate = true'),
        ("needs", 'type = "multiple"\nchoices = "services"'),
        (
            "age_band",
            'type = "single"\nchoices = "age_band"\ndisaggregate = true\nprefer_not_to_say = true',
        ),
        (
            "gender",
            'type = "single"\nchoices = "gender"\ndisaggregate = true\nprefer_not_to_say = true',
        ),
        ("time_in_support", 'type = "single"\nchoices = "time_in_support"\ndisaggregate = true'),
        ("visits", 'type = "integer"\nmin = 0\nmax = 60'),
        ("age", 'type = "integer"\nmin = 10\nmax = 90\nprefer_not_to_say = true'),
        ("arrived", 'type = "date"\nprecision = "month"'),
        ("helpful", 'type = "longtext"'),
        ("change", 'type = "longtext"'),
    ]
    assert len(questions) == 31  # 30 questions after the consent
    pages = [
        '[[pages]]\nid = "start"\n\n[[pages.questions]]\nid = "consent"\ntype = "consent"\n'
        'label = "Do you agree?"\n',
        '[[pages]]\nid = "main"\n',
    ]
    for question_id, body in questions[1:]:
        pages.append(
            f'[[pages.questions]]\nid = "{question_id}"\n{body}\nlabel = "{question_id}"\n'
        )
    indicators = [
        ("agree_1", "${rating_1} >= 4", "${rating_1} != ''"),
        ("agree_2", "${rating_2} >= 4", "${rating_2} != ''"),
        ("often", "${often_1} = 'always' or ${often_1} = 'mostly'", "${often_1} != ''"),
        ("legal", "${yes_1} = 'yes'", "selected(${services}, 'legal') and ${yes_1} != ''"),
    ]
    blocks = [
        f'[[indicators]]\nid = "{i}"\nlabel = "{i}"\nnumerator = "{n}"\ndenominator = "{d}"\n'
        "target = 0.8\n"
        for i, n, d in indicators
    ]
    head = (
        'format = 1\n\n[survey]\nid = "bench"\ntitle = "Benchmark"\ndefault_language = "en"\n'
        'languages = ["en"]\n\n'
    )
    return head + AGREEMENT + "\n" + "\n".join(pages) + "\n" + "\n".join(blocks)


def fake_answers(survey: Survey, rng: random.Random) -> dict[str, object]:
    answers: dict[str, object] = {}
    for question in survey.questions():
        kind = question.type
        if kind is QuestionType.CONSENT:
            answers[question.id] = "yes"
            continue
        draw = rng.random()
        if draw < 0.07:
            continue
        if draw < 0.1 and question.prefer_not_to_say:
            answers[question.id] = "_pnts"
            continue
        values = question.choice_values()
        if kind is QuestionType.RATING:
            answers[question.id] = int(rng.choice(values))
        elif kind in (QuestionType.SINGLE, QuestionType.YESNO):
            answers[question.id] = rng.choice(values)
        elif kind is QuestionType.MULTIPLE:
            chosen = set(rng.sample(values, rng.randint(1, 3)))
            answers[question.id] = [v for v in values if v in chosen]
        elif kind is QuestionType.INTEGER:
            answers[question.id] = (
                rng.randint(18, 70) if question.id == "age" else rng.randint(0, 30)
            )
        elif kind is QuestionType.DATE:
            answers[question.id] = f"{rng.randint(2020, 2026)}-{rng.randint(1, 12):02d}"
        elif kind in (QuestionType.TEXT, QuestionType.LONGTEXT):
            answers[question.id] = "The support was good but the waiting times were long."
    return answers


def generate(path: Path, count: int) -> None:
    """A SQLite database with one programme, its key and ``count`` sealed responses."""
    database = Database(f"sqlite:///{path}")
    migrate.upgrade(database)
    survey = load_survey_text(survey_definition(), "bench.toml")
    rng = random.Random(count)
    start = date(2025, 1, 6)
    with database.session() as session:
        programme = Programme(slug="bench", name="Benchmark", public_title="Feedback")
        session.add(programme)
        session.flush()
        wrapped = sealing.generate_key(PASSPHRASE)
        add_key(session, programme, wrapped, keep_private=True)
        session.add(SurveyAssignment(id=SURVEY_ID, programme_id=programme.id))
        session.flush()
        register_version(session, SURVEY_ID, survey.version, survey.canonical_json)
    public = wrapped.public
    rows = []
    for _ in range(count):
        day = start + timedelta(days=rng.randrange(540))
        meta = ResponseMeta(
            site=rng.choice(SITES),
            channel=rng.choice(["self", "assisted"]),
            language="en",
            day=day,
        )
        response_id = secrets.token_hex(16)
        binding = sealing.ResponseBinding(response_id, SURVEY_ID, survey.version)
        blob = sealing.seal(public, binding, encode_payload(fake_answers(survey, rng), meta))
        rows.append(
            {
                "id": response_id,
                "survey_id": SURVEY_ID,
                "survey_version": survey.version,
                "period": coarse_period(day, "week"),
                "key_id": wrapped.key_id,
                "sealed": blob,
            }
        )
        if len(rows) == 5000:
            with database.session() as session:
                session.execute(insert(Response), rows)
            rows = []
    if rows:
        with database.session() as session:
            session.execute(insert(Response), rows)
    database.dispose()


# --- measurements, each run in a fresh process ---------------------------------------------


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure_open_serial(path: Path) -> dict[str, float]:
    database = Database(f"sqlite:///{path}")
    with database.session() as session:
        from survey_app.intake.responses import wrapped_keys

        started = time.perf_counter()
        with sealing.UnlockedKeys.unlock(wrapped_keys(session, 1), PASSPHRASE) as keys:
            opened = sum(1 for _ in open_responses(session, SURVEY_ID, keys))
        elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "opened": opened}


_worker_keys: sealing.UnlockedKeys | None = None


def _open_batch(rows: list[tuple[str, str, str, bytes]]) -> int:
    assert _worker_keys is not None
    for response_id, version, _period, blob in rows:
        binding = sealing.ResponseBinding(response_id, SURVEY_ID, version)
        decode_payload(_worker_keys.open(blob, binding))
    return len(rows)


def _start_worker(wrapped: list[sealing.WrappedKey]) -> None:
    global _worker_keys
    _worker_keys = sealing.UnlockedKeys.unlock(wrapped, PASSPHRASE)


def measure_open_parallel(path: Path) -> dict[str, float]:
    """Open and decode only, in as many processes as a refresh uses, fed the same batches."""
    from survey_app.intake.responses import wrapped_keys

    database = Database(f"sqlite:///{path}")
    context = multiprocessing.get_context("forkserver")
    with database.session() as session:
        wrapped = wrapped_keys(session, 1)
        started = time.perf_counter()
        with context.Pool(default_workers(), _start_worker, (wrapped,)) as pool:
            opened = sum(pool.imap_unordered(_open_batch, row_batches(session, SURVEY_ID)))
        elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "opened": opened}


def measure_refresh(path: Path) -> dict[str, float]:
    database = Database(f"sqlite:///{path}")
    survey = load_survey_text(survey_definition(), "bench.toml")
    started = time.perf_counter()
    outcome = refresh(database, survey, 5, PASSPHRASE, actor="benchmark", parallel_from=0)
    elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "opened": outcome.responses,
        "parent_mb": _peak_kb() / 1024,
        "worker_mb": max(outcome.worker_memory_kb, default=0) / 1024,
        "workers": len(outcome.worker_memory_kb),
    }


MEASURES = {
    "open-serial": measure_open_serial,
    "open-parallel": measure_open_parallel,
    "refresh": measure_refresh,
}


def run_measure(name: str, path: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--measure", name, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def page_weights() -> int:
    """Weight of every report page of the example surveys, 300 responses each."""
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from survey_app import create_app
    from survey_app import migrate as migrating
    from survey_app.models import Role
    from survey_app.operations.sample_data import store_generated
    from survey_app.state import app_state
    from tests.support.apps import PASSPHRASE as DEMO_PASSPHRASE
    from tests.support.apps import deploy, make_settings
    from tests.support.staff import make_account, open_session

    missed = []
    with tempfile.TemporaryDirectory() as folder:
        settings = make_settings(
            Path(folder), f"sqlite:///{folder}/pages.db", surveys_dir=str(root / "surveys")
        )
        app = create_app(settings)
        state = app_state(app)
        migrating.upgrade(state.database)
        deployment = deploy(app)
        viewer = make_account(
            app, "viewer", role=Role.VIEWER, programme_id=deployment.programme_id, totp=True
        )
        client = app.test_client()
        open_session(app, client, viewer.id)
        print("report pages, 300 responses per survey (HTML, KB)")
        for survey_id in ("service-feedback", "reintegration-checkin"):
            store_generated(state.database, state.surveys[survey_id], 300)
            refresh(state.database, state.surveys[survey_id], 5, DEMO_PASSPHRASE, actor="bench")
            base = f"/reports/{survey_id}"
            listing = client.get(f"{base}/breakdowns").get_data(as_text=True)
            by = sorted(set(re.findall(r"breakdowns\?by=([^\"&]+)", listing)), key=listing.index)
            pages = [base, f"{base}/print", *(f"{base}/breakdowns?by={d}" for d in by)]
            for page in pages:
                size = len(client.get(page).get_data()) / 1024
                flag = ""
                if page == base and size > TARGET_PAGE_KB:
                    flag = f"  MISSED: over {TARGET_PAGE_KB:.0f} KB"
                    missed.append(page)
                print(f"  {page:<58} {size:6.1f}{flag}")
        state.database.dispose()
    return 1 if missed else 0


def main() -> int:
    if "--pages" in sys.argv:
        return page_weights()
    if len(sys.argv) == 4 and sys.argv[1] == "--measure":
        print(json.dumps(MEASURES[sys.argv[2]](Path(sys.argv[3]))))
        return 0
    small, large = (2_000, 20_000) if "--small" in sys.argv else (10_000, 100_000)
    with tempfile.TemporaryDirectory() as folder:
        paths = {n: Path(folder) / f"responses-{n}.db" for n in (small, large)}
        started = time.perf_counter()
        for n, path in paths.items():
            generate(path, n)
        print(
            f"generated {small:,} and {large:,} sealed responses "
            f"in {time.perf_counter() - started:.1f} s; {default_workers()} cores"
        )
        serial = run_measure("open-serial", paths[large])
        parallel = run_measure("open-parallel", paths[large])
        refreshed = {n: run_measure("refresh", path) for n, path in paths.items()}
    big = refreshed[large]
    ratio = big["seconds"] / parallel["seconds"]
    extra = (big["parent_mb"] + big["worker_mb"]) - (
        refreshed[small]["parent_mb"] + refreshed[small]["worker_mb"]
    )
    print(f"\n{large:,} responses, at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"  open and decode, 1 core             {serial['seconds']:6.2f} s")
    print(f"  open and decode, {big['workers']:.0f} workers          {parallel['seconds']:6.2f} s")
    print(
        f"  refresh (open, count, protect, store) {big['seconds']:4.2f} s"
        f"   = {ratio:.2f}x open-and-decode on the same cores (target <= {TARGET_RATIO}),"
        f" {big['seconds'] / serial['seconds']:.2f}x on one core"
    )
    print("\npeak resident memory      parent     largest worker   together")
    for n in (small, large):
        r = refreshed[n]
        print(
            f"  {n:>7,} responses   {r['parent_mb']:7.1f} MB   {r['worker_mb']:9.1f} MB"
            f"   {r['parent_mb'] + r['worker_mb']:8.1f} MB"
        )
    print(f"  growth {small:,} -> {large:,}: {extra:+.1f} MB (target <= +{TARGET_EXTRA_MB:.0f} MB)")
    missed = []
    if ratio > TARGET_RATIO:
        missed.append(f"refresh is {ratio:.2f}x open-and-decode")
    if big["seconds"] > TARGET_SECONDS and "--small" not in sys.argv:
        missed.append(f"refresh takes {big['seconds']:.2f} s")
    if extra > TARGET_EXTRA_MB:
        missed.append(f"memory grows by {extra:.1f} MB")
    for problem in missed:
        print(f"MISSED: {problem}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
