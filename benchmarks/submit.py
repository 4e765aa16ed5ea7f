"""Whole submissions per second: survey-app against a bare Flask + SQLAlchemy app.

Both apps are served by the same server (gunicorn, gthread, the same workers and threads), on
the same database, on this machine, and driven by the same 16 concurrent clients, in interleaved
rounds of one run. The bare app does the least a web form can: a GET that renders a form and a
POST that inserts one row, then a redirect. survey-app does a whole submission of a two-page
survey: the landing page, the start (its reply is page 1), page 1 sent (page 2 comes back) and
page 2 sent (sealed and stored; the thank-you page comes back): four requests.

Printed: requests/s of survey-app as a ratio of the bare app's (target >= 0.6), completed
submissions/s, p50/p99 latency, SQL statements and transactions per submission and the largest
number of times one statement repeats within a request (measured in-process on the same database
kind; on PostgreSQL statements commit as they run, and only writes that must go together are
sent in a transaction), and on PostgreSQL the ratio of two worker processes to one.

Rate limits are raised for the run: all clients share 127.0.0.1. The comparison with the bare app
keeps counters in memory (one worker); the two-workers-to-one comparison uses Redis for both
(SURVEY_BENCH_REDIS_URL, default 127.0.0.1:6379, under a key prefix of the run's own).

Run: .venv/bin/python benchmarks/submit.py [--db sqlite|postgresql|both] [--seconds 4] [--rounds 2]
PostgreSQL: SURVEY_BENCH_POSTGRES_URL (default postgres on 127.0.0.1:5432, database test); the
run uses a schema of its own and drops it afterwards.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, String, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

ROOT = Path(__file__).resolve().parent.parent
SURVEYS = ROOT / "tests" / "fixtures" / "served"
POSTGRES_URL = os.environ.get(
    "SURVEY_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("SURVEY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
CLIENTS = 16
THREADS = 4
TARGET_RATIO = 0.6
DRAFT = re.compile(r'name="draft" value="([^"]+)"')
PAGE = re.compile(r'name="page" value="(\d+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PAGES = {1: {"consent": "yes"}, 2: {"felt_safe": "yes", "comment": "The staff were kind."}}


# --- the bare app ----------------------------------------------------------------------------

BARE_FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Feedback</title>
</head><body><main><h1>Feedback</h1><form method="post"><label for="a">Did you feel safe?</label>
<input id="a" name="answer"><button>Send</button></form></main></body></html>"""


def bare_app(database_url: str) -> Any:
    """The baseline: Flask + SQLAlchemy, one INSERT per POST, nothing else."""
    from flask import Flask, redirect, request

    class Base(DeclarativeBase):
        pass

    class Entry(Base):
        __tablename__ = "bare_entries"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        answer: Mapped[str] = mapped_column(String(200))

    engine = create_engine(database_url)
    Base.metadata.create_all(engine)
    app = Flask("bare")

    @app.get("/form")
    def form() -> str:
        return BARE_FORM

    @app.post("/form")
    def submit() -> Any:
        with Session(engine) as session, session.begin():
            session.add(Entry(answer=request.form.get("answer", "")[:200]))
        return redirect("/form", 303)

    return app


# --- serving (in a child process) ---------------------------------------------------------------


def serve_child(
    kind: str, database_url: str, instance: str, port: int, workers: int, store: str
) -> None:
    from survey_app.config import load_settings
    from survey_app.operations.server import prepare, serve_with_gunicorn
    from survey_app.state import app_state

    settings = load_settings(
        environ={},
        overrides={
            "environment": "testing",
            "instance_path": instance,
            "surveys_dir": str(SURVEYS),
            "log_level": "WARNING",
            "database": {"url": database_url},
            "server": {"port": port, "workers": workers, "threads": THREADS},
            "respondent": {
                "submissions_per_minute": 10_000_000,
                "submissions_per_client_per_minute": 9_999_999,
            },
            "rate_limits": {
                "storage_url": store,
                "key_prefix": f"survey-app-bench-{secrets.token_hex(4)}",
            },
        },
    )
    if kind == "survey-app":
        app = prepare(settings)
        app_state(app).database.dispose()
    else:
        app = bare_app(database_url)
    serve_with_gunicorn(app, settings)


@contextmanager
def server(
    kind: str, database_url: str, instance: Path, workers: int, store: str = ""
) -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            kind,
            database_url,
            str(instance),
            str(port),
            str(workers),
            store,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{kind} did not start on port {port}") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# --- clients -------------------------------------------------------------------------------------


