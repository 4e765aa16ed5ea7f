"""The full fuzz run: malformed requests over every route, as every visitor, on both databases.

    .venv/bin/python benchmarks/fuzz.py [REQUESTS_PER_DATABASE]   (default 3000)

Prints, per database, how many requests were sent, the status codes that came back, how many
routes were reached, and every 5xx (there should be none). The test suite runs a few hundred
of the same requests per database (tests/test_fuzz.py); this is the long run. PostgreSQL is the
server named by SURVEY_TEST_POSTGRES_URL (see tests/conftest.py).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from argon2 import PasswordHasher

from survey_app import create_app, migrate
from survey_app.staff import accounts
from survey_app.state import app_state
from tests.support.apps import deploy, make_settings
from tests.support.databases import fresh_database_url
from tests.support.fuzzing import Fuzzer
from tests.test_fuzz import known_values, visitors


def run(kind: str, requests: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        urls = fresh_database_url(kind, Path(folder))
        url = next(urls)
        try:
            app = create_app(make_settings(Path(folder), url))
            migrate.upgrade(app_state(app).database)
            deployment = deploy(app)
            fuzzer = Fuzzer(app, visitors(app, deployment), known_values(app, deployment))
            started = time.perf_counter()
            result = fuzzer.run(requests)
            seconds = time.perf_counter() - started
            app_state(app).database.dispose()
        finally:
            urls.close()
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(result.statuses.items()))
    print(f"{kind}: {result.sent} requests in {seconds:.1f} s over {len(result.routes)} routes")
    print(f"  statuses  {statuses}")
    print(f"  5xx       {len(result.server_errors)}")
    for line in result.server_errors[:20]:
        print(f"    {line}")
    return len(result.server_errors)


def main() -> int:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    # Real Argon2 parameters cost ~0.2 s a check; this run is about input, not hashing.
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    failures = sum(run(kind, requests) for kind in ("sqlite", "postgresql"))
    print(f"total: {2 * requests} requests, {failures} server errors")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
