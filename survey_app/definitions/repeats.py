"""Repeated pages: one page asked several times, each time with its own answers.

A page with `repeat_count` (a whole number, or an expression over earlier answers bounded by
`repeat_max`) or `repeat_over` (a choice list: one repetition per option, as an XLSForm
`begin loop over` does) is written once and asked as pages `<page>__1`, `<page>__2`, ...
whose questions are `<question>__1`, `<question>__2`, ...: ordinary questions, so that pages,
checks, sealing, assisted entry and paper treat each repetition as they treat any page.

Inside a repetition, `${x}` names the same repetition's answer to `x` (as `current()/../x`
does in ODK), and `position(..)` is the repetition's number; outside, a repetition's answer is
named `${x__2}`. An answered count asks
repetition n only when the count is at least n (the page's `relevant` says so).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from survey_app.definitions.expressions import POSITION_CALL, ExpressionError, Reference, parse
from survey_app.definitions.schema import Choice, LocalisedText, Repetition

SEPARATOR: Final = "__"
MAX_REPETITIONS: Final = 50
REPEAT_KEYS: Final = ("repeat_count", "repeat_max", "repeat_over", "repeat_table")
# In a page repeated over a choice list, this stands for the option's label (as in pyxform).
CHOICE_LABEL: Final = "%(label)s"
_REFERENCE: Final = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}")
_TEXT_KEYS: Final = ("label", "hint", "constraint_message", "title", "intro")
_EXPRESSION_KEYS: Final = ("relevant", "constraint", "choice_filter")


def repeated_id(question_id: str, index: int) -> str:
    return f"{question_id}{SEPARATOR}{index}"


def is_repeated(table: Mapping[str, Any]) -> bool:
    return any(key in table for key in REPEAT_KEYS)


Report = Callable[[str, str], None]


def expand(
    table: dict[str, Any],
    where: str,
    report: Report,
    earlier_questions: Mapping[str, Mapping[str, Any]],
    choice_lists: Mapping[str, tuple[Choice, ...]],
    default_language: str,
) -> list[tuple[dict[str, Any], Repetition]]:
    """The page tables of each repetition of a repeated page `table`, and where each stands.

    Problems with the repeat keys are reported; the page is then read once, as written (with
    a count of 0), so that the rest of the file is still checked.
    """
    count, answered, choices = _count(table, where, report, earlier_questions, choice_lists)
    questions = table.get("questions")
    if isinstance(questions, list) and any(
        isinstance(q, dict) and q.get("type") == "consent" for q in questions
    ):
        report(where, "a repeated page cannot hold the consent question: ask it once, first")
        count = None
    if count is None:
        plain = {k: v for k, v in table.items() if k not in REPEAT_KEYS}
        return [(plain, Repetition(str(table.get("id", "")), 1, 0, answered=False))]
    by_repetition = table.get("repeat_table", False)
    if not isinstance(by_repetition, bool):
        report(where, "repeat_table must be true or false")
        by_repetition = False
    group = str(table.get("id", ""))
    names = _answer_names(table)
    expanded: list[tuple[dict[str, Any], Repetition]] = []
    for index in range(1, count + 1):
        choice = choices[index - 1].label if choices else None
        page = _repetition(table, index, names, choice, default_language)
        if answered:
            condition = f"number({table['repeat_count']}) >= {index}"
            own = page.get("relevant")
            page["relevant"] = f"({condition}) and ({own})" if isinstance(own, str) else condition
        repetition = Repetition(group, index, count, answered, choice, by_repetition)
        expanded.append((page, repetition))
    return expanded


def _count(
    table: Mapping[str, Any],
    where: str,
    report: Report,
    earlier_questions: Mapping[str, Mapping[str, Any]],
    choice_lists: Mapping[str, tuple[Choice, ...]],
) -> tuple[int | None, bool, tuple[Choice, ...]]:
    """How many repetitions (at most), whether an answer sets it, and the options looped over."""
    raw = table.get("repeat_count")
    over = table.get("repeat_over")
    bound = table.get("repeat_max")
    if (raw is None) == (over is None):
        report(where, "a repeated page needs either repeat_count or repeat_over (not both)")
        return None, False, ()
    if bound is not None and (
        isinstance(bound, bool) or not isinstance(bound, int) or not 1 <= bound <= MAX_REPETITIONS
    ):
        report(where, f"repeat_max must be a whole number from 1 to {MAX_REPETITIONS}")
        return None, False, ()
    if over is not None:
        if bound is not None:
            report(where, "repeat_max does not apply to repeat_over: each option is one repetition")
        if not isinstance(over, str) or over not in choice_lists:
            known = ", ".join(sorted(choice_lists)) or "none defined"
            report(where, f"repeat_over: no choice list named {over!r} (lists: {known})")
            return None, False, ()
        options = choice_lists[over]
        if len(options) > MAX_REPETITIONS:
            report(where, f"repeat_over: at most {MAX_REPETITIONS} options can be repeated over")
            return None, False, ()
        return len(options), False, options
    if isinstance(raw, int) and not isinstance(raw, bool):
        if bound is not None:
            report(where, "repeat_max applies to an answered repeat_count, not a number")
        if not 1 <= raw <= MAX_REPETITIONS:
            report(where, f"repeat_count must be from 1 to {MAX_REPETITIONS}, not {raw}")
            return None, False, ()
        return raw, False, ()
    if not isinstance(raw, str):
        report(where, 'repeat_count must be a whole number or an expression like "${count}"')
        return None, False, ()
    try:
        expression = parse(raw)
    except ExpressionError as error:
        report(where, f"repeat_count: {error.message} at position {error.position}")
        return None, False, ()
    if not expression.references():
        report(where, 'repeat_count: an expression must use an earlier answer, like "${count}"')
        return None, False, ()
    ceiling: int | None = None
    if isinstance(expression.root, Reference):
        question = earlier_questions.get(expression.root.name)
        if question is None:
            report(
                where,
                f"repeat_count: ${{{expression.root.name}}} is not a question of an earlier page",
            )
            return None, False, ()
        if question.get("type") != "integer":
            report(where, f"repeat_count: ${{{expression.root.name}}} must be an integer question")
            return None, False, ()
        top = question.get("max")
        ceiling = top if isinstance(top, int) and not isinstance(top, bool) else None
        if ceiling is None:
            report(
                where,
                f"repeat_count: ${{{expression.root.name}}} has no max: give that question a "
                f"max, the most repetitions asked, so that no answer asks for more",
            )
            return None, False, ()
    if bound is None and ceiling is None:
        report(
            where,
            "repeat_count: set repeat_max, the most repetitions asked",
        )
        return None, False, ()
    if bound is not None and ceiling is not None and ceiling > bound:
        report(
            where,
            f"repeat_count: {raw} allows up to {ceiling} but repeat_max is "
            f"{bound}; give the question max = {bound} so that no answer asks for more",
        )
        return None, False, ()
    most = bound if bound is not None else ceiling
    assert most is not None
    if most > MAX_REPETITIONS:
        report(where, f"repeat_count: at most {MAX_REPETITIONS} repetitions (repeat_max)")
        return None, False, ()
    return most, True, ()


def _answer_names(table: Mapping[str, Any]) -> dict[str, str]:
    """Each answer key of the page's questions -> its id stem, e.g. `x_other` -> `x`."""
    names: dict[str, str] = {}
    questions = table.get("questions")
    if not isinstance(questions, list):
        return names
    for question in questions:
        if isinstance(question, dict) and isinstance(question.get("id"), str):
            names[question["id"]] = question["id"]
            if question.get("other") is True:
                names[f"{question['id']}_other"] = question["id"]
    return names


