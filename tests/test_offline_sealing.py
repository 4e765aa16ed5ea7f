"""Sealing in the browser (static/offline/seal.js, WebCrypto only) against sealing.py.

Blobs sealed in headless Chromium open in Python with the programme's private key; with the
ephemeral key and nonce fixed, Chromium writes the fixed version 2 vector byte for byte; an
altered or moved blob is refused; the payload and its padded length are the server's.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask import Flask

from survey_app.intake.responses import ResponseMeta, encode_payload, wrapped_keys
from survey_app.keys import sealing
from survey_app.keys.padding import padded_length, padding_plan
from survey_app.state import app_state
from tests.support.apps import PASSPHRASE, Deployment
from tests.test_browser import LiveSite, make_driver, site  # noqa: F401  (the fixture)
from tests.test_sealing import VECTOR_BINDING, VECTOR_BLOB_V2, VECTOR_PAYLOAD, VECTOR_PUBLIC

if TYPE_CHECKING:
    from selenium import webdriver

pytestmark = pytest.mark.browser

MODULE = "/static/offline/seal.js"


@pytest.fixture(scope="module")
def chromium() -> Iterator[webdriver.Chrome]:
    driver = make_driver(javascript=True)
    yield driver
    driver.quit()


@pytest.fixture
def page(
    site: tuple[LiveSite, Deployment],  # noqa: F811
    chromium: webdriver.Chrome,
) -> webdriver.Chrome:
    live, _deployment = site
    # Any page of the app: the module needs its origin (a secure context on 127.0.0.1).
    chromium.get(f"{live.base}/auth/sign-in")
    return chromium


def in_browser(driver: webdriver.Chrome, body: str, *args: Any) -> Any:
    """Run `body` (async, with `m` the sealing module and `args`) and return its JSON result."""
    script = (
        "const done = arguments[arguments.length - 1];"
        "const args = Array.from(arguments).slice(0, -1);"
        f"import('{MODULE}').then(async (m) => {{ {body} }})"
        ".then((r) => done(JSON.stringify({ok: r})), (e) => done(JSON.stringify({error: String(e)})));"
    )
    outcome = json.loads(driver.execute_async_script(script, *args))
    assert "error" not in outcome, outcome.get("error")
    return outcome["ok"]


SEAL = (
    "const [pub, id, survey, version, payload, length] = args;"
    "const blob = await m.seal(m.fromHex(pub), {responseId: id, surveyId: survey,"
    " surveyVersion: version}, new TextEncoder().encode(payload), length);"
    "return m.toHex(blob);"
)


def public_key(app: Flask, deployment: Deployment) -> sealing.WrappedKey:
    with app_state(app).database.session() as db:
        (key,) = wrapped_keys(db, deployment.programme_id)
    return key


def test_the_fixed_vector_is_what_chromium_writes(page: webdriver.Chrome) -> None:
    ephemeral = X25519PrivateKey.from_private_bytes(bytes.fromhex("a8" * 32))
    written = in_browser(
        page,
        "const [pub, id, survey, version, payload, priv, epub, nonce] = args;"
        "const blob = await m.sealWithFixedParts(m.fromHex(pub),"
        " {responseId: id, surveyId: survey, surveyVersion: version},"
        " m.fromHex(payload), 64, m.fromHex(priv), m.fromHex(epub), m.fromHex(nonce));"
        "return m.toHex(blob);",
        VECTOR_PUBLIC.hex(),
        VECTOR_BINDING.response_id,
        VECTOR_BINDING.survey_id,
        VECTOR_BINDING.survey_version,
        VECTOR_PAYLOAD.hex(),
        "a8" * 32,
        ephemeral.public_key().public_bytes_raw().hex(),
        "0b" * 12,
    )
    assert bytes.fromhex(written) == VECTOR_BLOB_V2


def test_blobs_sealed_in_chromium_open_in_python(
    site: tuple[LiveSite, Deployment],  # noqa: F811
    page: webdriver.Chrome,
) -> None:
    live, deployment = site
    key = public_key(live.app, deployment)
    response_id = in_browser(page, "return m.newResponseId();")
    assert len(response_id) == 32 and int(response_id, 16) >= 0
    payload = json.dumps({"q1": "Élan — مرحبا", "q2": [1, 2]}, ensure_ascii=False)
    blobs = [
        bytes.fromhex(
            in_browser(page, SEAL, key.public_raw.hex(), response_id, "minimal", "v1", payload, 256)
        )
        for _ in range(2)
    ]
    assert blobs[0] != blobs[1], "each seal has its own ephemeral key and nonce"
    binding = sealing.ResponseBinding(response_id, "minimal", "v1")
    with sealing.UnlockedKeys.unlock([key], PASSPHRASE) as keys:
        for blob in blobs:
            assert blob[0] == sealing.FORMAT_VERSION
            assert sealing.envelope_key_id(blob) == key.key_id
            assert len(blob) == 53 + 256 + 16
            assert keys.open(blob, binding) == payload.encode()


def test_an_altered_or_moved_blob_is_refused(
    site: tuple[LiveSite, Deployment],  # noqa: F811
    page: webdriver.Chrome,
) -> None:
    live, deployment = site
    key = public_key(live.app, deployment)
    blob = bytes.fromhex(
        in_browser(page, SEAL, key.public_raw.hex(), "a" * 32, "minimal", "v1", "{}", 64)
    )
    binding = sealing.ResponseBinding("a" * 32, "minimal", "v1")
    with sealing.UnlockedKeys.unlock([key], PASSPHRASE) as keys:
        assert keys.open(blob, binding) == b"{}"
        for index in (0 + 20, 45, 60, len(blob) - 1):
            altered = bytearray(blob)
            altered[index] ^= 0x01
            with pytest.raises(sealing.TamperedResponse):
                keys.open(bytes(altered), binding)
        for moved in (
            sealing.ResponseBinding("b" * 32, "minimal", "v1"),
            sealing.ResponseBinding("a" * 32, "other", "v1"),
            sealing.ResponseBinding("a" * 32, "minimal", "v2"),
        ):
            with pytest.raises(sealing.TamperedResponse):
                keys.open(blob, moved)


ANSWERS: dict[str, Any] = {
    "satisfied": "4",
    "services": ["legal", "health"],
    "age": 31,
    "comments": 'Merci — شكرا "quoted" \\ and\nnew line',
    "zz_last": None,
}


def test_the_payload_is_the_servers_canonical_json(page: webdriver.Chrome) -> None:
    meta = ResponseMeta(site="Nord-Est", channel="assisted", language="ar", day=date(2026, 11, 30))
    written = in_browser(
        page,
        "const [answers, meta] = args; return m.toHex(m.encodePayload(answers, meta));",
        ANSWERS,
        {
            "site": meta.site,
            "channel": meta.channel,
            "language": meta.language,
            "day": "2026-11-30",
        },
    )
    assert bytes.fromhex(written) == encode_payload(ANSWERS, meta)


@pytest.mark.parametrize("comments", ["", "short", "x" * 70, "é" * 300])
def test_the_padded_length_is_the_servers(
    site: tuple[LiveSite, Deployment],  # noqa: F811
    page: webdriver.Chrome,
    comments: str,
) -> None:
    live, _deployment = site
    survey = app_state(live.app).surveys["service-feedback"]
    sites = ["North", "A much longer site name"]
    plan = padding_plan(survey.canonical_json, sites)
    assert plan is not None
    fixed, free = plan
    text_keys = sorted(free)
    answers: dict[str, Any] = {text_keys[0]: comments} if comments else {}
    meta = ResponseMeta(site="North", channel="assisted", language="en", day=date(2026, 11, 30))
    payload = encode_payload(answers, meta)
    length = in_browser(
        page,
        "const [payload, answers, fixed, free] = args;"
        "return m.paddedLength(m.fromHex(payload), answers, {fixed, freeText: free});",
        payload.hex(),
        answers,
        fixed,
        text_keys,
    )
    assert length == padded_length(payload, answers, survey.canonical_json, sites)


# --- the expression evaluator (static/offline/evaluate.js) against expressions.py ---------

EXPRESSIONS = [
    "${a} = 'x'",
    "${a} != 'x' and ${n} > 3",
    "${n} >= 2.5 or not(${a} = '')",
    "selected(${m}, 'b')",
    "count-selected(${m}) >= 2",
    "string-length(${a}) < 3",
    "int(${n} div 2) = 1",
    "${n} mod 3 = 1",
    "-${n} < -1",
    "${n} * 2 + 1 > 6",
    "if(${a} = 'x', ${n}, 0) > 2",
    "number(${a}) = 7",
    ". >= 18 and . <= 120",
    "${n} = ${a}",
    "true() and not(false())",
    "${n} div 0 > 100",
]


def _values(rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    if rng.random() < 0.8:
        answers["a"] = rng.choice(["x", "y", "", "7", "_pnts", "x y", "3.0"])
    if rng.random() < 0.8:
        answers["n"] = rng.choice([0, 1, 2, 3, 4, 2.5, -1, 7, 18, 120, 121, 0.1, "_pnts"])
    if rng.random() < 0.8:
        answers["m"] = rng.sample(["a", "b", "c"], rng.randint(0, 3))
    return answers


def test_the_device_evaluates_expressions_as_the_server_does(
    page: webdriver.Chrome,
) -> None:
    from survey_app.definitions import load_directory
    from survey_app.definitions.device_form import tree
    from survey_app.definitions.expressions import parse
    from survey_app.operations.sample_data import fake_answers
    from tests.support.apps import ROOT

    rng = random.Random(17)
    cases: list[tuple[list[Any], dict[str, Any], Any, bool]] = []
    for text in EXPRESSIONS:
        expression = parse(text)
        for _ in range(40):
            answers = _values(rng)
            current = answers.get("n")
            cases.append(
                (tree(expression.root), answers, current, expression.is_true(answers, current))
            )
    # Every condition of the example surveys, over answers the server's rules allow.
    for survey in load_directory(ROOT / "surveys").surveys.values():
        generated = [fake_answers(survey, rng) for _ in range(30)]
        for question in survey.questions():
            for condition in (question.relevant, question.constraint):
                if condition is None:
                    continue
                for answers in generated:
                    current = answers.get(question.id)
                    cases.append(
                        (
                            tree(condition.root),
                            answers,
                            current,
                            condition.is_true(answers, current),
                        )
                    )
    assert len(cases) > 800
    device = in_browser(
        page,
        "const [cases] = args; const e = await import('/static/offline/evaluate.js');"
        "return cases.map(([tree, answers, current]) => e.isTrue(tree, answers, current));",
        [case[:3] for case in cases],
    )
    differences = [case for case, got in zip(cases, device, strict=True) if got != case[3]]
    assert differences == []
