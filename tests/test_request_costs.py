"""What a respondent's request costs the database: it holds a transaction only as long as it
needs the database, never while its page is rendered."""

from __future__ import annotations

from typing import Any

from flask import Flask, before_render_template

from survey_app.state import app_state
from tests.support.apps import Deployment
from tests.support.web import Respondent


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
