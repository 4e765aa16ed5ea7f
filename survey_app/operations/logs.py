"""What the app and its server write to the log, and how each line is made safe to keep.

Every line goes through `SafeFormatter`:

- control characters (including CR and LF) in a message are written as ``\\xNN`` escapes, so
  nothing a client sends can start a forged line; a traceback keeps its line breaks, but every
  continuation line starts with ``  | `` so it cannot pass for a record of its own;
- anything shaped like a respondent's address (``/s/<token>/...``) is cut to ``/s/<token>``
  before it is written, whoever logged it (the app, waitress, a library), so no line names a
  link, a page number or a language of a respondent.

Respondent pages are never logged one by one at all (see `survey_app.operations.traffic`); this is the
backstop for lines that mention one anyway, such as a server's own error message.
"""

from __future__ import annotations

import logging
import re
from typing import IO

# The respondent routes: /s/<token> (GET the landing page, POST every later page).
_RESPONDENT_PATH = re.compile(r"/s/[^\s\"'?#]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def escape_control(text: str) -> str:
    """``text`` on one line: every control character written as an escape."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def redact_respondent_paths(text: str) -> str:
    return _RESPONDENT_PATH.sub("/s/<token>", text)


class SafeFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        # Another handler may have cached the traceback text unprocessed: make it again.
        cached, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_control(redact_respondent_paths(record.message))
        return super().formatMessage(record)

    def formatException(self, ei: object) -> str:
        text = super().formatException(ei)  # type: ignore[arg-type]
        return self._continuation(text)

    def formatStack(self, stack_info: str) -> str:
        return self._continuation(stack_info)

    @staticmethod
    def _continuation(text: str) -> str:
        lines = redact_respondent_paths(text).splitlines()
        return "\n".join("  | " + escape_control(line) for line in lines)


def configure_logging(level: str, stream: IO[str] | None = None) -> logging.Handler:
    """One handler on the root logger that writes every line through `SafeFormatter`."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter(LINE_FORMAT))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