class Client:
    """One browser: a kept-alive connection and its cookies."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.latencies: list[float] = []

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        jar = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        headers = {"Cookie": jar} if jar else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        began = time.perf_counter()
        self.connection.request(method, path, body=body, headers=headers)
        reply = self.connection.getresponse()
        content = reply.read().decode()
        self.latencies.append(time.perf_counter() - began)
        for header, value in reply.getheaders():
            if header.lower() == "set-cookie":
                cookie, _, cookie_value = value.split(";", 1)[0].partition("=")
                self.cookies[cookie] = cookie_value
        return reply.status, content, reply.getheader("Location") or ""


def one_submission(client: Client, token: str) -> int:
    """Landing, start, each page (every page a form sent to the survey's one address, the last
    reply the thanks); returns the number of requests."""
    status, body, _ = client.request("GET", f"/s/{token}")
    assert status == 200, status
    status, body, _ = client.request(
        "POST", f"/s/{token}", {"lang": "en", "csrf_token": csrf(body)}
    )
    assert status == 200, status
    requests = 2
    while (page := PAGE.search(body)) is not None:
        number = int(page.group(1))
        status, body, _ = client.request(
            "POST", f"/s/{token}", {**PAGES[number], **hidden_fields(body), "action": "next"}
        )
        assert status == 200, (number, status)
        requests += 1
    return requests


def hidden_fields(body: str) -> dict[str, str]:
    draft, page = DRAFT.search(body), PAGE.search(body)
    assert draft is not None and page is not None
    return {"csrf_token": csrf(body), "draft": draft.group(1), "page": page.group(1)}


def one_bare_submission(client: Client, _token: str) -> int:
    status, _, _ = client.request("GET", "/form")
    assert status == 200
    status, _, _ = client.request("POST", "/form", {"answer": "yes"})
    assert status == 303
    return 2


def csrf(body: str) -> str:
    match = CSRF.search(body)
    assert match, "no CSRF token"
    return match.group(1)


@dataclass
class Round:
    requests: int = 0
    submissions: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)


def drive(port: int, kind: str, token: str, seconds: float) -> Round:
    submit = one_submission if kind == "survey-app" else one_bare_submission
    clients = [Client(port) for _ in range(CLIENTS)]
    counts = [[0, 0] for _ in clients]
    stop = time.perf_counter() + seconds

    def work(index: int) -> None:
        while time.perf_counter() < stop:
            counts[index][0] += submit(clients[index], token)
            counts[index][1] += 1

    began = time.perf_counter()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = Round(seconds=time.perf_counter() - began)
    for client, (requests, submissions) in zip(clients, counts, strict=True):
        result.requests += requests
        result.submissions += submissions
        result.latencies += client.latencies
        client.connection.close()
    return result


def summary(rounds: list[Round]) -> tuple[float, float, float, float]:
    seconds = sum(r.seconds for r in rounds)
    latencies = sorted(x for r in rounds for x in r.latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return (
        sum(r.requests for r in rounds) / seconds,
        sum(r.submissions for r in rounds) / seconds,
        statistics.median(latencies) * 1000,
        p99 * 1000,
    )


# --- set-up and SQL counting (in this process) -------------------------------------------------


def set_up(database_url: str, instance: Path) -> str:
    """Schema, a programme with a key, the survey assigned, one link; returns the link's token."""
    from survey_app import migrate
    from survey_app.commands.keys import add_key
    from survey_app.db import Database
    from survey_app.intake.distribution import create_link
    from survey_app.keys import sealing
    from survey_app.models import Programme, SurveyAssignment

    database = Database(database_url)
    migrate.upgrade(database)
    with database.session() as session:
        programme = Programme(
            slug="bench",
            name="Bench",
            public_title="Feedback",
            retention_days=365,
            help_contacts={"en": [{"name": "Helpline", "phone": "+1 555 0100"}]},
        )
        session.add(programme)
        session.flush()
        add_key(
            session,
            programme,
            sealing.generate_key("bench passphrase", kdf=sealing.ScryptParams(log2_n=10, r=8, p=1)),
            keep_private=True,
        )
        session.add(SurveyAssignment(id="minimal", programme_id=programme.id))
        session.flush()
        token = create_link(session, programme, "minimal", "North").token
    database.dispose()
    return token


