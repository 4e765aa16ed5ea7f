"""What a respondent's request costs the database: one connection, no statement twice, writes
last and together only where they must be, held only as long as it needs the database, never
while its page is rendered."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Flask, before_render_template
from sqlalchemy import event
from sqlalchemy.orm import Session

from survey_app.state import app_state
from tests.support.apps import Deployment
from tests.support.web import Respondent, csrf_token


def test_respondent_pages_are_rendered_after_the_transaction_ends(
    app: Flask, deployment: Deployment
) -> None:
    pool = app_state(app).database.engine.pool
    open_while_rendering: list[tuple[str, int]] = []

    def rendering(_app: Flask, template: Any, **_context: Any) -> None:
        open_while_rendering.append((str(template.name), pool.checkedout()))  # type: ignore[attr-defined]

    before_render_template.connect(rendering, app)
    try:
        respondent = Respondent(app.test_client(), deployment.links["minimal"])
        respondent.start()
        respondent.submit(1, {"consent": "yes"})
        respondent.submit(2, {"age": "7"})  # refused: the page again, with the error
        respondent.submit(2, {"felt_safe": "yes"}, action="back")
        respondent.submit(1, {"consent": "yes"})
        assert "Thank you" in respondent.submit(2, {"felt_safe": "yes"}).get_data(as_text=True)
    finally:
        before_render_template.disconnect(rendering, app)
    assert [name for name, _checked_out in open_while_rendering] == [
        "respond/landing.html",
        "respond/page.html",
        "respond/page.html",
        "respond/page.html",
        "respond/page.html",
        "respond/page.html",
        "respond/done.html",
    ]
    assert all(checked_out == 0 for _name, checked_out in open_while_rendering), (
        open_while_rendering
    )


def test_each_respondent_request_takes_one_connection_and_repeats_no_statement(
    app: Flask, deployment: Deployment
) -> None:
    token = deployment.links["minimal"]
    # The first respondent of the day (of this process) also checks the day's release, and the
    # first of each quarter hour purges expired drafts.
    Respondent(app.test_client(), token).complete({"consent": "yes"}, {"felt_safe": "yes"})
    engine = app_state(app).database.engine
    statements: list[str] = []
    transactions: list[int] = []

    def executing(*arguments: Any) -> None:
        statements.append(arguments[2])

    def beginning(*_arguments: Any) -> None:
        transactions.append(len(statements))

    orm_sessions: list[object] = []

    def orm_session_began(session: Session, *_arguments: Any) -> None:
        orm_sessions.append(session)

    event.listen(engine, "before_cursor_execute", executing)
    event.listen(engine, "begin", beginning)
    # A respondent's request runs statements built once on a plain connection: the ORM's
    # session, its unit of work and identity map, cost more than the statements.
    event.listen(Session, "after_begin", orm_session_began)
    costs: list[tuple[int, int]] = []
    client = app.test_client()
    respondent = Respondent(client, token)

    def measured(send: Any, *arguments: Any) -> Any:
        before_statements, before_transactions = len(statements), len(transactions)
        reply = send(*arguments)
        assert reply.status_code == 200
        ran = statements[before_statements:]
        counts = Counter(ran)
        costs.append((len(transactions) - before_transactions, max(counts.values(), default=0)))
        kinds = [statement.split(None, 1)[0].upper() for statement in ran]
        if any(kind != "SELECT" for kind in kinds):
            # Reads and sealing come first: once a request writes (on SQLite, holds the
            # database's write lock) it only writes, then commits.
            first_write = next(i for i, kind in enumerate(kinds) if kind != "SELECT")
            assert "SELECT" not in kinds[first_write:], kinds
        return reply

    try:
        landing = measured(client.get, respondent.url)
        token_field = csrf_token(landing.get_data(as_text=True))
        measured(respondent.post, {"lang": "en", "csrf_token": token_field})
        measured(respondent.submit, 1, {"consent": "yes"})
        measured(respondent.submit, 2, {"felt_safe": "yes"})
    finally:
        event.remove(engine, "before_cursor_execute", executing)
        event.remove(engine, "begin", beginning)
        event.remove(Session, "after_begin", orm_session_began)
    assert "Thank you" in respondent.html
    assert orm_sessions == []
    # (connections' transactions as SQLAlchemy counts them, most times one statement ran)
    assert costs == [(1, 1)] * 4
    # What the database is told: on PostgreSQL each statement commits as it runs, the finish's
    # two writes being one statement; on SQLite each request is one transaction
    # (survey_app.db.Database.connection, DraftStore.finish_with).
    markers = [s for s in statements if s in ("BEGIN", "COMMIT", "ROLLBACK")]
    assert markers == []
    if app_state(app).database.is_sqlite:
        assert [s.split()[0] for s in statements[-2:]] == ["UPDATE", "INSERT"]
        finish = 2
    else:
        assert statements[-1].startswith("WITH finished_draft AS")
        finish = 1
    # The link for each request, read with the page's draft when it has one (4), the start's
    # new draft (1), the first page's rotation (1), the key with the sites (1) and the finish.
    assert len(statements) == 7 + finish, statements
