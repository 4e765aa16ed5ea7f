"""The offline entry page: what it costs to install, to seal one response, to upload a queue.

Serves the real app (waitress, temporary SQLite, the example surveys) and drives headless
Chromium through the page as a caseworker:

- first load: every byte the page, its service worker and its cache fetch (raw and gzip), and
  the time to a usable page on a throttled profile (400 ms latency, 400 kbit/s down, 150 up);
- per entry: the bytes one sealed response takes in the queue;
- sealing: ms per response in Chromium (WebCrypto, static/offline/seal.js) against the server
  (sealing.seal), on the same payloads (generated answers to service-feedback), and again in
  Chromium with its CPU throttled 4x (a low-end phone);
- upload: 1,000 responses queued in IndexedDB, uploaded by the page (batches as it makes
  them) to the server; responses per second until the queue is empty, unthrottled.

    .venv/bin/python benchmarks/offline_entry.py [--queued N]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from survey_app import create_app, migrate  # noqa: E402
from survey_app.intake.responses import ResponseMeta, coarse_period, encode_payload, wrapped_keys  # noqa: E402
from survey_app.keys import sealing  # noqa: E402
from survey_app.keys.padding import padded_length  # noqa: E402
from survey_app.models import InboxResponse, Membership, Role  # noqa: E402
from survey_app.operations.sample_data import fake_answers  # noqa: E402
from survey_app.staff import accounts  # noqa: E402
from survey_app.state import app_state  # noqa: E402
from tests.support.apps import deploy, make_settings  # noqa: E402
from tests.test_browser import LiveSite, make_driver  # noqa: E402

PAGE = "/staff/assist/offline/"
# Whether every paper form of the bundle is in the worker's cache yet.
PAPERS_KEPT = """
const done = arguments[0];
(async () => {
  const bundle = await (await fetch("bundle.json")).json();
  const wanted = bundle.programmes.flatMap((p) => p.surveys.flatMap((s) => Object.values(s.paper)));
  for (const url of wanted) {
    if (!(await caches.match(url))) { return false; }
  }
  return true;
})().then(done, () => done(false));
"""
PASSWORD = "a long enough password"
SURVEY = "service-feedback"
THROTTLED = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400 * 1024 / 8,
    "uploadThroughput": 150 * 1024 / 8,
}


def serve(folder: Path) -> tuple[LiveSite, Flask, int]:
    settings = make_settings(
        folder,
        f"sqlite:///{folder / 'bench.sqlite'}",
        surveys_dir=str(ROOT / "surveys"),
    )
    app = create_app(settings)
    migrate.upgrade(app_state(app).database)
    deployment = deploy(app)
    with app_state(app).database.session() as db:
        user = accounts.create_user(db, "casey", PASSWORD)
        db.add(Membership(user=user, programme_id=deployment.programme_id, role=Role.CASEWORKER))
    return LiveSite(app), app, deployment.programme_id


def sign_in(driver: Any, base: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{base}/auth/sign-in?next={PAGE}")
    driver.find_element(By.NAME, "username").send_keys("casey")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(driver, 30).until(lambda d: d.current_url.endswith(PAGE))


def first_load(driver: Any, base: str) -> dict[str, float]:
    """Bytes of every resource the installed page holds (the paper forms, which the page
    fetches once it has the bundle, included), and the throttled load time."""
    driver.execute_async_script(
        "const done = arguments[0]; navigator.serviceWorker.ready.then(() => done(true));"
    )
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 60).until(lambda d: d.execute_async_script(PAPERS_KEPT))
    sizes = json.loads(
        driver.execute_async_script(
            "const done = arguments[0]; (async () => {"
            "const out = {}; for (const name of await caches.keys()) {"
            " const cache = await caches.open(name);"
            " for (const request of await cache.keys()) {"
            "  const body = new Uint8Array(await (await cache.match(request)).arrayBuffer());"
            "  const url = new URL(request.url); out[url.pathname + url.search] = Array.from(body);"
            "}} return out; })().then((r) => done(JSON.stringify(r)));"
        )
    )
    worker = driver.execute_async_script(
        "const done = arguments[0]; fetch('sw.js').then((r) => r.text()).then(done);"
    )
    bodies = [bytes(body) for body in sizes.values()] + [worker.encode()]
    raw = sum(len(body) for body in bodies)
    packed = sum(len(gzip.compress(body, 6)) for body in bodies)
    # A cold, throttled load of the installed page's files (no cache, no service worker).
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    driver.execute_cdp_cmd("Network.setBypassServiceWorker", {"bypass": True})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", THROTTLED)
    started = time.perf_counter()
    driver.get(base + PAGE)
    WebDriverWait(driver, 120).until(
        lambda d: d.execute_script("return document.getElementById('choose-survey').length > 0")
    )
    throttled_ms = (time.perf_counter() - started) * 1000
    print(f"  the installed page's files: {', '.join(sorted(sizes))}")
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    driver.execute_cdp_cmd("Network.setBypassServiceWorker", {"bypass": False})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
    return {
        "files": len(bodies),
        "raw_kb": raw / 1024,
        "gzip_kb": packed / 1024,
        "throttled_ms": throttled_ms,
    }


def payloads(app: Flask, count: int) -> list[tuple[dict[str, Any], bytes, int]]:
    survey = app_state(app).surveys[SURVEY]
    rng = random.Random(3)
    made = []
    for _ in range(count):
        answers = fake_answers(survey, rng)
        meta = ResponseMeta("North", "assisted", "en", datetime.now(UTC).date())
        payload = encode_payload(answers, meta)
        made.append(
            (answers, payload, padded_length(payload, answers, survey.canonical_json, ["North"]))
        )
    return made


def seal_times(driver: Any, app: Flask, public: sealing.PublicKey, count: int) -> dict[str, float]:
    made = payloads(app, count)
    survey = app_state(app).surveys[SURVEY]
    browser = json.loads(
        driver.execute_async_script(
            "const [pub, items, survey, version] = Array.from(arguments).slice(0, 4);"
            "const done = arguments[arguments.length - 1];"
            "import('/static/offline/seal.js').then(async (m) => {"
            " const key = m.fromBase64(pub); const times = []; let bytes = 0;"
            " for (const [payload, length] of items) {"
            "  const data = m.fromBase64(payload); const t = performance.now();"
            "  const blob = await m.seal(key, {responseId: m.newResponseId(), surveyId: survey,"
            "   surveyVersion: version}, data, length);"
            "  times.push(performance.now() - t); bytes += blob.length; }"
            " return {times, bytes};"
            "}).then((r) => done(JSON.stringify(r)));",
            base64.b64encode(public.raw).decode(),
            [[base64.b64encode(p).decode(), length] for _a, p, length in made],
            SURVEY,
            survey.version,
        )
    )
    server = []
    for _answers, payload, length in made:
        started = time.perf_counter()
        sealing.seal(
            public,
            sealing.ResponseBinding("0" * 32, SURVEY, survey.version),
            payload,
            padded_length=length,
        )
        server.append((time.perf_counter() - started) * 1000)
    return {
        "browser_ms": statistics.median(browser["times"]),
        "server_ms": statistics.median(server),
        "blob_bytes": browser["bytes"] / count,
    }


def upload_throughput(
    driver: Any, app: Flask, public: sealing.PublicKey, queued: int
) -> dict[str, float]:
    survey = app_state(app).surveys[SURVEY]
    period = coarse_period(datetime.now(UTC).date(), app_state(app).settings.privacy.period)
    records = []
    for index, (_answers, payload, length) in enumerate(payloads(app, queued)):
        response_id = f"{index:032x}"
        blob = sealing.seal(
            public,
            sealing.ResponseBinding(response_id, SURVEY, survey.version),
            payload,
            padded_length=length,
        )
        records.append(
            {
                "id": response_id,
                "survey": SURVEY,
                "version": survey.version,
                "period": period,
                "sealed": base64.b64encode(blob).decode(),
            }
        )
    per_entry = statistics.mean(len(json.dumps(record)) for record in records)
    # Queue them while the page cannot reach the server, then let it upload.
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {**THROTTLED, "offline": True})
    driver.execute_async_script(
        "const [records] = arguments; const done = arguments[arguments.length - 1];"
        "import('/static/offline/queue.js').then(async (q) => {"
        " for (const r of records) { await q.add(r); } done(true); });",
        records,
    )
    started = time.perf_counter()
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    deadline = started + 600
    stored = 0
    while time.perf_counter() < deadline:
        with app_state(app).database.session() as db:
            stored = int(db.scalar(select(func.count()).select_from(InboxResponse)) or 0)
        if stored >= queued:
            break
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    return {
        "queued": queued,
        "stored": stored,
        "seconds": seconds,
        "per_second": stored / seconds,
        "queue_entry_kb": per_entry / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queued", type=int, default=1000)
    parser.add_argument("--seals", type=int, default=200)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        live, app, programme_id = serve(Path(folder))
        driver = make_driver(javascript=True, profile=Path(folder) / "profile")
        try:
            sign_in(driver, live.base)
            with app_state(app).database.session() as db:
                key = wrapped_keys(db, programme_id)[0].public
            load = first_load(driver, live.base)
            seals = seal_times(driver, app, key, options.seals)
            # A slow phone: Chromium's CPU throttled 4x, as DevTools' "low-end mobile".
            driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": 4})
            slow = seal_times(driver, app, key, options.seals)
            driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": 1})
            upload = upload_throughput(driver, app, key, options.queued)
        finally:
            driver.quit()
            live.close()
            app_state(app).database.dispose()
    print(
        f"first load: {load['files']:.0f} files, {load['raw_kb']:.1f} KB raw, "
        f"{load['gzip_kb']:.1f} KB gzip; usable after {load['throttled_ms']:.0f} ms "
        "throttled (400 ms latency, 400/150 kbit/s)"
    )
    print(
        f"seal one response ({SURVEY}, {seals['blob_bytes']:.0f}-byte blob): "
        f"browser {seals['browser_ms']:.2f} ms, server {seals['server_ms']:.3f} ms (medians)"
    )
    print(f"seal one response with the CPU throttled 4x: browser {slow['browser_ms']:.2f} ms")
    print(f"per entry in the queue: {upload['queue_entry_kb']:.2f} KB")
    print(
        f"upload of {upload['queued']} queued responses: {upload['stored']} stored in "
        f"{upload['seconds']:.1f} s, {upload['per_second']:.0f} responses/s"
    )
    return 0 if upload["stored"] == upload["queued"] else 1


if __name__ == "__main__":
    sys.exit(main())
