"""Typed, frozen settings.

Precedence, lowest first: the defaults below, the TOML file named by ``SURVEY_APP_CONFIG``, then
``SURVEY_APP_<SECTION>_<KEY>`` environment variables (``DATABASE_URL`` is honoured too, as most
hosting platforms set it). Every problem names the key and what is wrong, and stops start-up:
running with a half-understood configuration is worse than not running.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .messages import N_, DomainError

ENV_PREFIX = "SURVEY_APP_"
CONFIG_ENV = "SURVEY_APP_CONFIG"

Environment = Literal["production", "development", "testing"]
Period = Literal["day", "week", "month"]


class ConfigError(DomainError):
    """The configuration cannot be used; the message names the key and the problem."""


_EXPECTED_BOOL = N_("%(label)s: expected true or false, got %(value)s")
_EXPECTED_NUMBER = N_("%(label)s: expected a whole number, got %(value)s")


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    threads: int = 4
    # Worker processes; more than one needs gunicorn (POSIX) and a shared rate-limit store.
    workers: int = 1
    # How many proxies in front of the app set X-Forwarded-For/-Proto (0: none are trusted).
    trusted_proxies: int = 0
    # The address respondents reach the app at ("https://feedback.example.org"): links and
    # printed code cards are built from it, never from a request's Host header. Required in
    # production; elsewhere it defaults to http://<host>:<port>.
    public_url: str = ""


@dataclass(frozen=True)
class DatabaseSettings:
    # Empty means SQLite in the instance folder.
    url: str = ""
    sqlite_busy_timeout_ms: int = 5000


@dataclass(frozen=True)
class SecuritySettings:
    # Empty (and no secret_key_file) means: generate one on first run and keep it in the
    # instance folder. Several servers must share one key: set it here or in a shared file.
    secret_key: str = ""
    secret_key_file: str = ""
    # The key of the access codes' keyed hash, never in the database, kept like secret_key: the
    # setting, a shared file (code_key_file), or else a file in the instance folder made on
    # first use. Losing it voids every printed code card.
    code_key: str = ""
    code_key_file: str = ""
    # The key that seals staff members' TOTP secrets in the database, kept like code_key.
    # Losing it turns two-step sign-in off in effect: each account's must be reset.
    totp_key: str = ""
    totp_key_file: str = ""
    staff_idle_minutes: int = 30
    staff_absolute_hours: int = 12


@dataclass(frozen=True)
class PrivacySettings:
    # How coarse the time stored in the clear beside a sealed response is.
    period: Period = "week"


@dataclass(frozen=True)
class RespondentSettings:
    quick_exit_url: str = "https://www.wikipedia.org/"
    max_text_length: int = 2000
    max_form_bytes: int = 65536
    draft_idle_minutes: int = 30
    # Starts and completions (never page views) a link accepts per minute, from everyone...
    submissions_per_minute: int = 300
    # ...and from one address: room for a group on one shelter's Wi-Fi starting together, yet
    # always below the link's budget so that one address cannot use it all up.
    submissions_per_client_per_minute: int = 60
    # Help contacts shown to respondents of a programme that has none of its own (TOML, one
    # array of contacts per language; see survey_app.intake.help_contacts). Empty: no default.
    default_help_file: str = ""


@dataclass(frozen=True)
class RateLimitSettings:
    # Empty: counters in this process's memory (one worker only). Several workers or servers
    # share them in Redis, e.g. "redis://127.0.0.1:6379/0".
    storage_url: str = ""
    # Every Redis key starts with this, so several deployments can share one Redis.
    key_prefix: str = "survey-app"


@dataclass(frozen=True)
class ReportSettings:
    threshold: int = 5
    redact_names: tuple[str, ...] = ()
    # Where phone numbers written without a country code come from (ISO code such as "GB").
    phone_region: str = ""


@dataclass(frozen=True)
class OfflineSettings:
    # A blob sealed on a device to a programme key retired less than this many days ago is
    # still accepted (the device kept the old public key until it next refreshed online); the
    # offline page also keeps each survey version that was current this recently.
    retired_key_grace_days: int = 90


@dataclass(frozen=True)
class Settings:
    environment: Environment = "production"
    instance_path: Path = Path("instance")
    surveys_dir: Path = Path("surveys")
    log_level: str = "INFO"
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    respondent: RespondentSettings = field(default_factory=RespondentSettings)
    rate_limits: RateLimitSettings = field(default_factory=RateLimitSettings)
    reports: ReportSettings = field(default_factory=ReportSettings)
    offline: OfflineSettings = field(default_factory=OfflineSettings)

    @property
    def is_development(self) -> bool:
        return self.environment != "production"

    @property
    def public_url(self) -> str:
        """Where respondents reach the app, without a trailing slash."""
        if self.server.public_url:
            return self.server.public_url.rstrip("/")
        return f"http://{self.server.host}:{self.server.port}"

    def respondent_link(self, token: str) -> str:
        return f"{self.public_url}/s/{token}"

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.instance_path / 'survey.db').resolve()}"

    def missing_database_file(self) -> Path | None:
        """The SQLite file the settings name, if it does not exist (None: it does, or not SQLite)."""
        url = self.database_url
        if not url.startswith("sqlite:///") or url in {"sqlite://", "sqlite:///:memory:"}:
            return None
        path = Path(url.removeprefix("sqlite:///").split("?", 1)[0]).resolve()
        return None if path.exists() else path

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def load_settings(
    environ: Mapping[str, str] | None = None, *, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build settings from defaults, the TOML file, the environment and explicit overrides."""
    env = os.environ if environ is None else environ
    layered: dict[str, Any] = {}
    config_file = env.get(CONFIG_ENV)
    if config_file:
        _merge(layered, _read_toml(Path(config_file)))
    _merge(layered, _from_environment(env))
    if overrides:
        _merge(layered, dict(overrides))
    settings: Settings = _build(Settings, layered, source="")
    _check(settings)
    return settings


