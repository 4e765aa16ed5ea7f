"""Words for why something failed, fit for a log line: the cause, never the data.

Operators need to see "database or disk is full", "attempt to write a readonly database" or
"connection refused"; they must not see a statement's parameters (a code hash, a sealed blob)
or a value a respondent typed, which some database messages quote.
"""

from __future__ import annotations

import errno

from sqlalchemy import exc as sa_exc

# Database errors whose messages speak of the database itself, not of the data sent to it.
_CAUSE_ONLY = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.InternalError)
_MAX_LENGTH = 300


def describe(error: BaseException) -> str:
    """``Type: cause`` for the error and the errors it came from, as far as each is safe."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(parts) < 4:
        seen.add(id(current))
        parts.append(_one(current))
        current = current.__cause__ or current.__context__
    return "; caused by ".join(parts)[:_MAX_LENGTH]


def _one(error: BaseException) -> str:
    name = type(error).__name__
    if isinstance(error, sa_exc.DBAPIError):
        if isinstance(error, _CAUSE_ONLY) and error.orig is not None:
            first_line = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else ""
            return f"{name}: {first_line}" if first_line else name
        return f"{name} ({type(error.orig).__name__})" if error.orig is not None else name
    if isinstance(error, OSError) and error.errno is not None:
        code = errno.errorcode.get(error.errno, str(error.errno))
        return f"{name}: [{code}] {error.strerror}"
    return name
