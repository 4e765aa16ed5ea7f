"""Malformed requests spread over every route, as every kind of visitor, checked for 5xx.

Used by tests/test_fuzz.py (a bounded run, on whichever database the suite runs on) and by
benchmarks/fuzz.py (the full run on both databases). Each request goes to the next route in
turn, as the next visitor in turn, so every route is reached by every visitor; what is broken
in it (path arguments, query, form fields, headers) is drawn from a seeded random generator.
Staff POSTs carry a valid CSRF token and the field names of the page's own form, so malformed
values reach the views and not only the CSRF check.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

# Values that have broken web apps: control characters, encodings, sizes, numbers, markup.
MALFORMED: list[str] = [
    "\x00",
    "abc\x00def",
    "\x00" * 40,
    "line\r\nSet-Cookie: x=1",
    "\x1b[31mred",
    "\x7f",
    "\x08\x0b\x0c",
    "tab\there",
    "%00",
    "%",
    "%zz",
    "'; DROP TABLE users; --",
    '" OR "1"="1',
    "<script>alert(1)</script>",
    "{{7*7}}",
    "../../../../etc/passwd",
    "\\\\evil.example\\x",
    "//evil.example",
    "/\t/evil.example",
    "https://evil.example/",
    "A" * 70,
    "B" * 5000,
    "x" * 70_000,
    "",
    " ",
    "-1",
    "0",
    "99999999999999999999",
    "2147483648",
    "1e309",
    "NaN",
    "0x10",
    "\uff11\uff12\uff13",
    "\u202etxt.exe",
    "\ufeffbom",
    "\U0001f600",
    "ن" * 300,
    "null",
    "[]",
    "{}",
    "a=b&c=d",
    "true",
]
# Already percent-encoded, to reach the app as raw bytes: NUL, CR LF, invalid UTF-8, a
# surrogate, an overlong slash.
RAW_ENCODED: list[str] = ["%00", "%0d%0a", "%ff%fe", "%ED%A0%80", "%c0%af", "%25%30%30", "%09"]
QUERY_NAMES = ["next", "lang", "programme", "site", "outcome", "page", "survey_id", "code", "q"]
HEADERS = ["Accept-Language", "X-Forwarded-For", "Cookie", "Content-Type", "Referer", "X-Custom"]
INPUT_NAME = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Visitor:
    """A test client, and how to make it signed in again when a request signed it out."""

    name: str
    client: FlaskClient
    renew: Callable[[], None] = lambda: None


@dataclass
class FuzzResult:
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    routes: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)


@dataclass
class Fuzzer:
    app: Flask
    visitors: list[Visitor]
    # A valid value for each URL argument, so that some requests get past the 404.
    known: dict[str, str]
    seed: int = 12
    renew_every: int = 40
    random: random.Random = field(init=False)
    _fields: dict[tuple[str, str], list[str]] = field(default_factory=dict, init=False)
    _csrf: dict[str, str | None] = field(default_factory=dict, init=False)
    _nul_sent: set[tuple[str, str]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    def rules(self) -> list[Rule]:
        return sorted(self.app.url_map.iter_rules(), key=lambda rule: rule.rule)

    def run(self, requests: int) -> FuzzResult:
        result = FuzzResult()
        rules = self.rules()
        for number in range(requests):
            rule = rules[number % len(rules)]
            visitor = self.visitors[(number // len(rules)) % len(self.visitors)]
            if number % self.renew_every == 0:
                for each in self.visitors:
                    each.renew()
                self._csrf.clear()
            method = self.random.choice(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
            status, described = self.send(visitor, rule, method)
            result.sent += 1
            result.statuses[status] += 1
            result.routes[rule.endpoint] += 1
            if status >= 500:
                result.server_errors.append(f"{status} as {visitor.name}: {described}")
        return result

    def send(self, visitor: Visitor, rule: Rule, method: str) -> tuple[int, str]:
        path = self.path(rule)
        query = self.query()
        headers = self.headers()
        options: dict[str, Any] = {"headers": headers}
        if method == "POST":
            options["data"] = self.form(visitor, rule)
        if (rule.rule, method) not in self._nul_sent:
            # The first request of each kind carries NUL everywhere it can.
            self._nul_sent.add((rule.rule, method))
            path = self.path(rule, nul=True)
            query = "q=abc%00def"
            if "data" in options:
                options["data"] = {
                    name: value if name == "csrf_token" else "abc\x00def"
                    for name, value in options["data"].items()
                }
        url = path + (f"?{query}" if query else "")
        described = f"{method} {url!r} headers={headers!r} form={options.get('data')!r}"[:600]
        reply = visitor.client.open(url, method=method, **options)
        reply.close()
        return reply.status_code, described

    def path(self, rule: Rule, *, nul: bool = False) -> str:
        values = {}
        for name in rule.arguments:
            roll = self.random.random()
            if nul:
                values[name] = "abc%00def"
            elif roll < 0.45 and name in self.known:
                values[name] = quote(self.known[name], safe="")
            elif roll < 0.6:
                values[name] = self.random.choice(RAW_ENCODED)
            else:
                values[name] = quote(self.random.choice(MALFORMED)[:300], safe="")
        path = rule.rule
        for name, value in values.items():
            path = re.sub(rf"<(?:[a-z]+:)?{name}>", value.replace("\\", "\\\\"), path)
        if self.random.random() < 0.15:
            path += self.random.choice(RAW_ENCODED)
        return path

    def query(self) -> str:
        parts = []
        for _ in range(self.random.choice([0, 0, 1, 2, 3])):
            name = self.random.choice(QUERY_NAMES)
            if self.random.random() < 0.3:
                value = self.random.choice(RAW_ENCODED)
            else:
                value = quote(self.random.choice(MALFORMED)[:2000], safe="")
            parts.append(f"{name}={value}")
        return "&".join(parts)

    def headers(self) -> dict[str, str]:
        if self.random.random() < 0.7:
            return {}
        name = self.random.choice(HEADERS)
        # A line break would end the header on the wire: it cannot arrive inside one.
        value = self.random.choice(MALFORMED)[:2000].replace("\r", "").replace("\n", "")
        return {name: value}

    def form(self, visitor: Visitor, rule: Rule) -> dict[str, str]:
        names, csrf = self.form_fields(visitor, rule)
        data = {name: self.random.choice(MALFORMED) for name in names}
        for name in self.random.sample(QUERY_NAMES, 2):
            data.setdefault(name, self.random.choice(MALFORMED))
        if csrf and self.random.random() < 0.9:
            data["csrf_token"] = csrf
        return data

    def form_fields(self, visitor: Visitor, rule: Rule) -> tuple[list[str], str | None]:
        """The field names of the form the route's own page shows, and a CSRF token."""
        key = (visitor.name, rule.rule)
        if key not in self._fields:
            names: list[str] = []
            page_url = self.valid_path(rule)
            if page_url is not None and "GET" in (rule.methods or set()):
                page = visitor.client.get(page_url)
                names = sorted(set(INPUT_NAME.findall(page.get_data(as_text=True))))
            self._fields[key] = [name for name in names if name != "csrf_token"]
        return self._fields[key], self.csrf(visitor)

    def valid_path(self, rule: Rule) -> str | None:
        if any(name not in self.known for name in rule.arguments):
            return None
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:[a-z]+:)?{name}>", quote(self.known[name], safe=""), path)
        return path

    def csrf(self, visitor: Visitor) -> str | None:
        if visitor.name not in self._csrf:
            self._csrf[visitor.name] = None
            for url in ("/staff/", "/auth/sign-in"):
                found = CSRF_FIELD.search(visitor.client.get(url).get_data(as_text=True))
                if found:
                    self._csrf[visitor.name] = found.group(1)
                    break
        return self._csrf[visitor.name]