def count_sql(database_url: str, instance: Path, token: str) -> tuple[int, int, int, int]:
    """Statements, transactions, requests and the most repeats of one statement in one request,
    for one whole submission, through the app in this process."""
    from survey_app import create_app
    from survey_app.config import load_settings
    from survey_app.state import app_state

    settings = load_settings(
        environ={},
        overrides={
            "environment": "testing",
            "instance_path": str(instance),
            "surveys_dir": str(SURVEYS),
            "database": {"url": database_url},
        },
    )
    app = create_app(settings)
    engine = app_state(app).database.engine
    statements: list[str] = []
    transactions = [0]
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    event.listen(engine, "begin", lambda *_: transactions.__setitem__(0, transactions[0] + 1))
    client = app.test_client()
    per_request: list[Counter[str]] = []

    def call(method: str, path: str, form: dict[str, str] | None = None) -> Any:
        before = len(statements)
        reply = client.open(path, method=method, data=form)
        per_request.append(Counter(statements[before:]))
        return reply

    # A first submission warms the process (version registration happens once per process).
    for warm in (True, False):
        statements.clear()
        transactions[0] = 0
        per_request.clear()
        body = call("GET", f"/s/{token}").get_data(as_text=True)
        body = call("POST", f"/s/{token}", {"lang": "en", "csrf_token": csrf(body)}).get_data(
            as_text=True
        )
        while (page := PAGE.search(body)) is not None:
            number = int(page.group(1))
            form = {**PAGES[number], **hidden_fields(body), "action": "next"}
            body = call("POST", f"/s/{token}", form).get_data(as_text=True)
        if not warm:
            break
    repeats = max(max(c.values(), default=0) for c in per_request)
    app_state(app).database.dispose()
    # On PostgreSQL statements commit as they run, but for writes that go together, which
    # are sent between a BEGIN and a COMMIT of their own (survey_app.db.Database.connection).
    if not database_url.startswith("sqlite"):
        transactions[0] = statements.count("BEGIN")
    data = [s for s in statements if s not in ("BEGIN", "COMMIT", "ROLLBACK")]
    return len(data), transactions[0], len(per_request), repeats


# --- the run -------------------------------------------------------------------------------------


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    schema = f"bench_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run(kind: str, seconds: float, rounds: int) -> bool:
    with tempfile.TemporaryDirectory() as folder_name, database(kind, Path(folder_name)) as url:
        folder = Path(folder_name)
        instance = folder / "instance"
        token = set_up(url, instance)
        statements, transactions, requests, repeats = count_sql(url, folder / "count", token)
        results: dict[str, list[Round]] = {"survey-app": [], "bare": []}
        with (
            server("survey-app", url, instance, 1) as app_port,
            server("bare", url, instance, 1) as bare_port,
        ):
            for kind_name, port in (("survey-app", app_port), ("bare", bare_port)):
                drive(port, kind_name, token, 1.0)  # warm-up, not counted
            for _ in range(rounds):
                for kind_name, port in (("survey-app", app_port), ("bare", bare_port)):
                    results[kind_name].append(drive(port, kind_name, token, seconds))
        app_rps, app_sps, app_p50, app_p99 = summary(results["survey-app"])
        bare_rps, bare_sps, bare_p50, bare_p99 = summary(results["bare"])
        ratio = app_rps / bare_rps
        print(
            f"\n== {kind}: gunicorn, 1 worker x {THREADS} threads, {CLIENTS} clients, {rounds} x {seconds:g} s each, interleaved =="
        )
        print(
            f"bare Flask+SQLAlchemy: {bare_rps:7.1f} requests/s, {bare_sps:6.1f} inserts/s, p50 {bare_p50:.1f} ms, p99 {bare_p99:.1f} ms"
        )
        print(
            f"survey-app:            {app_rps:7.1f} requests/s, {app_sps:6.1f} submissions/s, p50 {app_p50:.1f} ms, p99 {app_p99:.1f} ms"
        )
        print(f"requests/s ratio survey-app / bare: {ratio:.2f} (target >= {TARGET_RATIO})")
        held = (
            f"{transactions} transaction(s), one per request"
            if kind == "sqlite"
            else f"each committed as it runs, {transactions} BEGIN...COMMIT around writes that go together"
        )
        print(
            f"per submission ({requests} requests): {statements} SQL statements, {held}; "
            f"most repeats of one statement in one request: {repeats}"
        )
        ok = ratio >= TARGET_RATIO
        if kind == "postgresql":
            scaling: dict[int, list[Round]] = {1: [], 2: []}
            with (
                # Both with the Redis store that several workers need, so only the workers differ.
                server("survey-app", url, instance, 1, REDIS_URL) as one,
                server("survey-app", url, instance, 2, REDIS_URL) as two,
            ):
                for port in (one, two):
                    drive(port, "survey-app", token, 1.0)
                for _ in range(rounds):
                    for workers, port in ((1, one), (2, two)):
                        scaling[workers].append(drive(port, "survey-app", token, seconds))
            one_rps, *_ = summary(scaling[1])
            two_rps, *_ = summary(scaling[2])
            print(
                f"survey-app with 2 worker processes: {two_rps:.1f} requests/s against {one_rps:.1f} with 1: "
                f"ratio {two_rps / one_rps:.2f} (this machine has {os.cpu_count()} cores, shared with the clients)"
            )
        return ok


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        _flag, kind, url, instance, port, workers, store = sys.argv[1:8]
        serve_child(kind, url, instance, int(port), int(workers), store)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if options.db == "both" else [options.db]
    results = [run(kind, options.seconds, options.rounds) for kind in kinds]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
