"""The README's "What is kept" section says what the schema and the log format are, exactly."""

from __future__ import annotations

import logging
import re
from typing import Any

from survey_app import models  # noqa: F401  (registers every table)
from survey_app.db import Base
from survey_app.intake.drafts import EXPIRY_STEP
from survey_app.intake.release import current_interval
from survey_app.operations.logs import LINE_FORMAT
from survey_app.web.security import ASSISTED_ENTRY, AccessLogMiddleware, access_log
from tests.support.apps import ROOT


def section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## What is kept, and what is not")
    end = readme.index("\n## ", start + 1)
    return readme[start:end]


def listed_tables() -> dict[str, list[str]]:
    tables: dict[str, list[str]] = {}
    for line in section().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            tables[cells[0].strip("`")] = re.findall(r"`([^`]+)`", cells[1])
    return tables


def test_every_table_and_column_is_listed_as_it_is() -> None:
    actual = {
        table.name: [column.name for column in table.columns]
        for table in Base.metadata.sorted_tables
    }
    assert listed_tables() == actual


def test_the_log_format_and_the_rules_it_states_are_the_code_s() -> None:
    text = section()
    assert f"`{LINE_FORMAT}`" in text
    assert "`METHOD PATH STATUS DURATIONms`" in text
    assert ASSISTED_ENTRY == "/staff/assist/" and "assisted entries are never logged" in text
    assert EXPIRY_STEP.total_seconds() == 15 * 60 and "to the quarter hour" in text
    assert len(current_interval()) == 10 and "once per UTC day" in text


def test_the_stated_access_line_is_what_staff_requests_write() -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b""]

    handler = Keep()
    access_log.addHandler(handler)
    level = access_log.level
    access_log.setLevel(logging.INFO)
    try:
        middleware = AccessLogMiddleware(wsgi_app, traffic=None)  # type: ignore[arg-type]
        middleware({"REQUEST_METHOD": "GET", "PATH_INFO": "/admin/users"}, lambda *_: None)
    finally:
        access_log.removeHandler(handler)
        access_log.setLevel(level)
    assert re.fullmatch(r"GET /admin/users 200 \d+ms", records[0].getMessage())
