"""Free-text redaction: recall and precision on the test set, and speed against a plain regex.

Runs the redaction analysts get (``reports.redaction.Redactor``) over the committed test set
(``tests/fixtures/redaction``: 144 answers with 281 labelled personal details, 76 ordinary
answers) twice: with default settings (no names configured, no phone region) and with the
programme's configured names (``names.json``). Prints, for each:

* recall per kind of detail (a detail counts when all its letters and digits were replaced);
* precision per placeholder and overall (a replacement counts as right when it covers part of
  a labelled detail), and how many ordinary answers came out unchanged;

then the same with configured names on a held-out set (``holdout*.jsonl``: 30 answers with 63
details, 15 ordinary answers) written after the recognisers were tuned and never tuned on, to
show how far the figures carry to answers the rules were not fitted to (no target: a figure);
then the time to redact 10,000 answers, against a plain regex baseline (e-mails, links and runs
of digits replaced with ``re.sub``, nothing else) timed in the same run on the same answers.

and the slowest of a few 2,000-character answers written to stall the page (long runs of what
each recogniser looks at).

Targets: with configured names, recall at least 95% on every kind but unlisted names, and
precision at least 90%. Recall on unlisted names is reported as a figure.

    .venv/bin/python benchmarks/redaction.py [--misses]

``--misses`` lists every detail missed and every wrong replacement. Exits 1 if a target is missed.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from survey_app.reports.redaction import Redactor  # noqa: E402
from tests.support.redaction_cases import (  # noqa: E402
    Case,
    Score,
    configured_names,
    held_out_cases,
    ordinary_cases,
    personal_cases,
    score,
)

RECALL_TARGET = 0.95
PRECISION_TARGET = 0.90
TIMED_ANSWERS = 10_000

_BASELINE = [
    (re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+"), "[email]"),
    (re.compile(r"(?:https?://|www\.)\S+"), "[link]"),
    (re.compile(r"\+?\d[\d \-./()]{6,}\d"), "[number]"),
]


def baseline(text: str) -> str:
    """A plain regex redaction: what a first attempt would do."""
    for pattern, label in _BASELINE:
        text = pattern.sub(label, text)
    return text


def evaluate(redact: Callable[[str], str], cases: Sequence[Case]) -> Score:
    return score(cases, [redact(case.text) for case in cases])


def print_score(title: str, result: Score, show_misses: bool) -> None:
    print(f"\n{title}")
    print(f"  {'kind':<18}{'found':>7}{'of':>6}{'recall':>9}")
    for kind in result.kinds():
        recall = result.recall(kind)
        print(f"  {kind:<18}{result.found[kind]:>7}{result.total[kind]:>6}{recall:>9.1%}")
    found, total = sum(result.found.values()), sum(result.total.values())
    print(f"  {'all details':<18}{found:>7}{total:>6}{found / total:>9.1%}")
    print(f"  {'placeholder':<18}{'right':>7}{'of':>6}{'precision':>10}")
    for label in sorted(result.replaced):
        right, replaced = result.right[label], result.replaced[label]
        print(f"  [{label}]{'':<{16 - len(label)}}{right:>7}{replaced:>6}{right / replaced:>10.1%}")
    right, replaced = sum(result.right.values()), sum(result.replaced.values())
    print(f"  {'all replacements':<18}{right:>7}{replaced:>6}{result.precision():>10.1%}")
    print(f"  ordinary answers unchanged: {result.ordinary_kept} of {result.ordinary_total}")
    if result.unreadable:
        print(f"  outputs not read back: {result.unreadable}")
    if show_misses:
        for case_id, kind, span in result.missed:
            print(f"    missed  {case_id:<7} {kind:<16} {span}")
        for case_id, text in result.wrong:
            print(f"    wrong   {case_id:<7} {text}")


def misses_targets(result: Score) -> list[str]:
    problems = [
        f"recall on {kind} {result.recall(kind):.1%} < {RECALL_TARGET:.0%}"
        for kind in result.kinds()
        if kind != "name (unlisted)" and result.recall(kind) < RECALL_TARGET
    ]
    if result.precision() < PRECISION_TARGET:
        problems.append(f"precision {result.precision():.1%} < {PRECISION_TARGET:.0%}")
    return problems


def timed(redact: Callable[[str], str], texts: Sequence[str]) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for text in texts:
            redact(text)
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: Sequence[str]) -> int:
    show_misses = "--misses" in argv
    cases = personal_cases() + ordinary_cases()
    default = Redactor([], None)
    configured = Redactor(configured_names(), None)
    print_score(
        "Default settings (no names configured)", evaluate(default.redact, cases), show_misses
    )
    with_names = evaluate(configured.redact, cases)
    print_score("With the programme's configured names", with_names, show_misses)
    print_score("Plain regex baseline", evaluate(baseline, cases), False)
    print_score(
        "Held-out set (written after tuning, never tuned on), with configured names",
        evaluate(configured.redact, held_out_cases()),
        show_misses,
    )

    texts = [cases[i % len(cases)].text for i in range(TIMED_ANSWERS)]
    plain = timed(baseline, texts)
    ours = timed(configured.redact, texts)
    print(
        f"\nRedacting {TIMED_ANSWERS:,} answers (best of 3): plain regex {plain:.2f} s, "
        f"redaction with configured names {ours:.2f} s ({ours / plain:.1f}x the plain regex, "
        f"{ours / TIMED_ANSWERS * 1e3:.2f} ms an answer)"
    )
    # Answers written to stall the analyst's page: the longest a respondent may send (2,000
    # characters), made of what each recogniser looks at, over and over.
    stalling = {
        text[:2000]
        for text in (
            "12-" * 700,
            "1/" * 1000,
            "1 " * 1000,
            "+1 " * 700,
            "(1) " * 500,
            "a." * 1000,
            "a@" * 1000,
            "x dot " * 350,
            "amina at " * 230,
            "Amina " * 340,
            "Abc " * 500,
            "AB 12 " * 340,
            "12 Rue " * 290,
            "one two " * 250,
            "@a_" * 700,
            "محمد " * 400,
        )
    }
    worst = max(timed(configured.redact, [text]) for text in stalling)
    worst_plain = max(timed(baseline, [text]) for text in stalling)
    print(
        f"Slowest of {len(stalling)} answers of 2,000 characters written to stall it: "
        f"{worst * 1e3:.0f} ms (plain regex {worst_plain * 1e3:.1f} ms)"
    )
    problems = misses_targets(with_names)
    for problem in problems:
        print(f"TARGET MISSED: {problem}")
    if not problems:
        print("Targets met: recall >= 95% on every kind but unlisted names, precision >= 90%.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
