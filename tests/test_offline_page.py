"""The offline entry page in headless Chromium: opened once online, used with the network off.

Entries made offline are sealed on the device, wait in IndexedDB as sealed blobs only, and
arrive exactly once when the network returns (also when an upload's answer is lost on the
way); they open in a report. Quick exit signs out and keeps the sealed queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from survey_app import create_app, migrate
from survey_app.definitions import load_survey_text
from survey_app.definitions.answers import visible_choices
from survey_app.intake.responses import OpenedResponse
from survey_app.models import AuditEvent, InboxResponse, Role
from survey_app.state import app_state
from tests.support.apps import FIXTURES, Deployment, deploy, make_settings, read_back
from tests.support.staff import PASSWORD, make_account
from tests.test_browser import EXIT_URL, LiveSite, make_driver

if TYPE_CHECKING:
    from selenium import webdriver

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("cheap_password_hashing")]

PAGE = "/staff/assist/offline/"
# Words typed as answers: none may be found anywhere in the browser's storage.
SECRET_WORDS = ("Brambleton", "Quillmarsh")


class FlakyUploads:
    """WSGI wrapper for the upload: "lose-first" stores the first upload but loses its reply
    on the way back; "down" answers every upload with 503; "pass" lets everything through."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.mode = "pass"
        self.lost = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not environ["PATH_INFO"].endswith("/upload") or self.mode == "pass":
            return self.app(environ, start_response)
        if self.mode == "down":
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"down"]
        self.mode = "pass"
        body = b"".join(self.app(environ, lambda *args, **kwargs: None))
        assert b'"stored"' in body
        self.lost += 1
        start_response("502 Bad Gateway", [("Content-Type", "text/plain")])
        return [b"lost on the way"]


@pytest.fixture
def served(tmp_path: Path, database_url: str) -> Iterator[tuple[LiveSite, Deployment, Any]]:
    yield from serve(tmp_path, database_url)


@pytest.fixture
def served_places(tmp_path: Path, database_url: str) -> Iterator[tuple[LiveSite, Deployment, Any]]:
    """A survey with a choice_filter and a rating scale with end labels."""
    yield from serve(tmp_path, database_url, surveys_dir=str(FIXTURES / "filtered"))


def serve(
    tmp_path: Path, database_url: str, **overrides: Any
) -> Iterator[tuple[LiveSite, Deployment, Any]]:
    settings = make_settings(
        tmp_path, database_url, respondent={"quick_exit_url": EXIT_URL}, **overrides
    )
    app = create_app(settings)
    migrate.upgrade(app_state(app).database)
    deployment = deploy(app)
    make_account(app, "casey", role=Role.CASEWORKER, programme_id=deployment.programme_id)
    flaky = FlakyUploads(app.wsgi_app)
    app.wsgi_app = flaky  # type: ignore[method-assign]
    live = LiveSite(app)
    yield live, deployment, flaky
    live.close()
    app_state(app).database.dispose()


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    driver = make_driver(javascript=True, profile=tmp_path / "profile")
    yield driver
    driver.quit()


def network(driver: webdriver.Chrome, *, online: bool) -> None:
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": not online, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def wait(driver: webdriver.Chrome, condition: Any, timeout: float = 20) -> Any:
    return WebDriverWait(driver, timeout).until(condition)


def text_of(driver: webdriver.Chrome, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text)


def sign_in_and_install(
    driver: webdriver.Chrome,
    base: str,
    survey_title: str = "Short feedback",
    *,
    reopen: bool = True,
) -> None:
    driver.get(f"{base}/auth/sign-in?next={PAGE}")
    driver.find_element(By.NAME, "username").send_keys("casey")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait(driver, lambda d: d.current_url.endswith(PAGE))
    # Installed once the service worker is active and controls the page.
    driver.execute_async_script(
        "const done = arguments[0]; navigator.serviceWorker.ready.then(() => done(true));"
    )
    if reopen:
        driver.refresh()
    wait(driver, lambda d: d.execute_script("return !!navigator.serviceWorker.controller"))
    wait(driver, lambda d: survey_title in text_of(d, "choose-survey"))


