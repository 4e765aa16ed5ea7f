"""Every message an answer check can give is in the catalogue, so respondents read it translated."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TypeVar

from babel.messages.pofile import read_po

from survey_app.definitions import answers, types
from survey_app.web.answering import ANSWER_MESSAGES

T = TypeVar("T")

CATALOGUE = Path(__file__).resolve().parent.parent / "survey_app" / "translations" / "messages.pot"


def all_subclasses(cls: type[T]) -> set[type[T]]:
    """The application's subclasses (a test may define its own, untranslated, question type)."""
    found = {sub for sub in cls.__subclasses__() if sub.__module__.startswith("survey_app.")}
    for sub in list(found):
        found |= all_subclasses(sub)
    return found


# Where answers are checked: the shared rules, and each question type's own checks.
CHECKING_MODULES = [
    Path(answers.__file__),
    *sorted(Path(types.__file__).parent.glob("*.py")),
]


def explicit_messages() -> set[str]:
    """Messages passed when raising, e.g. NotANumber(question.id, "Please enter a whole number...")."""
    names = {c.__name__ for c in all_subclasses(answers.InvalidAnswer)}
    found: set[str] = set()
    nodes = [
        node
        for path in CHECKING_MODULES
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
    ]
    for node in nodes:
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) in names
            and len(node.args) > 1
        ):
            message = node.args[1]
            if isinstance(message, ast.Constant) and isinstance(message.value, str):
                found.add(message.value)
    return found


def test_every_answer_message_is_listed_and_extracted() -> None:
    templates = {answers.InvalidAnswer.template} | {
        c.template for c in all_subclasses(answers.InvalidAnswer)
    }
    templates |= explicit_messages()
    assert "Please enter a whole number, using digits." in templates
    assert templates <= set(ANSWER_MESSAGES)
    with CATALOGUE.open("rb") as handle:
        catalogue = {message.id for message in read_po(handle) if message.id}
    assert set(ANSWER_MESSAGES) <= catalogue
