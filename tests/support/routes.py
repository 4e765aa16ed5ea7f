"""Sample values for the URL arguments that tests walking every route fill in.

The values that do not depend on a test's database are here, once: a route with a new argument
name gets its sample here, and every route-walking test (CSRF, authorisation matrix, GET changes
nothing, fuzz) reaches it.
"""

from __future__ import annotations

STATIC_SAMPLES: dict[str, str] = {
    "number": "1",
    "lang": "en",
    "filename": "exit.js",
    "fmt": "csv",  # a report download format
    "quote_id": "0123456789abcdef",  # an approved quote of a policy brief (none exists)
    "name": "faces.png",  # a survey's picture or sound (none by this name)
}