def enter(driver: webdriver.Chrome, comment: str, age: str = "34") -> None:
    driver.find_element(By.CSS_SELECTOR, "#choose button[type=submit]").click()
    wait(driver, lambda d: d.find_element(By.ID, "entry").is_displayed())
    driver.find_element(By.CSS_SELECTOR, 'input[name="consent"][value="yes"]').click()
    driver.find_element(By.CSS_SELECTOR, 'input[name="felt_safe"][value="partly"]').click()
    driver.find_element(By.CSS_SELECTOR, 'input[name="age"]').send_keys(age)
    driver.find_element(By.CSS_SELECTOR, 'textarea[name="comment"]').send_keys(comment)
    driver.find_element(By.ID, "save").click()
    wait(driver, lambda d: "Sealed and saved" in text_of(d, "outcome"))


def queued(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    return list(
        json.loads(
            driver.execute_async_script(
                "const done = arguments[0];"
                "import('/static/offline/queue.js').then((q) => q.all())"
                ".then((r) => done(JSON.stringify(r)), (e) => done(JSON.stringify(String(e))));"
            )
        )
    )


STORAGE_DUMP = """
const done = arguments[0];
(async () => {
  const found = {localStorage: JSON.stringify({...localStorage}),
                 sessionStorage: JSON.stringify({...sessionStorage}), caches: [], indexedDB: []};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const body = await (await cache.match(request)).text();
      found.caches.push(request.url + "\\n" + body);
    }
  }
  for (const info of await indexedDB.databases()) {
    const db = await new Promise((ok, no) => {
      const r = indexedDB.open(info.name); r.onsuccess = () => ok(r.result); r.onerror = no;
    });
    for (const store of db.objectStoreNames) {
      const rows = await new Promise((ok) => {
        const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => ok(r.result);
      });
      found.indexedDB.push(JSON.stringify(rows));
    }
    db.close();
  }
  return found;
})().then((r) => done(JSON.stringify(r)), (e) => done(JSON.stringify({error: String(e)})));
"""


def inbox(app: Flask) -> int:
    with app_state(app).database.session() as db:
        return int(db.scalar(select(func.count()).select_from(InboxResponse)) or 0)


def test_entries_made_offline_arrive_once_and_open_in_a_report(
    served: tuple[LiveSite, Deployment, Any], chromium: webdriver.Chrome
) -> None:
    live, deployment, flaky = served
    sign_in_and_install(chromium, live.base)
    network(chromium, online=False)
    chromium.refresh()  # the page itself now comes from the service worker's cache
    wait(chromium, lambda d: "Offline" in text_of(d, "status-network"))
    wait(chromium, lambda d: "Short feedback" in text_of(d, "choose-survey"))
    enter(chromium, f"The {SECRET_WORDS[0]} office helped")
    enter(chromium, f"Met at {SECRET_WORDS[1]}", age="51")
    assert "2 sealed responses" in text_of(chromium, "status-queue")
    assert inbox(live.app) == 0

    # Nothing of the answers anywhere in the browser's storage: only sealed blobs.
    storage = json.loads(chromium.execute_async_script(STORAGE_DUMP))
    assert "error" not in storage, storage
    assert storage["caches"] and storage["indexedDB"]
    everything = json.dumps(storage, ensure_ascii=False)
    for word in SECRET_WORDS:  # (choice values and question ids are in the cached survey)
        assert word not in everything, f"{word!r} found in the browser's storage"
    records = queued(chromium)
    assert {frozenset(record) for record in records} == {
        frozenset({"id", "survey", "version", "period", "sealed"})
    }

    # Back online: the first upload is stored but its reply is lost; the retry finds it there.
    flaky.mode = "lose-first"
    network(chromium, online=True)
    wait(chromium, lambda d: "0 sealed responses" in text_of(d, "status-queue"), timeout=40)
    assert flaky.lost == 1
    assert inbox(live.app) == 2
    opened = read_back(live.app, deployment.programme_id, "minimal")
    assert all(isinstance(item, OpenedResponse) for item in opened)
    answers = sorted(
        (item.answers for item in opened if isinstance(item, OpenedResponse)),
        key=lambda a: a["age"],
    )
    assert answers == [
        {
            "consent": "yes",
            "felt_safe": "partly",
            "age": 34,
            "comment": f"The {SECRET_WORDS[0]} office helped",
        },
        {
            "consent": "yes",
            "felt_safe": "partly",
            "age": 51,
            "comment": f"Met at {SECRET_WORDS[1]}",
        },
    ]
    assert {item.response_id for item in opened if isinstance(item, OpenedResponse)} == {
        record["id"] for record in records
    }
    assert {item.meta.channel for item in opened if isinstance(item, OpenedResponse)} == {
        "assisted"
    }


def test_the_device_checks_answers_with_the_surveys_rules(
    served: tuple[LiveSite, Deployment, Any], chromium: webdriver.Chrome
) -> None:
    live, _deployment, _flaky = served
    sign_in_and_install(chromium, live.base)
    chromium.find_element(By.CSS_SELECTOR, "#choose button[type=submit]").click()
    chromium.find_element(By.CSS_SELECTOR, 'input[name="age"]').send_keys("7")
    chromium.find_element(By.ID, "save").click()
    wait(chromium, lambda d: "need attention" in text_of(d, "outcome"))
    errors = [e.text for e in chromium.find_elements(By.CSS_SELECTOR, ".error") if e.text]
    assert len(errors) == 2  # consent never assumed; 7 is below the minimum of 10
    assert queued(chromium) == []


def test_quick_exit_signs_out_and_keeps_the_sealed_queue(
    served: tuple[LiveSite, Deployment, Any], chromium: webdriver.Chrome
) -> None:
    live, _deployment, flaky = served
    sign_in_and_install(chromium, live.base)
    flaky.mode = "down"  # the server cannot take uploads: the entry waits in the queue
    enter(chromium, f"{SECRET_WORDS[0]} again")
    wait(chromium, lambda d: "trying again" in text_of(d, "status-upload"))
    assert "stay on this device" in text_of(chromium, "exit-note")
    chromium.find_element(By.ID, "offline-exit").click()
    wait(chromium, lambda d: not d.current_url.startswith(live.base))
    chromium.get(f"{live.base}/staff/assist/offline/token")
    assert "/auth/sign-in" in chromium.current_url, "the session ended"
    with app_state(live.app).database.session() as db:
        reasons = db.scalars(select(AuditEvent.detail).where(AuditEvent.action == "auth.sign-out"))
        # On the server too: the exit carried the session's form token.
        assert reasons.all() == ["quick exit (offline page)"]
    assert len(queued(chromium)) == 1, "the sealed queue is kept"
    assert inbox(live.app) == 0


def test_the_queue_uploads_after_the_browser_is_closed_and_reopened(
    served: tuple[LiveSite, Deployment, Any], tmp_path: Path
) -> None:
    live, _deployment, _flaky = served
    first = make_driver(javascript=True, profile=tmp_path / "kept-profile")
    try:
        sign_in_and_install(first, live.base)
        network(first, online=False)
        enter(first, "Before closing")
        assert len(queued(first)) == 1
    finally:
        first.quit()
    assert inbox(live.app) == 0
    # The same browser profile later, online: signing in again brings the page back, which
    # uploads what waited.
    again = make_driver(javascript=True, profile=tmp_path / "kept-profile")
    try:
        again.get(f"{live.base}{PAGE}")  # the cached page, signed out: it says so
        wait(again, lambda d: "Sign in again" in text_of(d, "status-upload"))
        assert len(queued(again)) == 1
        again.find_element(By.CSS_SELECTOR, "#sign-in-again a").click()
        wait(again, lambda d: "/auth/sign-in" in d.current_url)
        again.find_element(By.NAME, "username").send_keys("casey")
        again.find_element(By.NAME, "password").send_keys(PASSWORD)
        again.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        wait(again, lambda d: "0 sealed responses" in text_of(d, "status-queue"), timeout=40)
    finally:
        again.quit()
    assert inbox(live.app) == 1


def shown_options(driver: webdriver.Chrome, question: str) -> list[str]:
    options = driver.find_elements(By.CSS_SELECTOR, f'[data-question="{question}"] .option')
    return [str(option.text) for option in options if option.is_displayed()]


def test_offline_the_choice_filter_hides_options_as_the_server_does(
    served_places: tuple[LiveSite, Deployment, Any], chromium: webdriver.Chrome
) -> None:
    live, deployment, _flaky = served_places
    survey = app_state(live.app).surveys["places"]
    city = survey.pages[1].questions[0]
    sign_in_and_install(chromium, live.base, "Where you are")
    network(chromium, online=False)
    chromium.refresh()
    wait(chromium, lambda d: "Where you are" in text_of(d, "choose-survey"))
    chromium.find_element(By.CSS_SELECTOR, "#choose button[type=submit]").click()
    wait(chromium, lambda d: d.find_element(By.ID, "entry").is_displayed())

    def server_shows(answers: dict[str, Any]) -> list[str]:
        return [choice.label.get("en", "en") for choice in visible_choices(city, answers)]

    # Before a country is answered the filter leaves no city, as on the server's pages.
    assert shown_options(chromium, "city") == server_shows({}) == []
    chromium.find_element(By.CSS_SELECTOR, 'input[name="country"][value="ke"]').click()
    assert shown_options(chromium, "city") == server_shows({"country": "ke"})
    assert shown_options(chromium, "city") == ["Nairobi", "Mombasa"]
    chromium.find_element(By.CSS_SELECTOR, 'input[name="city"][value="mombasa"]').click()
    # Another country: Mombasa is left out, and unpicked rather than sealed out of sight.
    chromium.find_element(By.CSS_SELECTOR, 'input[name="country"][value="ug"]').click()
    assert shown_options(chromium, "city") == server_shows({"country": "ug"}) == ["Kampala"]
    assert not chromium.find_element(
        By.CSS_SELECTOR, 'input[name="city"][value="mombasa"]'
    ).is_selected()
    # The scale's ends are labelled, as on the respondent's and assisted entry's pages.
    assert shown_options(chromium, "welcome") == ["1 (Very badly)", "2", "3", "4", "5 (Very well)"]
    chromium.find_element(By.CSS_SELECTOR, 'input[name="city"][value="kampala"]').click()
    chromium.find_element(By.CSS_SELECTOR, 'input[name="welcome"][value="4"]').click()
    chromium.find_element(By.ID, "save").click()
    wait(chromium, lambda d: "Sealed and saved" in text_of(d, "outcome"))

    network(chromium, online=True)
    wait(chromium, lambda d: "0 sealed responses" in text_of(d, "status-queue"), timeout=40)
    (opened,) = read_back(live.app, deployment.programme_id, "places")
    assert isinstance(opened, OpenedResponse), opened
    assert opened.answers == {"country": "ug", "city": "kampala", "welcome": 4}


CACHED_PAPERS = """
const done = arguments[0];
(async () => {
  const found = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      if (request.url.includes("/paper/")) {
        found[request.url] = await (await cache.match(request)).text();
      }
    }
  }
  return found;
})().then((r) => done(JSON.stringify(r)), (e) => done(JSON.stringify({error: String(e)})));
"""


def test_the_paper_form_opens_with_the_network_off_in_each_language(
    served: tuple[LiveSite, Deployment, Any], chromium: webdriver.Chrome
) -> None:
    live, _deployment, _flaky = served
    sign_in_and_install(chromium, live.base, reopen=False)  # kept from the very first visit
    papers = wait(
        chromium,
        lambda d: len(found := json.loads(d.execute_async_script(CACHED_PAPERS))) == 2 and found,
    )
    assert sorted(papers) == [
        f"{live.base}{PAGE}paper/minimal?lang=ar",
        f"{live.base}{PAGE}paper/minimal?lang=en",
    ]
    # A blank form, kept without the staff menu: no name and no token stored with it.
    for body in papers.values():
        assert "casey" not in body and "csrf_token" not in body

    network(chromium, online=False)
    chromium.refresh()
    wait(chromium, lambda d: d.find_element(By.ID, "paper-link").is_displayed())
    chromium.find_element(By.ID, "paper-link").click()
    wait(chromium, lambda d: "Did you feel safe?" in d.find_element(By.TAG_NAME, "body").text)
    assert "Short feedback" in chromium.find_element(By.TAG_NAME, "h1").text
    chromium.find_element(By.CSS_SELECTOR, 'a[lang="ar"]').click()
    wait(chromium, lambda d: "هل شعرت بالأمان؟" in d.find_element(By.TAG_NAME, "body").text)
    assert chromium.find_element(By.CSS_SELECTOR, "article.paper").get_attribute("dir") == "rtl"


def test_a_version_replaced_since_the_device_cached_it_can_still_be_entered_offline(
    served: tuple[LiveSite, Deployment, Any], chromium: webdriver.Chrome
) -> None:
    live, deployment, _flaky = served
    state = app_state(live.app)
    old_version = state.surveys["minimal"].version
    sign_in_and_install(chromium, live.base)
    # The server now serves a reworded version: paper forms printed from the old one are still
    # being filled in, and typed in later on the version they were printed from.
    text = (FIXTURES / "served" / "minimal.toml").read_text(encoding="utf-8")
    reworded = text.replace("Did you feel safe?", "Did you feel safe here?")
    state.surveys["minimal"] = load_survey_text(reworded, "minimal.toml")
    chromium.refresh()
    wait(chromium, lambda d: "version replaced on" in text_of(d, "choose-survey"))

    network(chromium, online=False)
    chromium.refresh()
    wait(chromium, lambda d: "version replaced on" in text_of(d, "choose-survey"))
    labels = [o.text for o in chromium.find_elements(By.CSS_SELECTOR, "#choose-survey option")]
    assert len(labels) == 2 and "version replaced on" not in labels[0]
    Select(chromium.find_element(By.ID, "choose-survey")).select_by_index(1)
    assert not chromium.find_element(By.ID, "paper-link").is_displayed()
    chromium.find_element(By.CSS_SELECTOR, "#choose button[type=submit]").click()
    wait(chromium, lambda d: "Did you feel safe?" in text_of(d, "questions"))
    assert "Did you feel safe here?" not in text_of(chromium, "questions")
    chromium.find_element(By.CSS_SELECTOR, 'input[name="consent"][value="yes"]').click()
    chromium.find_element(By.CSS_SELECTOR, 'input[name="felt_safe"][value="no"]').click()
    chromium.find_element(By.ID, "save").click()
    wait(chromium, lambda d: "Sealed and saved" in text_of(d, "outcome"))
    assert [record["version"] for record in queued(chromium)] == [old_version]

    network(chromium, online=True)
    wait(chromium, lambda d: "0 sealed responses" in text_of(d, "status-queue"), timeout=40)
    (opened,) = read_back(live.app, deployment.programme_id, "minimal")
    assert isinstance(opened, OpenedResponse), opened
    assert opened.survey_version == old_version
    assert opened.answers == {"consent": "yes", "felt_safe": "no"}

    # Once the retired-key grace (90 days by default) has passed since the device saw it
    # replaced, the version is forgotten.
    chromium.execute_async_script(AGE_KEPT_VERSIONS, 91)
    chromium.refresh()
    wait(chromium, lambda d: "Short feedback" in text_of(d, "choose-survey"))
    assert "version replaced on" not in text_of(chromium, "choose-survey")
    assert len(chromium.find_elements(By.CSS_SELECTOR, "#choose-survey option")) == 1


AGE_KEPT_VERSIONS = """
const [days, done] = arguments;
(async () => {
  const cache = await caches.open("offline-versions");
  const url = new URL("kept-versions.json", location.href).href;
  const kept = await (await cache.match(url)).json();
  const aged = kept.map((k) => (k.replaced ? { ...k, replaced: k.replaced - days * 86400000 } : k));
  await cache.put(url, new Response(JSON.stringify(aged)));
})().then(() => done(true), (e) => done(String(e)));
"""
