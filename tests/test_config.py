"""Settings: defaults, TOML file, environment, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey_app.config import ConfigError, ensure_secret_key, load_settings


def write(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return {"SURVEY_APP_CONFIG": str(path)}


def test_defaults_are_safe() -> None:
    settings = load_settings(environ={})
    assert settings.environment == "production"
    assert settings.privacy.period == "week"
    assert settings.reports.threshold == 5
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("instance/survey.db")


def test_file_then_environment_override(tmp_path: Path) -> None:
    env = write(tmp_path, '[server]\nport = 9000\nthreads = 2\n[privacy]\nperiod = "month"\n')
    env["SURVEY_APP_SERVER_PORT"] = "9100"
    settings = load_settings(environ=env)
    assert settings.server.port == 9100  # environment wins over the file
    assert settings.server.threads == 2  # the file wins over the default
    assert settings.privacy.period == "month"


def test_database_url_from_environment() -> None:
    settings = load_settings(environ={"DATABASE_URL": "postgresql://u@db/x"})
    assert settings.database_url == "postgresql://u@db/x"


def test_settings_are_frozen() -> None:
    settings = load_settings(environ={})
    with pytest.raises(AttributeError):
        settings.environment = "development"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[server]\nport = 'eighty'\n", "server.port: expected a whole number, got 'eighty'"),
        ("[server]\nport = 70000\n", "server.port: must be between 1 and 65535"),
        (
            "[privacy]\nperiod = 'hour'\n",
            "privacy.period: 'hour' is not one of 'day', 'week', 'month'",
        ),
        ("[server]\nprot = 1\n", "[server] prot: no such setting"),
        ("colour = 'red'\n", "colour: no such setting"),
        ("[reports]\nthreshold = 1\n", "reports.threshold: must be at least 2"),
        (
            "[security]\nsecret_key = 'short'\n",
            "security.secret_key: must be at least 32 characters",
        ),
        (
            "[respondent]\nquick_exit_url = 'http://x'\n",
            "respondent.quick_exit_url: must be an https://",
        ),
        ("[database]\nurl = 'mysql://x'\n", "database.url: only sqlite:// and postgresql://"),
        ("[server\nport = 1\n", "not valid TOML"),
        ("server = 3\n", "[server]: expected a table of settings"),
    ],
)
def test_bad_file_names_key_and_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        load_settings(environ=write(tmp_path, text))
    assert message in str(caught.value)


def test_bad_environment_value_names_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"SURVEY_APP_RESPONDENT_MAX_TEXT_LENGTH": "lots"})
    assert "respondent.max_text_length: expected a whole number, got 'lots'" in str(caught.value)
    with pytest.raises(ConfigError, match="SURVEY_APP_NOPE: no such setting"):
        load_settings(environ={"SURVEY_APP_NOPE": "1"})


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(environ={"SURVEY_APP_CONFIG": str(tmp_path / "absent.toml")})


def test_secret_key_generated_once_and_kept(tmp_path: Path) -> None:
    settings = load_settings(environ={}, overrides={"instance_path": str(tmp_path / "inst")})
    first = ensure_secret_key(settings)
    assert len(first) >= 32
    assert ensure_secret_key(settings) == first
    key_file = tmp_path / "inst" / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_example_config_documents_every_setting_with_its_default() -> None:
    example = Path(__file__).resolve().parent.parent / "config.example.toml"
    settings = load_settings(environ={"SURVEY_APP_CONFIG": str(example)})
    assert settings == load_settings(environ={})
    import dataclasses

    text = example.read_text(encoding="utf-8")
    for section in dataclasses.fields(settings):
        value = getattr(settings, section.name)
        names = (
            [f.name for f in dataclasses.fields(value)]
            if dataclasses.is_dataclass(value)
            else [section.name]
        )
        for name in names:
            assert f"{name} =" in text, f"config.example.toml does not document {name}"


def test_phone_region_must_be_a_country_code(tmp_path: Path) -> None:
    assert (
        load_settings(environ={"SURVEY_APP_REPORTS_PHONE_REGION": "GB"}).reports.phone_region
        == "GB"
    )
    with pytest.raises(ConfigError, match=r"reports\.phone_region: use a two-letter country code"):
        load_settings(environ={"SURVEY_APP_REPORTS_PHONE_REGION": "Britain"})


def test_how_long_a_retired_key_is_accepted_offline_is_a_setting() -> None:
    assert load_settings(environ={}).offline.retired_key_grace_days == 90
    settings = load_settings(environ={"SURVEY_APP_OFFLINE_RETIRED_KEY_GRACE_DAYS": "30"})
    assert settings.offline.retired_key_grace_days == 30
    with pytest.raises(ConfigError, match=r"offline\.retired_key_grace_days: must be greater"):
        load_settings(environ={"SURVEY_APP_OFFLINE_RETIRED_KEY_GRACE_DAYS": "0"})