def _rename(name: str, names: Mapping[str, str], index: int) -> str:
    stem = names.get(name)
    if stem is None:
        return name
    return repeated_id(stem, index) + name[len(stem) :]


def _rewrite(text: str, names: Mapping[str, str], index: int) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return match.group(0) if name not in names else "${" + _rename(name, names, index) + "}"

    return _REFERENCE.sub(replace, text)


def _text(
    raw: Any, names: Mapping[str, str], index: int, choice: LocalisedText | None, default: str
) -> Any:
    if isinstance(raw, str):
        return (
            _text({default: raw}, names, index, choice, default)
            if choice
            else _rewrite(raw, names, index)
        )
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        return raw  # reported by the loader
    out: dict[str, str] = {}
    for code, text in raw.items():
        text = _rewrite(text, names, index)
        if choice is not None:
            text = text.replace(CHOICE_LABEL, choice.get(code, default))
        out[code] = text
    return out


def _repetition(
    table: Mapping[str, Any],
    index: int,
    names: Mapping[str, str],
    choice: LocalisedText | None,
    default: str,
) -> dict[str, Any]:
    page = {k: v for k, v in table.items() if k not in REPEAT_KEYS}
    page["id"] = repeated_id(str(table.get("id", "")), index)
    for key in ("title", "intro"):
        if key in page:
            page[key] = _text(page[key], names, index, choice, default)
    if isinstance(page.get("relevant"), str):
        page["relevant"] = _placed(page["relevant"], index)
    questions = table.get("questions")
    if isinstance(questions, list):
        page["questions"] = [
            _question(q, names, index, choice, default) if isinstance(q, dict) else q
            for q in questions
        ]
    return page


def _question(
    table: Mapping[str, Any],
    names: Mapping[str, str],
    index: int,
    choice: LocalisedText | None,
    default: str,
) -> dict[str, Any]:
    question = dict(table)
    if isinstance(question.get("id"), str):
        question["id"] = repeated_id(question["id"], index)
    for key in _TEXT_KEYS:
        if key in question:
            question[key] = _text(question[key], names, index, choice, default)
    for key in _EXPRESSION_KEYS:
        if isinstance(question.get(key), str):
            question[key] = _placed(_rewrite(question[key], names, index), index)
    return question


def _placed(expression: str, index: int) -> str:
    """`position(..)` (as in ODK: the repetition's number) replaced by `index`."""
    return POSITION_CALL.sub(str(index), expression)
