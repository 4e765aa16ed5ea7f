"""Question types, each declared once: see `base.QuestionKind` and docs/question-types.md.

Importing this package registers the built-in types, in the order they are listed to people.
"""

from survey_app.definitions.types import (  # noqa: F401 - each module registers its types
    choices,
    consent,
    date,
    note,
    numbers,
    rating,
    text,
    yesno,
)
from survey_app.definitions.types.base import Export, Layout, QuestionKind, Tally
from survey_app.definitions.types.registry import (
    DuplicateQuestionType,
    IncompleteQuestionType,
    QuestionTypeError,
    UnknownQuestionType,
    kind_of,
    kinds,
    names,
    register,
    unregister,
)

__all__ = [
    "DuplicateQuestionType",
    "Export",
    "IncompleteQuestionType",
    "Layout",
    "QuestionKind",
    "QuestionTypeError",
    "Tally",
    "UnknownQuestionType",
    "kind_of",
    "kinds",
    "names",
    "register",
    "unregister",
]