# The secrets kept outside the database: setting name -> file in the instance folder.
KEY_FILES = {"secret_key": "secret_key", "code_key": "code_key", "totp_key": "totp_key"}


def ensure_secret_key(settings: Settings) -> str:
    """The configured key (setting or shared file), or one generated once and kept (0600) in
    the instance folder."""
    return ensure_key(settings, "secret_key")


def ensure_key(settings: Settings, name: str) -> str:
    """Key `name`: its setting, else its shared file (`<name>_file`), else its instance file,
    made (0600) on first use."""
    configured = str(getattr(settings.security, name))
    if configured:
        return configured
    shared = str(getattr(settings.security, f"{name}_file"))
    if shared:
        return _read_key_file(name, Path(shared))
    path = settings.instance_path / KEY_FILES[name]
    if path.exists():
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 32:
            return key
        raise ConfigError(
            N_(
                "%(path)s: the stored %(name)s is too short; restore it from the backup "
                '(see README, "Keys outside the database")'
            ),
            path=str(path),
            name=name.replace("_", " "),
        )
    make_instance_folder(settings.instance_path)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it just now: use theirs
        return ensure_key(settings, name)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def _read_key_file(name: str, path: Path) -> str:
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise ConfigError(
            N_(
                "security.%(name)s_file: %(path)s does not exist; create it once with "
                "`survey-app secret-key new %(path)s` and copy the same file to every server"
            ),
            name=name,
            path=str(path),
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            N_("security.%(name)s_file: %(path)s cannot be read: %(error)s"),
            name=name,
            path=str(path),
            error=str(error),
        ) from None
    if len(key) < 32:
        raise ConfigError(
            N_(
                "security.%(name)s_file: %(path)s holds fewer than 32 characters; "
                "make a new one with `survey-app secret-key new %(path)s`"
            ),
            name=name,
            path=str(path),
        )
    return key


