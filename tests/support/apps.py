"""A test's app: its settings, a deployed programme, and its responses read back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from survey_app.commands.keys import add_key
from survey_app.config import Settings, load_settings
from survey_app.intake.distribution import create_link
from survey_app.intake.responses import open_responses, wrapped_keys
from survey_app.keys import sealing
from survey_app.models import Programme, SurveyAssignment
from survey_app.state import app_state

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SERVED_SURVEYS = FIXTURES / "served"
# Cheap key derivation for tests that are not about the KDF: each real unlock costs ~130 ms.
FAST_KDF = sealing.ScryptParams(log2_n=10, r=8, p=1)
PASSPHRASE = "correct horse battery staple"


def make_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "testing",
        "instance_path": str(tmp_path / "instance"),
        "surveys_dir": str(SERVED_SURVEYS),
        "database": {"url": database_url},
    }
    values.update(overrides)
    return load_settings(environ={}, overrides=values)


@dataclass(frozen=True)
class Deployment:
    """A programme with a key, its surveys assigned, and one link per survey."""

    programme_id: int
    key_id: str
    links: dict[str, str]  # survey id -> link token


def deploy(app: Flask, *, slug: str = "shelter", site: str = "North") -> Deployment:
    state = app_state(app)
    with state.database.session() as session:
        programme = Programme(
            slug=slug,
            name=f"{slug} programme",
            public_title="Feedback",
            retention_days=365,
            help_contacts={"en": [{"name": "Helpline", "phone": "+1 555 0100"}]},
        )
        session.add(programme)
        session.flush()
        wrapped = sealing.generate_key(PASSPHRASE, kdf=FAST_KDF)
        add_key(session, programme, wrapped, keep_private=True)
        links = {}
        for survey_id in state.surveys:
            session.add(SurveyAssignment(id=survey_id, programme_id=programme.id))
            session.flush()
            links[survey_id] = create_link(session, programme, survey_id, site).token
        return Deployment(programme.id, wrapped.key_id, links)


def read_back(app: Flask, programme_id: int, survey_id: str) -> list[Any]:
    """Every response of a survey, opened with the test passphrase."""
    with (
        app_state(app).database.session() as session,
        sealing.UnlockedKeys.unlock(wrapped_keys(session, programme_id), PASSPHRASE) as keys,
    ):
        return list(open_responses(session, survey_id, keys))


def next_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on it is the next release interval (UTC day)."""
    from survey_app.intake import release

    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    monkeypatch.setattr(release, "current_interval", lambda: tomorrow)
