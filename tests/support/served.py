"""The app served for real on a free localhost port, and browsers that send requests at once.

Race tests need requests that truly overlap: each `Browser` has its own TCP connection (and,
if asked, its own loopback source address, so that per-client limits see separate clients),
and `at_once` releases every thread from one barrier.
"""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
T = TypeVar("T")


class QuietHandler(WSGIRequestHandler):
    """No request log lines in the test output."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextmanager
def served(app: Flask) -> Iterator[tuple[str, int]]:
    """Serve `app` with one thread per request; yields (host, port)."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@dataclass
class Reply:
    status: int
    location: str
    text: str

    def csrf(self) -> str:
        match = CSRF_FIELD.search(self.text)
        assert match, f"page has no CSRF token (status {self.status})"
        return match.group(1)


@dataclass
class Browser:
    """A browser as far as cookies go; redirects are returned, not followed."""

    address: tuple[str, int]
    source: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)

    def copy(self, source: str | None = None) -> Browser:
        """A second tab or device holding the same cookies (a double tap, a copied cookie)."""
        return Browser(self.address, source or self.source, dict(self.cookies))

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, data: dict[str, str] | None = None) -> Reply:
        return self.request("POST", path, data or {})

    def request(
        self,
        method: str,
        path: str,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: str | None = None,
    ) -> Reply:
        connection = http.client.HTTPConnection(
            *self.address, timeout=60, source_address=(self.source, 0)
        )
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if data is not None:
            body = urlencode(data)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                self._keep(header)
            return Reply(response.status, response.headers.get("Location", ""), text)
        finally:
            connection.close()

    def _keep(self, header: str) -> None:
        for name, morsel in SimpleCookie(header).items():
            if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value


def at_once(actions: Sequence[Callable[[], T]]) -> list[T]:
    """Run every action in its own thread, released together; results in the given order."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)
    errors: list[BaseException] = []

    def run(index: int, action: Callable[[], T]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = action()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results