def make_instance_folder(path: Path) -> None:
    """The instance folder, readable by its owner only whatever the umask."""
    path.mkdir(parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != 0o700:
        path.chmod(0o700)


def check_can_serve(settings: Settings) -> None:
    """What the web app needs beyond what every command needs."""
    if settings.environment == "production" and not settings.server.public_url:
        raise ConfigError(
            N_(
                "server.public_url: production needs the address respondents use "
                "(such as 'https://feedback.example.org'): links and code cards are built from "
                "it, never from the Host header a client sends"
            )
        )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            N_("%(variable)s names %(path)s, which does not exist"),
            variable=CONFIG_ENV,
            path=str(path),
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            N_("%(path)s: not valid TOML: %(error)s"), path=str(path), error=str(error)
        ) from None


def _from_environment(env: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if env.get("DATABASE_URL"):
        found.setdefault("database", {})["url"] = env["DATABASE_URL"]
    sections = {
        f.name for f in dataclasses.fields(Settings) if dataclasses.is_dataclass(f.default_factory)
    }
    top_level = {f.name for f in dataclasses.fields(Settings)} - sections
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key in top_level:
            found[key] = value
            continue
        section = next((s for s in sections if key.startswith(s + "_")), None)
        if section is None:
            raise ConfigError(N_("environment variable %(name)s: no such setting"), name=name)
        found.setdefault(section, {})[key[len(section) + 1 :]] = value
    return found


def _merge(into: dict[str, Any], more: Mapping[str, Any]) -> None:
    for key, value in more.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif isinstance(value, Mapping):
            into[key] = dict(value)
        else:
            into[key] = value


def _build(cls: type[Any], values: Mapping[str, Any], *, source: str) -> Any:
    if not isinstance(values, Mapping):
        raise ConfigError(N_("[%(source)s]: expected a table of settings"), source=source)
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        where = f"[{source}] " if source else ""
        raise ConfigError(
            N_("%(where)s%(name)s: no such setting (known: %(known)s)"),
            where=where,
            name=unknown[0],
            known=", ".join(sorted(known)),
        )
    kwargs: dict[str, Any] = {}
    for name, raw in values.items():
        hint = hints[name]
        label = f"{source}.{name}" if source else name
        if dataclasses.is_dataclass(hint):
            kwargs[name] = _build(typing.cast(type[Any], hint), raw, source=label)
        else:
            kwargs[name] = _coerce(hint, raw, label)
    return cls(**kwargs)


def _coerce(hint: Any, raw: Any, label: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if raw not in allowed:
            raise ConfigError(
                N_("%(label)s: %(value)s is not one of %(allowed)s"),
                label=label,
                value=repr(raw),
                allowed=", ".join(map(repr, allowed)),
            )
        return raw
    if hint is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in {
            "1",
            "true",
            "yes",
            "on",
            "0",
            "false",
            "no",
            "off",
        }:
            return raw.lower() in {"1", "true", "yes", "on"}
        raise ConfigError(_EXPECTED_BOOL, label=label, value=repr(raw))
    if hint is int:
        if isinstance(raw, bool):
            raise ConfigError(_EXPECTED_NUMBER, label=label, value=repr(raw))
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(_EXPECTED_NUMBER, label=label, value=repr(raw)) from None
    if hint is str:
        if not isinstance(raw, str):
            raise ConfigError(
                N_("%(label)s: expected text, got %(value)s"), label=label, value=repr(raw)
            )
        return raw
    if hint is Path:
        if not isinstance(raw, str | Path):
            raise ConfigError(
                N_("%(label)s: expected a path, got %(value)s"), label=label, value=repr(raw)
            )
        return Path(raw)
    if origin is tuple:
        items = [s.strip() for s in raw.split(",") if s.strip()] if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise ConfigError(
                N_("%(label)s: expected a list of text, got %(value)s"),
                label=label,
                value=repr(raw),
            )
        return tuple(items)
    if isinstance(hint, types.UnionType):  # pragma: no cover - no optional settings yet
        raise ConfigError(N_("%(label)s: unsupported setting type"), label=label)
    raise ConfigError(N_("%(label)s: unsupported setting type"), label=label)  # pragma: no cover


def _check(settings: Settings) -> None:
    positive = {
        "server.port": settings.server.port,
        "server.threads": settings.server.threads,
        "server.workers": settings.server.workers,
        "respondent.max_text_length": settings.respondent.max_text_length,
        "respondent.max_form_bytes": settings.respondent.max_form_bytes,
        "respondent.draft_idle_minutes": settings.respondent.draft_idle_minutes,
        "respondent.submissions_per_minute": settings.respondent.submissions_per_minute,
        "respondent.submissions_per_client_per_minute": (
            settings.respondent.submissions_per_client_per_minute
        ),
        "security.staff_idle_minutes": settings.security.staff_idle_minutes,
        "security.staff_absolute_hours": settings.security.staff_absolute_hours,
        "offline.retired_key_grace_days": settings.offline.retired_key_grace_days,
    }
    for label, value in positive.items():
        if value <= 0:
            raise ConfigError(
                N_("%(label)s: must be greater than 0, got %(value)s"), label=label, value=value
            )
    if settings.server.trusted_proxies < 0:
        raise ConfigError(
            N_("server.trusted_proxies: must be 0 or more, got %(value)s"),
            value=settings.server.trusted_proxies,
        )
    respondent = settings.respondent
    if respondent.submissions_per_client_per_minute >= respondent.submissions_per_minute:
        raise ConfigError(
            N_(
                "respondent.submissions_per_client_per_minute: must be below "
                "respondent.submissions_per_minute (%(value)s), "
                "or one address could use up a link's whole budget"
            ),
            value=respondent.submissions_per_minute,
        )
    storage = settings.rate_limits.storage_url
    if storage and not storage.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            N_(
                "rate_limits.storage_url: use a redis:// address such as "
                "redis://127.0.0.1:6379/0, got %(scheme)s"
            ),
            scheme=repr(storage.split(":")[0]),
        )
    for name in KEY_FILES:
        if getattr(settings.security, name) and getattr(settings.security, f"{name}_file"):
            raise ConfigError(
                N_("security.%(name)s and security.%(name)s_file are both set; keep only one"),
                name=name,
            )
    if not 1 <= settings.server.port <= 65535:
        raise ConfigError(
            N_("server.port: must be between 1 and 65535, got %(value)s"),
            value=settings.server.port,
        )
    region = settings.reports.phone_region
    if region and not (len(region) == 2 and region.isascii() and region.isupper()):
        raise ConfigError(
            N_("reports.phone_region: use a two-letter country code such as 'GB', got %(value)s"),
            value=repr(region),
        )
    if settings.reports.threshold < 2:
        raise ConfigError(
            N_("reports.threshold: must be at least 2, got %(value)s"),
            value=settings.reports.threshold,
        )
    for name in KEY_FILES:
        configured = str(getattr(settings.security, name))
        if configured and len(configured) < 32:
            raise ConfigError(
                N_(
                    "security.%(name)s: must be at least 32 characters; leave it empty to "
                    "generate one"
                ),
                name=name,
            )
    url = settings.respondent.quick_exit_url
    if not url.startswith("https://"):
        raise ConfigError(
            N_("respondent.quick_exit_url: must be an https:// address, got %(value)s"),
            value=repr(url),
        )
    public = settings.server.public_url
    if public and (
        not public.startswith(("https://", "http://")) or any(c in public for c in "?#@ ")
    ):
        raise ConfigError(
            N_(
                "server.public_url: give the address respondents use, such as "
                "'https://feedback.example.org', got %(value)s"
            ),
            value=repr(public),
        )
    db_url = settings.database.url
    if db_url and not db_url.startswith(
        ("sqlite://", "postgresql://", "postgresql+psycopg://", "postgres://")
    ):
        raise ConfigError(
            N_("database.url: only sqlite:// and postgresql:// are supported, got %(scheme)s"),
            scheme=repr(db_url.split(":")[0]),
        )
    if settings.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(
            N_("log_level: %(value)s is not one of DEBUG, INFO, WARNING, ERROR"),
            value=repr(settings.log_level),
        )
