"""Production serving with waitress.

Waitress writes no access log of its own; the app's access log (see web.security) records no
address. Waitress is told not to trust proxy headers unless configured, so no client address is
ever looked at.
"""

from __future__ import annotations

import logging

from waitress import serve as waitress_serve

from .app import create_app
from .config import Settings


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def serve(settings: Settings) -> None:
    configure_logging(settings.log_level)
    app = create_app(settings)
    waitress_serve(
        app,
        host=settings.server.host,
        port=settings.server.port,
        threads=settings.server.threads,
        ident="",  # no Server header naming the software
        clear_untrusted_proxy_headers=True,
        # Only a backstop: bodies over max_form_bytes get the app's own translated 413 page.
        max_request_body_size=max(1 << 20, settings.respondent.max_form_bytes * 16),
    )
