"""Differencing two reports over time: 200 trials against the real protection and weakened ones.

A programme runs the service-feedback survey for a year and a half. Each trial: the report is
refreshed, 1 to 4 new people answer (their answers are known to the attacker's scorer, not to
the attacker), time moves on by 0 to 10 days (other people answer too), and the report is
refreshed again. The attacker compares the two reports' frequency tables and, for every
question, guesses the answer of the new people as the answer whose count grew most (or, when
nothing grew, the most common answer). The baseline is the guess anyone makes from the first
report's percentages: the most common answer.

Printed for each setting: over all questions, the mean and the worst accuracy of the attack
above the baseline, in percentage points, over every new person of every trial. The promise
(docs/disclosure-control.md): for the real setting, at most 5 points on every question.

    .venv/bin/python benchmarks/differencing.py [--trials N] [--setting I]

``--setting I`` runs only the I-th setting (0 is the real one).

Exits 1 if the real setting breaks the promise. The same attack runs in the test suite with a
few trials (tests/test_report_attacks.py).
"""

from __future__ import annotations

import random
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from survey_app import migrate  # noqa: E402
from survey_app.db import Database  # noqa: E402
from survey_app.definitions import load_survey_file  # noqa: E402
from survey_app.keys import sealing  # noqa: E402
from survey_app.keys.custody import add_key  # noqa: E402
from survey_app.models import (  # noqa: E402
    Programme,
    ReportSnapshot,
    SurveyAssignment,
)
from survey_app.operations.sample_data import store_generated  # noqa: E402
from survey_app.reports import snapshot  # noqa: E402
from survey_app.reports.perturbation import Protection  # noqa: E402
from survey_app.reports.plan import ReportPlan  # noqa: E402
from survey_app.reports.refresh import refresh  # noqa: E402
from survey_app.reports.snapshot import SnapshotDoc  # noqa: E402
from tests.support.report_attacks import Scores, store_known  # noqa: E402

PASSPHRASE = "benchmark passphrase, long enough"
K = 5
SETTINGS = {
    "real (adjusted counts, closed rounds)": Protection(K),
    "weakened: adjusted counts, every round": Protection(K, closed_rounds_only=False),
    "weakened: exact counts, every round": Protection(K, perturb=False, closed_rounds_only=False),
}
PROMISE = 5.0


def setting_up(path: Path) -> tuple[Database, object]:
    database = Database(f"sqlite:///{path}")
    migrate.upgrade(database)
    survey = load_survey_file(ROOT / "surveys" / "service-feedback.toml")
    with database.session() as session:
        programme = Programme(slug="bench", name="Benchmark", public_title="Feedback")
        session.add(programme)
        session.flush()
        wrapped = sealing.generate_key(PASSPHRASE, kdf=sealing.ScryptParams(log2_n=10, r=8, p=1))
        add_key(session, programme, wrapped, keep_private=True)
        session.add(SurveyAssignment(id=survey.id, programme_id=programme.id))
    return database, survey


def publish(database: Database, survey: object, protection: Protection, day: date) -> SnapshotDoc:
    outcome = refresh(
        database, survey, K, PASSPHRASE, actor="bench", workers=1, as_of=day,  # type: ignore[arg-type]
        protection=protection,
    )  # fmt: skip
    with database.session() as session:
        row = session.get(ReportSnapshot, outcome.snapshot_id)
        assert row is not None
        return snapshot.parse(row.content)


def run(protection: Protection, trials: int, folder: Path, name: str) -> Scores:
    database, survey = setting_up(folder / f"{name}.db")
    rng = random.Random(2026)
    day = date(2025, 4, 1)
    # A programme already running: responses spread over the last quarters.
    store_generated(
        database,
        survey,  # type: ignore[arg-type]
        200,
        days=[date(2024, 7, 1) + timedelta(days=d) for d in range(0, 270, 9)],
    )
    plan = ReportPlan.build(survey)  # type: ignore[arg-type]
    scores = Scores()
    for _ in range(trials):
        before = publish(database, survey, protection, day)
        newcomers = [
            store_known(database, survey, rng, day)  # type: ignore[arg-type]
            for _ in range(rng.randint(1, 4))
        ]
        day += timedelta(days=rng.randint(0, 10))
        after = publish(database, survey, protection, day)
        scores.score(plan, before, after, newcomers)
        for _ in range(rng.randint(0, 3)):  # other people answer before the next trial
            store_known(database, survey, rng, day)  # type: ignore[arg-type]
    database.dispose()
    return scores


def main() -> int:
    trials = int(sys.argv[sys.argv.index("--trials") + 1]) if "--trials" in sys.argv else 200
    broken = False
    with tempfile.TemporaryDirectory() as folder:
        print(f"{trials} trials, 1-4 new people each; accuracy of differencing minus baseline")
        chosen = int(sys.argv[sys.argv.index("--setting") + 1]) if "--setting" in sys.argv else None
        for index, (label, protection) in enumerate(SETTINGS.items()):
            if chosen is not None and index != chosen:
                continue
            scores = run(protection, trials, Path(folder), f"setting{index}")
            question, worst = scores.worst_excess()
            people = max(scores.n.values())
            print(
                f"  {label:<42} mean {scores.mean_excess():+6.1f} points, "
                f"worst {worst:+6.1f} ({question}), {people} new people"
            )
            if protection == Protection(K):
                broken = worst > PROMISE
    print(f"promise for the real setting: at most +{PROMISE} points on every question: "
          f"{'BROKEN' if broken else 'kept'}")  # fmt: skip
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
