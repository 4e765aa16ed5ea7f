"""What a test's fresh app and database cost: migrating each one, or copying a migrated template.

    .venv/bin/python benchmarks/database_setup.py [ROUNDS]   (default 15)

Each round makes and disposes of, side by side, one app on an empty database migrated to head
(what every test did before) and one on a copy of a database migrated once (`tests/support/databases.py`: a
copied SQLite file, or a migrated PostgreSQL schema emptied after the test before it), on
SQLite and, when its server answers, on PostgreSQL. Prints the median wall time and the median
CPU time of this process (which a busy machine disturbs less) of each, and the ratios.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from survey_app import create_app, migrate  # noqa: E402
from survey_app.state import app_state  # noqa: E402
from tests.support.apps import make_settings  # noqa: E402
from tests.support.databases import (  # noqa: E402
    DatabaseTemplates,
    fresh_database_url,
    postgres_skip_reason,
)


def one_app(urls: Iterator[str], folder: Path, *, migrating: bool) -> None:
    url = next(urls)
    app = create_app(make_settings(folder, url))
    if migrating:
        migrate.upgrade(app_state(app).database)
    app_state(app).database.dispose()
    for _ in urls:  # the database is removed after the last URL
        pass


def timed(action: Callable[[], None]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def main(rounds: int) -> None:
    kinds = ["sqlite"] + ([] if postgres_skip_reason() else ["postgresql"])
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        templates = DatabaseTemplates(base / "templates")
        templates.folder.mkdir()
        for kind in kinds:
            samples: dict[str, list[tuple[float, float]]] = {"migrate": [], "template": []}
            for number in range(rounds + 1):
                for way in samples:
                    folder = base / f"{kind}-{way}-{number}"
                    folder.mkdir()
                    made = fresh_database_url(
                        kind, folder, templates if way == "template" else None
                    )
                    migrating = way == "migrate"
                    took = timed(partial(one_app, made, folder, migrating=migrating))
                    if number:  # the first round builds the template and warms the imports
                        samples[way].append(took)
            walls = {way: statistics.median(s[0] for s in found) for way, found in samples.items()}
            cpus = {way: statistics.median(s[1] for s in found) for way, found in samples.items()}
            print(f"{kind} ({rounds} rounds, medians):")
            for way in samples:
                print(
                    f"  {way:9} wall {walls[way] * 1000:7.1f} ms   cpu {cpus[way] * 1000:7.1f} ms"
                )
            print(
                f"  template is {walls['migrate'] / walls['template']:.1f}x faster in wall time, "
                f"{cpus['migrate'] / cpus['template']:.1f}x in CPU time"
            )
        templates.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
