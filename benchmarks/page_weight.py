"""Weight of every respondent page, with everything it loads, as a first visit would fetch it.

Runs the real app on a temporary SQLite database with the example surveys, walks each survey in
each language (landing, every page, thank-you) plus the decline, expired and error pages, and
adds up the HTML and every same-origin asset the page references. Prints raw and gzip sizes
against the 20 KB budget, and the ratio to an ODK Web Forms page (~1.1 MB transferred, a
published figure, not measured here: this machine has no network).

    .venv/bin/python benchmarks/page_weight.py
"""

from __future__ import annotations

import gzip
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from survey_app import create_app, migrate  # noqa: E402
from survey_app.definitions import QuestionType, load_directory  # noqa: E402
from survey_app.state import app_state  # noqa: E402
from tests.support.apps import deploy, make_settings  # noqa: E402

BUDGET = 20 * 1024
ODK_WEB_FORMS_PAGE = 1.1 * 1024 * 1024
ASSET = re.compile(r'(?:src|href)="(/[^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
DRAFT = re.compile(r'name="draft" value="([^"]+)"')
PAGE = re.compile(r'name="page" value="(\d+)"')


def weigh(client, html: str) -> tuple[int, int, list[str]]:
    raw = len(html.encode())
    packed = len(gzip.compress(html.encode(), 6))
    assets = sorted({a for a in ASSET.findall(html) if a.startswith("/static/")})
    for asset in assets:
        reply = client.get(asset)
        body = reply.get_data()
        reply.close()
        raw += len(body)
        packed += len(gzip.compress(body, 6))
    external = [a for a in re.findall(r'(?:src|href)="(https?://[^"]+)"', html) if "tel:" not in a]
    return raw, packed, external


def main() -> int:
    rows: list[tuple[str, int, int]] = []
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(
            Path(tmp),
            f"sqlite:///{tmp}/bench.db",
            surveys_dir=str(ROOT / "surveys"),
            respondent={
                "submissions_per_client_per_minute": 1000,
                "submissions_per_minute": 10_000,
            },
        )
        app = create_app(settings)
        migrate.upgrade(app_state(app).database)
        deployment = deploy(app)
        surveys = load_directory(ROOT / "surveys").surveys

        def record(name: str, html: str) -> None:
            raw, packed, external = weigh(client, html)
            rows.append((name, raw, packed))
            if external:
                problems.append(f"{name}: loads from another site: {external}")

        for survey_id, survey in sorted(surveys.items()):
            for lang in survey.language_codes:
                client = app.test_client()
                token = deployment.links[survey_id]
                landing = client.get(f"/s/{token}").get_data(as_text=True)
                record(f"{survey_id} landing", landing)
                html = client.post(
                    f"/s/{token}",
                    data={"lang": lang, "csrf_token": CSRF.search(landing).group(1)},
                ).get_data(as_text=True)
                # Every page is the reply to a form sent to the survey's one address.
                while (page := PAGE.search(html)) is not None:
                    number = int(page.group(1))
                    record(f"{survey_id} [{lang}] page {number}", html)
                    data = {
                        "action": "next",
                        "csrf_token": CSRF.search(html).group(1),
                        "draft": DRAFT.search(html).group(1),
                        "page": str(number),
                    }
                    for question in survey.pages[number - 1].questions:
                        if question.type is QuestionType.CONSENT:
                            data[question.id] = "yes"
                    html = client.post(f"/s/{token}", data=data).get_data(as_text=True)
                record(f"{survey_id} [{lang}] thank-you", html)
        client = app.test_client()
        record("not found", client.get("/s/nope").get_data(as_text=True))
        app_state(app).database.dispose()

    width = max(len(name) for name, _, _ in rows)
    print(f"{'page':<{width}}  {'raw':>8}  {'gzip':>8}  {'of budget':>9}")
    for name, raw, packed in rows:
        print(f"{name:<{width}}  {raw:>8,}  {packed:>8,}  {packed / BUDGET:>8.0%}")
    heaviest = max(rows, key=lambda row: row[2])
    heaviest_raw = max(rows, key=lambda row: row[1])
    print(
        f"\n{len(rows)} pages; heaviest {heaviest[0]}: {heaviest[2]:,} bytes gzip "
        f"({heaviest[2] / BUDGET:.0%} of the 20 KB budget); heaviest uncompressed: {heaviest_raw[1]:,} bytes"
    )
    print(
        f"an ODK Web Forms page (~1.1 MB, published figure) is {ODK_WEB_FORMS_PAGE / heaviest[2]:.0f}x the heaviest page here"
    )
    over = [name for name, _, packed in rows if packed > BUDGET]
    for problem in problems:
        print("PROBLEM:", problem)
    if over or problems:
        print("OVER BUDGET:", ", ".join(over))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
