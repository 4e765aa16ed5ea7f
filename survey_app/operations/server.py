"""Production serving: gunicorn with several worker processes where it runs, waitress otherwise.

Neither server writes an access log (gunicorn's is off unless configured; waitress has none); the
app logs staff requests without any address and only counts respondent requests (see
web.security and survey_app.operations.traffic), and every line goes through `survey_app.operations.logs.SafeFormatter`. Proxy headers are read by the app alone (ProxyFix, as many
proxies deep as `server.trusted_proxies` says); the servers are told to trust none.

Before serving, the checks that concern the whole deployment run once: the port is free, several
workers have a shared rate-limit store that answers, this server's secret key is the one the
other servers on the database use, and the definitions of the surveys served are stored so that
every server can serve a draft begun on another.
"""

from __future__ import annotations

import errno
import logging
import socket
import sys
from typing import Any

from flask import Flask

from ..app import create_app
from ..config import Settings
from ..messages import N_, DomainError
from ..state import app_state
from .deployment import check_secret_key
from .logs import LINE_FORMAT, SafeFormatter, configure_logging

log = logging.getLogger(__name__)


class ServeError(DomainError):
    """The server cannot start; the message says what to change."""


class PortInUse(ServeError):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            N_(
                "port %(port)s on %(host)s is already in use; choose another with --port "
                "(for example --port %(other)s) or the setting server.port "
                "(SURVEY_APP_SERVER_PORT)"
            ),
            port=port,
            host=host,
            other=port + 1 if port < 65535 else 8080,
        )


class CannotListen(ServeError):
    def __init__(self, host: str, port: int, error: OSError) -> None:
        super().__init__(
            N_(
                "cannot listen on %(host)s port %(port)s: %(error)s; "
                "choose another with --host/--port or server.host/server.port"
            ),
            host=host,
            port=port,
            error=error.strerror or str(error),
        )


class WorkersNeedSharedStore(ServeError):
    def __init__(self, workers: int) -> None:
        super().__init__(
            N_(
                "server.workers is %(workers)s, but rate limits are counted in each process's "
                "memory: set rate_limits.storage_url (SURVEY_APP_RATE_LIMITS_STORAGE_URL) to a "
                "Redis such as redis://127.0.0.1:6379/0, or serve with one worker"
            ),
            workers=workers,
        )


class WorkersNeedGunicorn(ServeError):
    def __init__(self, workers: int) -> None:
        super().__init__(
            N_(
                "server.workers is %(workers)s, but gunicorn does not run on this system; "
                "serve with one worker (waitress) and more threads, or run several servers"
            ),
            workers=workers,
        )


def prepare(settings: Settings) -> Flask:
    """The app, after the checks that concern the whole deployment (see the module's doc)."""
    if settings.server.workers > 1 and not settings.rate_limits.storage_url:
        raise WorkersNeedSharedStore(settings.server.workers)
    app = create_app(settings)
    state = app_state(app)
    try:
        state.limiter.check_store()
        check_secret_key(state.database, app.config["SECRET_KEY"])
        state.register_served_versions()
        check_port(settings.server.host, settings.server.port)
    except Exception:
        state.database.dispose()
        raise
    return app


def serve(settings: Settings) -> None:
    configure_logging(settings.log_level)
    app = prepare(settings)
    try:
        if settings.server.workers > 1:
            # Connections opened by the checks must not be shared by the forked workers.
            app_state(app).database.dispose()
            serve_with_gunicorn(app, settings)
        else:
            _serve_with_waitress(app, settings)
    finally:
        # The day's respondent counts are kept in memory until now.
        app_state(app).traffic.flush()


def check_port(host: str, port: int) -> None:
    """Raise PortInUse now, rather than a traceback from deep inside the server later."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise CannotListen(host, port, error) from None
    with socket.socket(family, kind, proto) as probe:
        if sys.platform != "win32":  # as the servers do; on Windows it would allow sharing
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(host, port) from None
            raise CannotListen(host, port, error) from None


def _serve_with_waitress(app: Flask, settings: Settings) -> None:
    from waitress.server import create_server

    try:
        server = create_server(
            app,
            host=settings.server.host,
            port=settings.server.port,
            threads=settings.server.threads,
            ident="",  # no Server header naming the software
            # With no trusted proxy, waitress drops X-Forwarded-* itself; with some, ProxyFix
            # (in the app) reads exactly as many hops as configured.
            clear_untrusted_proxy_headers=settings.server.trusted_proxies == 0,
            # Only a backstop: bodies over max_form_bytes get the app's own translated 413 page.
            max_request_body_size=_max_body(settings),
        )
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(settings.server.host, settings.server.port) from None
        raise CannotListen(settings.server.host, settings.server.port, error) from None
    log.info(
        "serving on %s port %s (waitress, 1 process)", settings.server.host, settings.server.port
    )
    server.run()


def serve_with_gunicorn(app: Flask, settings: Settings) -> None:
    """Serve `app` (built before the workers fork) with server.workers gunicorn processes."""
    try:
        import gunicorn.http.wsgi
        from gunicorn.app.base import BaseApplication
    except ImportError:
        raise WorkersNeedGunicorn(settings.server.workers) from None

    # No Server header naming the software (as waitress's ident=""): gunicorn has no setting for
    # it, only this module-level name that every response reads.
    gunicorn.http.wsgi.SERVER = ""

    host = settings.server.host
    bind = f"[{host}]:{settings.server.port}" if ":" in host else f"{host}:{settings.server.port}"
    options: dict[str, Any] = {
        "bind": bind,
        "workers": settings.server.workers,
        "worker_class": "gthread",
        "threads": settings.server.threads,
        "preload_app": True,
        "accesslog": None,  # no access log: it would follow a respondent page by page
        "errorlog": "-",
        "loglevel": settings.log_level.lower(),
        "forwarded_allow_ips": "",  # the app's ProxyFix alone decides which headers to trust
        "control_socket_disable": True,
        "proc_name": "survey-app",
        # gunicorn's own lines (its error log) go through the same escaping and path cutting.
        "logger_class": _safe_gunicorn_logger(),
        # Each worker counts respondent requests in its own memory: store them as it stops.
        "worker_exit": lambda _server, _worker: app_state(app).traffic.flush(),
    }

    class SurveyAppServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self) -> Flask:
            return app

    log.info("serving on %s (gunicorn, %d worker processes)", bind, settings.server.workers)
    SurveyAppServer().run()


def _safe_gunicorn_logger() -> type[Any]:
    from gunicorn.glogging import Logger

    class SafeLogger(Logger):  # type: ignore[misc]
        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            for handler in [*self.error_log.handlers, *self.access_log.handlers]:
                handler.setFormatter(SafeFormatter(LINE_FORMAT))

    return SafeLogger


def _max_body(settings: Settings) -> int:
    return max(1 << 20, settings.respondent.max_form_bytes * 16)
