"""`survey-app doctor`: a deployment's check-up, as a list of small checks.

Each check looks at one thing (a file's mode, a setting, the database) and returns findings that
say what is wrong and what to do about it. Nothing here changes anything: no file is created, no
key is generated, no row is written. Checks that need the database are skipped, saying so, when
there is none.
"""

from __future__ import annotations

import hmac
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from sqlalchemy import func, select

from .. import migrate
from ..config import KEY_FILES, Settings
from ..db import Database
from ..models import AccessCode, DeploymentFact, KeyStatus, Programme, ProgrammeKey, User
from . import demo_secrets
from .deployment import FINGERPRINT_FACT, secret_key_fingerprint
from .retention import purge


class Status(Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    message: str
    fix: str = ""


Check = Callable[[Settings, Database | None], Iterator[Finding]]
CHECKS: list[Check] = []


def check(function: Check) -> Check:
    CHECKS.append(function)
    return function


def run_checks(settings: Settings, database: Database | None) -> list[Finding]:
    findings: list[Finding] = []
    for each in CHECKS:
        findings.extend(each(settings, database))
    return findings


def _private_mode(path: Path, wanted: int) -> Finding | None:
    """A finding if group or others may read, write or enter `path`."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return Finding(
            "file modes",
            Status.FAIL,
            f"{path} has mode {mode:04o}: other accounts on this machine can reach it",
            f"chmod {wanted:o} {path}",
        )
    return None


def _key_path(settings: Settings, name: str) -> Path | None:
    """Where key `name` (see config.KEY_FILES) is kept, or None when the setting holds it."""
    if getattr(settings.security, name):
        return None
    shared = str(getattr(settings.security, f"{name}_file"))
    if shared:
        return Path(shared)
    return settings.instance_path / KEY_FILES[name]


@check
def file_modes(settings: Settings, _database: Database | None) -> Iterator[Finding]:
    instance = settings.instance_path
    if not instance.is_dir():
        yield Finding(
            "file modes",
            Status.WARN,
            f"no instance folder at {instance.resolve()}",
            "set instance_path (SURVEY_APP_INSTANCE_PATH) to the deployment's instance folder",
        )
        return
    problems = []
    folders = [instance, instance / "backups"]
    problems += [_private_mode(folder, 0o700) for folder in folders if folder.is_dir()]
    files = [path for path in instance.rglob("*") if path.is_file()]
    for name in KEY_FILES:
        key_file = _key_path(settings, name)
        if key_file is not None and key_file.is_file() and key_file not in files:
            files.append(key_file)
    problems += [_private_mode(path, 0o600) for path in sorted(files)]
    found = [problem for problem in problems if problem is not None]
    yield from found
    if not found:
        yield Finding("file modes", Status.OK, f"{instance.resolve()} is private to its owner")


@check
def environment(settings: Settings, _database: Database | None) -> Iterator[Finding]:
    if settings.environment != "production":
        yield Finding(
            "environment",
            Status.FAIL,
            f"environment is {settings.environment!r}: cookies are not Secure-only, no HSTS",
            'set environment = "production" (SURVEY_APP_ENVIRONMENT=production)',
        )
    else:
        yield Finding("environment", Status.OK, "production")


@check
def demo_secrets_absent(settings: Settings, _database: Database | None) -> Iterator[Finding]:
    path = demo_secrets.path_in(settings.instance_path)
    if path.exists():
        yield Finding(
            "demo secrets",
            Status.FAIL,
            f"{path.resolve()} holds a demo's passphrase and admin password in the clear",
            "write them down if you need them, then delete the file; a real deployment should "
            "not use the demo's instance folder at all",
        )
    else:
        yield Finding("demo secrets", Status.OK, "no demo secrets on disk")


@check
def proxy(settings: Settings, _database: Database | None) -> Iterator[Finding]:
    server = settings.server
    loopback = server.host in {"127.0.0.1", "::1", "localhost"}
    if server.trusted_proxies and not loopback:
        yield Finding(
            "proxy",
            Status.WARN,
            f"server.trusted_proxies is {server.trusted_proxies} but the app listens on "
            f"{server.host}: a client that reaches it directly can forge its address",
            "listen only where the proxy reaches (server.host), or firewall the port",
        )
    elif not server.trusted_proxies and settings.environment == "production":
        yield Finding(
            "proxy",
            Status.WARN,
            "server.trusted_proxies is 0: behind a proxy every client has the proxy's address, "
            "so per-client rate limits count everyone together",
            "set server.trusted_proxies to the number of proxies in front of the app (usually 1)",
        )
    else:
        yield Finding("proxy", Status.OK, f"{server.trusted_proxies} trusted proxies")


@check
def public_url(settings: Settings, _database: Database | None) -> Iterator[Finding]:
    url = settings.server.public_url
    if not url:
        yield Finding(
            "public address",
            Status.FAIL if settings.environment == "production" else Status.WARN,
            "server.public_url is not set: links and code cards cannot name the address "
            "respondents use",
            'set server.public_url (e.g. "https://feedback.example.org")',
        )
    elif not url.startswith("https://"):
        yield Finding(
            "public address",
            Status.FAIL,
            f"server.public_url is {url}: respondents' answers would cross the network unencrypted",
            "serve over TLS and set server.public_url to its https:// address",
        )
    else:
        yield Finding("public address", Status.OK, url)


def _dependants(name: str, database: Database | None) -> str:
    """What in the database is lost if key `name` is lost ("" when nothing is)."""
    if database is None or not _database_ready(database) or name == "secret_key":
        return ""
    with database.session() as session:
        if name == "code_key":
            codes = session.scalar(select(func.count()).select_from(AccessCode)) or 0
            return f"{codes} access codes on printed cards" if codes else ""
        if name == "totp_key":
            enrolled = session.scalar(
                select(func.count()).select_from(User).where(User.totp_secret.is_not(None))
            )
            return f"two-step sign-in of {enrolled} staff accounts" if enrolled else ""
        return ""


@check
def keys_outside_database(settings: Settings, database: Database | None) -> Iterator[Finding]:
    """secret_key, code_key, totp_key: present, and (secret_key) the same on every server."""
    for name in KEY_FILES:
        label = name.replace("_", " ")
        path = _key_path(settings, name)
        if path is not None and not path.is_file():
            lost = _dependants(name, database)
            shared = bool(getattr(settings.security, f"{name}_file"))
            if shared or lost:
                yield Finding(
                    label,
                    Status.FAIL,
                    f"no {label} at {path}"
                    + (f": without it {lost} no longer work" if lost else ""),
                    f"restore {path} from your backup"
                    if lost
                    else f"survey-app secret-key new {path}, and copy it to every server",
                )
            else:
                yield Finding(label, Status.OK, f"made at {path} on first start")
            continue
        if name == "secret_key" and path is not None:
            mismatch = _fingerprint_differs(path.read_text("ascii", "replace").strip(), database)
        elif name == "secret_key":
            mismatch = _fingerprint_differs(settings.security.secret_key, database)
        else:
            mismatch = False
        if mismatch:
            yield Finding(
                label,
                Status.FAIL,
                "this server's secret key differs from the one the other servers use",
                "give every server the same security.secret_key_file",
            )
            continue
        where = f"in {path}" if path else "in the settings"
        yield Finding(label, Status.OK, f"kept outside the database, {where}")


def _fingerprint_differs(key: str, database: Database | None) -> bool:
    if database is None or not _database_ready(database):
        return False
    with database.session() as session:
        recorded = session.get(DeploymentFact, FINGERPRINT_FACT)
        return recorded is not None and not hmac.compare_digest(
            recorded.value, secret_key_fingerprint(key)
        )


@check
def backups(settings: Settings, _database: Database | None) -> Iterator[Finding]:
    """A backup holds the database only: the keys outside it must be kept beside it."""
    kept = [str(path) for name in KEY_FILES if (path := _key_path(settings, name))]
    folder = settings.instance_path / "backups"
    found = sorted(folder.glob("survey-*"), key=lambda path: path.stat().st_mtime)
    if not found:
        yield Finding(
            "backups",
            Status.WARN,
            f"no backup in {folder}",
            "survey-app backup (daily), and keep a copy of "
            + (", ".join(kept) if kept else "the security settings")
            + " with the backups, off this server",
        )
        return
    yield Finding(
        "backups",
        Status.OK,
        f"newest {found[-1].name}; keep a copy of "
        + (", ".join(kept) if kept else "the security settings")
        + " with it, off this server",
    )


@check
def rate_limit_store(settings: Settings, _database: Database | None) -> Iterator[Finding]:
    url = settings.rate_limits.storage_url
    if not url:
        if settings.server.workers > 1:
            yield Finding(
                "redis",
                Status.FAIL,
                f"server.workers is {settings.server.workers} but rate limits are per process",
                "set rate_limits.storage_url to a Redis, e.g. redis://127.0.0.1:6379/0",
            )
        else:
            yield Finding("redis", Status.OK, "not configured (one worker: counters in memory)")
        return
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except (redis.RedisError, ValueError) as error:
        yield Finding(
            "redis",
            Status.FAIL,
            f"rate_limits.storage_url does not answer: {type(error).__name__}: {error}",
            "start Redis there, or correct rate_limits.storage_url",
        )
        return
    yield Finding("redis", Status.OK, "the rate-limit store answers")


def _database_ready(database: Database) -> bool:
    try:
        return migrate.is_up_to_date(database)
    except Exception:  # any failure to read the revision means: not usable here
        return False


@check
def migrations(_settings: Settings, database: Database | None) -> Iterator[Finding]:
    if database is None:
        return
    current, head = migrate.current_revision(database), migrate.head_revision(database)
    if current != head:
        yield Finding(
            "migrations",
            Status.FAIL,
            f"the database is at revision {current or 'none'}, the code needs {head}",
            "survey-app db upgrade",
        )
    else:
        yield Finding("migrations", Status.OK, f"at head ({head})")


def _programmes(database: Database | None) -> list[Programme]:
    if database is None or not _database_ready(database):
        return []
    with database.session() as session:
        return list(session.scalars(select(Programme).order_by(Programme.slug)))


@check
def programme_keys(_settings: Settings, database: Database | None) -> Iterator[Finding]:
    programmes = _programmes(database)
    if database is None or not programmes:
        return
    with database.session() as session:
        with_key = set(
            session.scalars(
                select(ProgrammeKey.programme_id).where(ProgrammeKey.status == KeyStatus.CURRENT)
            )
        )
    for programme in programmes:
        if programme.id not in with_key:
            yield Finding(
                "programme keys",
                Status.FAIL,
                f"programme {programme.slug!r} has no current key: its surveys cannot be answered",
                f"survey-app keys create {programme.slug}",
            )
        else:
            yield Finding("programme keys", Status.OK, f"{programme.slug}: has a current key")


@check
def help_contacts(_settings: Settings, database: Database | None) -> Iterator[Finding]:
    for programme in _programmes(database):
        if not any(programme.help_contacts.values()):
            yield Finding(
                "help contacts",
                Status.FAIL,
                f"programme {programme.slug!r} shows respondents no one to call for help",
                f"survey-app programmes set-help {programme.slug} CONTACTS.toml",
            )
        else:
            languages = ", ".join(sorted(programme.help_contacts))
            yield Finding("help contacts", Status.OK, f"{programme.slug}: {languages}")


@check
def retention(_settings: Settings, database: Database | None) -> Iterator[Finding]:
    if database is None or not _programmes(database):
        return
    overdue = purge(database, actor="doctor", dry_run=True)
    if overdue.responses:
        yield Finding(
            "retention",
            Status.FAIL,
            f"{overdue.responses} responses are kept past their programme's retention period",
            "survey-app purge, and run it daily (README, 'Keys, backups and retention')",
        )
    else:
        yield Finding("retention", Status.OK, "nothing is kept past its retention period")
