"""No page says that nothing was stored unless that is known.

A page shown after an error, an expired draft or a second copy of a form cannot know whether
answers sent earlier were stored, so it must not say they were not. The sayings below are the
only ones allowed, each on a page where it is known: consent was declined, so nothing was sent.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.apps import ROOT

PACKAGE = ROOT / "survey_app"
NOTHING_STORED = re.compile(
    r"nothing[^.\"]{0,40}\b(?:stored|saved|kept|sent|received)|"
    r"(?:not|never) (?:been )?(?:stored|saved|sent|received)",
    re.IGNORECASE,
)
KNOWN_TRUE = {
    # respond/declined.html and assist/next.html: consent declined, no response was made.
    "Nothing has been saved. You can still get support at any time.",
    "Nothing was stored",
    # The code was refused and this request's transaction stored nothing.
    "This code has already been used. Your answers were not sent.",
    # respond/closed.html, shown only when this request opened the unfinished draft and deleted it.
    "It closed while you were answering. Your answers were not sent, and they have been deleted.",
    # respond/busy.html: the rate limit refused the finish; the draft was stored again, unsent.
    "Your answers are kept in this page until then. They have not been sent yet.",
    # About pages and codes, not about answers sent.
    "Your answers stay only in this page until you send them. If you close it or leave, nothing is kept and you start again from here.",
    "Nothing is kept: when you leave the page, the answers are gone. Reading them is recorded in the audit log.",
    "Print this page now: the codes are not stored and cannot be shown again.",
    # Assisted entry's review page: Save has not been pressed, the draft is all there is.
    "Nothing is saved yet: the answers are kept only in this page until you save them.",
    # Assisted entry's page for a form that opens nothing: it says when something was saved.
    "Nothing was saved unless you saw “Saved”.",
    # The offline page (static/offline/page.js): consent declined, the answers are forgotten
    # before anything is sealed or queued.
    "The survivor declined: nothing was saved.",
    # Staff preview (web/preview.py): it has no way to store anything (tests/test_preview.py).
    "Preview: you see the survey as respondents do. Nothing you enter is stored.",
    "A respondent would now see “Thank you” and their answers would be sealed and stored. In this preview nothing was stored: there is no draft, no response and nothing in any report.",
}


def sayings() -> list[tuple[Path, str]]:
    found = []
    for path in [*PACKAGE.rglob("*.html"), *PACKAGE.rglob("*.py")]:
        for message in re.findall(r'_\(\s*"((?:[^"\\]|\\.)*)"', path.read_text(encoding="utf-8")):
            if NOTHING_STORED.search(message):
                found.append((path.relative_to(ROOT), message))
    return found


def test_only_pages_that_know_say_nothing_was_stored() -> None:
    unknown = [(str(path), message) for path, message in sayings() if message not in KNOWN_TRUE]
    assert unknown == []


def test_the_scan_finds_such_sayings() -> None:
    messages = {message for _path, message in sayings()}
    assert "Nothing has been saved. You can still get support at any time." in messages
    assert NOTHING_STORED.search("Something went wrong. Nothing you entered was stored.")
