"""How far published percentages are from the true ones, before and after the cell key method.

For each example survey at 300 and 3,000 generated responses (three sites, one small one, three
rounds, both channels), the same responses are published twice:

* before: the report code as it was with cell suppression (the commit ``BEFORE``, taken from
  git into a temporary folder and run in a subprocess);
* after: the report code of this checkout (counts adjusted by the cell key method).

and compared with the true percentages (the same tables with nothing protected). Printed per
survey and size: the mean and maximum absolute difference in percentage points over every
percentage published in the tables over everyone (frequencies and indicators), the same over
the cross-tabs' columns, how many counts are suppressed, and how many percentages are not shown
(after: those whose adjusted base is under 3k). Target at 300 responses, tables
over everyone: mean <= 2 and max <= 5 points.

    .venv/bin/python benchmarks/usefulness.py

Exits 1 if the target is missed.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BEFORE = "f41d944"  # main before the cell key method replaced cell suppression
SURVEYS = ("service-feedback", "reintegration-checkin")
SIZES = (300, 3000)
K = 5
TARGET_MEAN, TARGET_MAX = 2.0, 5.0

Response = tuple[dict[str, Any], str, str, str, int]  # answers, site, period, channel, key


def generate(survey_path: Path, count: int, seed: int) -> list[Response]:
    from survey_app.definitions import load_survey_file
    from survey_app.responses import coarse_period
    from survey_app.sample_data import fake_answers

    survey = load_survey_file(survey_path)
    rng = random.Random(seed)
    days = (date(2026, 2, 10), date(2026, 5, 12), date(2026, 8, 18))
    found = []
    for _ in range(count):
        site = rng.choice(["North", "South", "East"]) if rng.random() > 0.03 else "Hamlet"
        day = rng.choice(days) + timedelta(days=rng.randrange(3))
        channel = rng.choice(["self", "assisted"])
        key = rng.getrandbits(32)
        found.append((fake_answers(survey, rng), site, coarse_period(day, "week"), channel, key))
    return found


def build(survey_path: str, responses: list[Response], mode: str) -> dict[str, Any]:
    """The snapshot of ``responses`` by the report code importable here ("before" or not)."""
    from survey_app.definitions import load_survey_file
    from survey_app.reports.build import build_snapshot
    from survey_app.reports.plan import ReportPlan
    from survey_app.reports.tally import TallyCounter

    survey = load_survey_file(Path(survey_path))
    plan = ReportPlan.build(survey)
    counter = TallyCounter(plan)
    for answers, site, period, channel, key in responses:
        if mode == "before":
            counter.add(survey.version, period, answers, site, channel)
        else:
            counter.add(survey.version, period, answers, site, channel, key)
    if mode == "before":
        return build_snapshot(plan, counter.tally(), K)  # type: ignore[arg-type]
    from survey_app.reports.perturbation import Protection

    protection = Protection(K, perturb=mode == "after")
    return dict(build_snapshot(plan, counter.tally(), protection))


def percentages(document: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """(where, count, percent) of every percentage cell of the view "all"."""
    view = next(v for v in document["views"] if v["id"] == "all")
    for variable_id, tables in view["tables"].items():
        for table in [tables["frequency"], *tables["crosstabs"]]:
            for row in table["rows"]:
                for c, column in enumerate(table["columns"]):
                    where = (variable_id, table["dimension"] or "", column, row["key"])
                    yield where, row["counts"][c], row["percents"][c]


def compare(published: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    true = {where: percent for where, _, percent in percentages(truth)}
    overall: list[float] = []
    crosstabs: list[float] = []
    suppressed = cells = hidden = 0
    for where, count, percent in percentages(published):
        cells += 1
        if count == "suppressed":
            suppressed += 1
            continue
        if percent == "suppressed":
            hidden += 1
            continue
        if not isinstance(percent, int | float) or not isinstance(true.get(where), int | float):
            continue
        error = abs(percent - true[where])
        (crosstabs if where[1] else overall).append(error)

    def stats(errors: list[float]) -> tuple[float, float, int]:
        if not errors:
            return 0.0, 0.0, 0
        return sum(errors) / len(errors), max(errors), len(errors)

    return {
        "overall": stats(overall),
        "crosstabs": stats(crosstabs),
        "suppressed": suppressed,
        "cells": cells,
        "hidden": hidden,
    }


def before_snapshots(jobs: list[tuple[str, Path]]) -> list[dict[str, Any]] | None:
    """Snapshots by the code of ``BEFORE``, built in a subprocess from a git checkout of it."""
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", BEFORE, "survey_app"],
            capture_output=True,
            check=False,
        )
        if archive.returncode != 0:
            return None
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        request = Path(folder) / "jobs.json"
        request.write_text(json.dumps([[survey, str(path)] for survey, path in jobs]))
        done = subprocess.run(
            [sys.executable, __file__, "--before", str(request)],
            env={"PYTHONPATH": folder, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        )
        found: list[dict[str, Any]] = json.loads(done.stdout)
        return found


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--before":
        sys.path.remove(str(ROOT))
        jobs = json.loads(Path(sys.argv[2]).read_text())
        results = []
        for survey_path, data_path in jobs:
            responses = [tuple(r) for r in json.loads(Path(data_path).read_text())]
            results.append(build(survey_path, responses, "before"))  # type: ignore[arg-type]
        print(json.dumps(results))
        return 0

    missed = False
    with tempfile.TemporaryDirectory() as folder:
        jobs: list[tuple[str, Path]] = []
        data: list[list[Response]] = []
        for survey_id in SURVEYS:
            for size in SIZES:
                responses = generate(ROOT / "surveys" / f"{survey_id}.toml", size, seed=size)
                path = Path(folder) / f"{survey_id}-{size}.json"
                path.write_text(json.dumps(responses))
                jobs.append((str(ROOT / "surveys" / f"{survey_id}.toml"), path))
                data.append(responses)
        before = before_snapshots(jobs)
        print(f"{'survey':<24}{'n':>6}  {'':<7}{'overall mean/max (pts)':>24}"
              f"{'cross-tabs mean/max (pts)':>27}{'counts suppressed':>21}"
              f"{'% not shown':>13}")  # fmt: skip
        for index, (survey_path, _) in enumerate(jobs):
            responses = data[index]
            truth = build(survey_path, responses, "exact")
            rows = [("after", compare(build(survey_path, responses, "after"), truth))]
            if before is not None:
                rows.insert(0, ("before", compare(before[index], truth)))
            for label, result in rows:
                mean, worst, _ = result["overall"]
                cross_mean, cross_worst, _ = result["crosstabs"]
                name = Path(survey_path).stem
                print(
                    f"{name:<24}{len(responses):>6}  {label:<7}{mean:>15.2f} / {worst:>5.2f}"
                    f"{cross_mean:>18.2f} / {cross_worst:>5.2f}"
                    f"{result['suppressed']:>11} of {result['cells']:>5}{result['hidden']:>13}"
                )
                if label == "after" and len(responses) == 300:
                    missed |= mean > TARGET_MEAN or worst > TARGET_MAX
        if before is None:
            print(f"(before: commit {BEFORE} is not in this checkout's git history)")
    print(
        f"target at 300 responses, tables over everyone: mean <= {TARGET_MEAN}, "
        f"max <= {TARGET_MAX} points: {'MISSED' if missed else 'met'}"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
