"""What a question type is: everything the application needs to know about one type, in one class.

A type says how its keys are read from a survey file, which XLSForm types become it, how an
answer is read and checked, which template draws it (for respondents, assisted entry and paper
alike), how reports count it, how microdata writes it and how sample data makes one. The
registry (`registry.py`) refuses a type that leaves any of this out, when it is registered; the
app refuses at start a type whose template is missing. docs/question-types.md says how to add one.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from survey_app.definitions.answers import PREFER_NOT_TO_SAY, TooManyAnswers, UnknownChoice

if TYPE_CHECKING:
    from survey_app.definitions.expressions import Expression
    from survey_app.definitions.schema import Choice, LocalisedText, Question

# Where the built-in types' templates are; a type defined elsewhere names its own folder.
APP_TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"

# Keys of every question, and those of every question that has an answer.
BASE_KEYS = ("id", "type", "label", "hint", "image", "audio")
ANSWERED_KEYS = ("relevant", "required", "prefer_not_to_say", "constraint", "constraint_message")
CHOICE_KEYS = ("disaggregate", "choices", "choice_filter", "other")


class Layout(StrEnum):
    """How the shared question template frames the type's widget."""

    NOTE = "note"  # text only: nothing to answer
    OPTIONS = "options"  # options to pick: a fieldset whose legend is the label
    FIELD = "field"  # one input named by a label


class Tally(StrEnum):
    """How reports count the answers (the values of reports.plan.VariableKind)."""

    CHOICE = "choice"  # one answer out of a list: each answer is a row
    MULTIPLE = "multiple"  # any number of options, each counted on its own
    NUMBER = "number"  # how many answered, and a numeric summary
    DATE = "date"  # only how many answered: rows made of the values would come from the data
    TEXT = "text"  # free text: only how many answered, never what


class Export(StrEnum):
    """How microdata writes an answer."""

    LISTED = "listed"  # an option of the survey; anything else is written "(other values)"
    AS_GIVEN = "as given"  # numbers, dates, times: written as stored
    FREE_TEXT = "free text"  # redacted, withheld whole when fewer than k answered; never counted


class SurveyReader(Protocol):
    """What the survey file loader offers a type to read its own keys (loader._Builder)."""

    default_language: str

    def report(self, location: str | None, message: str) -> None: ...

    def flag(self, table: Mapping[str, Any], key: str, where: str) -> bool: ...

    def whole(
        self, table: Mapping[str, Any], key: str, where: str, low: int, high: int
    ) -> int | None: ...

    def number(
        self, table: Mapping[str, Any], key: str, where: str, *, whole: bool
    ) -> int | float | None: ...

    def iso_date(self, table: Mapping[str, Any], key: str, where: str) -> str | None: ...

    def string(self, table: Mapping[str, Any], key: str, where: str | None) -> str | None: ...

    def table(self, raw: Any, where: str | None, what: str) -> dict[str, Any] | None: ...

    def keys(
        self,
        table: Mapping[str, Any],
        where: str | None,
        allowed: Sequence[str],
        *,
        required: Sequence[str],
    ) -> None: ...

    def localised(
        self, table: Mapping[str, Any], key: str, where: str | None, prefix: str = ""
    ) -> LocalisedText | None: ...

    def expression(
        self, table: Mapping[str, Any], key: str, where: str, *, bare_names: bool = False
    ) -> Expression | None: ...

    def question_choices(
        self, table: dict[str, Any], where: str
    ) -> tuple[tuple[Choice, ...], str | None] | None: ...


class QuestionKind:
    """One question type. Subclass it, fill in every declaration, and `register` the class.

    Class attributes without a default and the methods that raise NotImplementedError here must
    be given by each type: the registry checks, so a type cannot be half added.
    """

    # --- declarations every type makes -------------------------------------------------------
    name: ClassVar[str]  # the `type` written in a survey file
    keys: ClassVar[tuple[str, ...]]  # every key a question of this type may have
    layout: ClassVar[Layout]
    template: ClassVar[str]  # Jinja template defining `widget(q, view)`
    tally: ClassVar[Tally | None]  # None: not in reports (a note, the consent question)
    export: ClassVar[Export | None]  # None: not in microdata
    xlsform_types: ClassVar[tuple[str, ...]]  # XLSForm types read as this type, as they are
    # The longest JSON an answer other than an option can take: sealed payloads are padded to
    # a length that does not depend on the answers (see survey_app.keys.padding).
    widest_answer: ClassVar[int]

    # --- declarations with a default -------------------------------------------------------
    required_keys: ClassVar[tuple[str, ...]] = ("id", "type", "label")
    template_folder: ClassVar[Path] = APP_TEMPLATES
    answered: ClassVar[bool] = True  # False: shows text only (a note)
    many: ClassVar[bool] = False  # the answer is a list of options
    breakdown: ClassVar[bool] = False  # reports may split respondents by its answer
    # Options the app itself provides, by value, with the key of their word (web.words).
    builtin_options: ClassVar[Mapping[str, str]] = {}
    # How static/skip.js reads the field as the server would store it (see web.enhance): "c"
    # an option, "m" options, "k" a rating point, "i" / "f" a number, "t" / "l" text; None:
    # same-page skip logic that uses this question is left to the server.
    browser_reading: ClassVar[str | None] = None
    # What a FIELD question is typed in on the offline page (static/offline/form.js): an HTML
    # <input type> such as "text", "date" or "time", "textarea", or "number" (text typed with a
    # numeric keyboard). The page draws every type from `offline_widget`, none by its name.
    offline_input: ClassVar[str] = "text"

    REQUIRED: ClassVar[tuple[str, ...]] = (
        "name",
        "keys",
        "layout",
        "template",
        "tally",
        "export",
        "xlsform_types",
        "widest_answer",
    )
    REQUIRED_METHODS: ClassVar[tuple[str, ...]] = ("load", "parse", "sample")

    def __repr__(self) -> str:
        return f"<question type {self.name!r}>"

    @property
    def free_text(self) -> bool:
        return self.export is Export.FREE_TEXT

    # --- reading a survey file -------------------------------------------------------------

    def load(
        self, reader: SurveyReader, table: dict[str, Any], where: str
    ) -> dict[str, Any] | None:
        """The type's own fields of `Question`, read from the question's table; None when the
        question cannot be built (each problem reported through `reader`)."""
        raise NotImplementedError

    def browser_field(self, question: Question) -> str | None:
        """How static/skip.js reads this question's field (`browser_reading` by default)."""
        return self.browser_reading

    def offline_widget(self, question: Question) -> dict[str, Any]:
        """How the offline page draws and reads this question, sent in its cached survey."""
        return {
            "layout": self.layout.value,
            "many": self.many,
            "input": self.offline_input,
            "reading": self.browser_field(question),
            "options": [{"value": v, "word": w} for v, w in self.builtin_options.items()],
        }

    def rules(self, question: Question) -> Iterator[str]:
        """Problems of a built question that only this type has (checked with the survey)."""
        return iter(())

    # --- answers ---------------------------------------------------------------------------

    def parse(self, question: Question, values: list[str], max_text: int) -> object:
        """The stored value for what the form sent (non-empty, "prefer not to say" handled);
        raise an answers.InvalidAnswer saying what is wrong."""
        raise NotImplementedError

    def choice_values(self, question: Question) -> tuple[str, ...]:
        """Values a respondent can pick (without "prefer not to say"); () when typed."""
        return ()

    def stored_choice(self, value: str) -> object:
        """An option's value as stored in the answers (a rating keeps numbers)."""
        return value

    def padding_width(self, question: Question) -> int:
        """The longest JSON any answer to `question` can take, "prefer not to say" included."""
        values: list[Any] = [self.stored_choice(v) for v in self.choice_values(question)]
        values.append(PREFER_NOT_TO_SAY)
        return max(self.widest_answer, *(_json_length(value) for value in values))

    # --- sample data -----------------------------------------------------------------------

    def sample(
        self,
        question: Question,
        rng: random.Random,
        options: Sequence[str],
    ) -> dict[str, Any]:
        """A made-up answer (its keys and values as stored); `options` are the choice values
        the question offers given the answers so far."""
        raise NotImplementedError


class PickOne(QuestionKind):
    """A type answered by picking one of `choice_values`, stored as `stored_choice` gives it."""

    def parse(self, question: Question, values: list[str], max_text: int) -> object:
        value = one_value(question, values)
        if value not in self.choice_values(question):
            raise UnknownChoice(question.id)
        return self.stored_choice(value)

    def sample(
        self, question: Question, rng: random.Random, options: Sequence[str]
    ) -> dict[str, Any]:
        return {question.id: self.stored_choice(rng.choice(options))}


def one_value(question: Question, values: list[str]) -> str:
    """The one value sent for a question that takes one answer."""
    if len(values) > 1:
        raise TooManyAnswers(question.id)
    return values[0]


def _json_length(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
