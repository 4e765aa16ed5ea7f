"""The survey definition as the rest of the application sees it.

Everything here is immutable and already validated: the loader is the only way to build a
`Survey`, and it refuses files with problems. See docs/survey-format.md for the file format.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from survey_app.definitions.expressions import Expression
from survey_app.definitions.media import MediaFile
from survey_app.messages import INTERFACE_LANGUAGES

if TYPE_CHECKING:
    from survey_app.definitions.types.base import QuestionKind

ChoiceExtra = str | int | float | bool
Bound = int | float | str


class QuestionType(StrEnum):
    """The built-in question types; what each means is its class in definitions/types/."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    RATING = "rating"
    YESNO = "yesno"
    TEXT = "text"
    LONGTEXT = "longtext"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    NOTE = "note"
    CONSENT = "consent"


class DatePrecision(StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"

    @property
    def iso_length(self) -> int:
        """Length of an ISO date string at this precision: 2026-11-28, 2026-11, 2026."""
        return {"day": 10, "month": 7, "year": 4}[self.value]


class Direction(StrEnum):
    LTR = "ltr"
    RTL = "rtl"


YES = "yes"
NO = "no"
OTHER = "other"


@dataclass(frozen=True)
class LocalisedText:
    """Text shown to people, in each language the survey was written in."""

    translations: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, texts: Mapping[str, str]) -> LocalisedText:
        # Sorted, so the same texts compare equal however the file ordered them.
        return cls(tuple(sorted(texts.items())))

    def get(self, lang: str, default_lang: str) -> str:
        """The text in `lang`, else in `default_lang`, else in any language written."""
        texts = self.as_dict()
        if lang in texts:
            return texts[lang]
        if default_lang in texts:
            return texts[default_lang]
        return self.translations[0][1] if self.translations else ""

    def languages(self) -> frozenset[str]:
        return frozenset(code for code, _ in self.translations)

    def as_dict(self) -> dict[str, str]:
        return dict(self.translations)


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    direction: Direction


@dataclass(frozen=True)
class Choice:
    value: str
    label: LocalisedText
    # Extra keys of an option, e.g. `country = "ke"`: the bare names of a choice_filter.
    extras: tuple[tuple[str, ChoiceExtra], ...] = ()
    # A picture shown beside the option (a file of the survey's media folder, per language).
    image: LocalisedText | None = None
    audio: LocalisedText | None = None  # a sound read out beside it

    def filter_names(self) -> dict[str, ChoiceExtra]:
        """The names a choice_filter expression sees when it is evaluated for this option."""
        return {**dict(self.extras), "value": self.value}


@dataclass(frozen=True)
class ScaleLabels:
    low: LocalisedText | None = None
    high: LocalisedText | None = None


@dataclass(frozen=True)
class Question:
    id: str
    type: str  # a registered type's name (a QuestionType for the built-in ones)
    label: LocalisedText
    hint: LocalisedText | None = None
    required: bool = False
    prefer_not_to_say: bool = False
    disaggregate: bool = False
    relevant: Expression | None = None
    constraint: Expression | None = None
    constraint_message: LocalisedText | None = None
    # A picture shown with the label (a file of the survey's media folder, per language).
    image: LocalisedText | None = None
    audio: LocalisedText | None = None  # the question read out, for people who read little
    # single, multiple and rating: the options in order (a rating with `scale` gets 1..scale).
    choices: tuple[Choice, ...] = ()
    choice_list: str | None = None  # name of the shared [choices.*] list, None when inline
    choice_filter: Expression | None = None
    other: bool = False
    # rating
    scale: int | None = None
    scale_labels: ScaleLabels | None = None
    faces: bool = False
    # text and longtext
    max_length: int | None = None
    # integer, decimal (numbers) and date (ISO strings)
    min: Bound | None = None
    max: Bound | None = None
    precision: DatePrecision | None = None
    # A question of a repeated page: the id written in the file (this one is `<id>__<n>`),
    # and its label as written, for what counts all repetitions together.
    repeat_of: str | None = None
    repeat_label: LocalisedText | None = None
    # What the type means, from the registry (definitions/types); an unknown type raises.
    kind: QuestionKind = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from survey_app.definitions.types import kind_of  # the types import this module

        object.__setattr__(self, "kind", kind_of(self.type))

    @property
    def has_answer(self) -> bool:
        return self.kind.answered

    @property
    def other_id(self) -> str | None:
        """Answer key of the free text that goes with the "Other" option, if offered."""
        return f"{self.id}_{OTHER}" if self.other else None

    def answer_keys(self) -> tuple[str, ...]:
        """Every key this question can add to the answers."""
        if not self.has_answer:
            return ()
        return (self.id,) if self.other_id is None else (self.id, self.other_id)

    def choice_values(self) -> tuple[str, ...]:
        """Values a survivor can pick (without "prefer not to say")."""
        return self.kind.choice_values(self)

    def scale_values(self) -> tuple[int, ...]:
        """The points of a rating scale, low to high in the order written."""
        return tuple(int(choice.value) for choice in self.choices)


@dataclass(frozen=True)
class Repetition:
    """Where a page stands in a repeated page: the n-th of its repetitions."""

    group: str  # the repeated page's id as written in the file (this page is `<group>__<n>`)
    index: int  # 1, 2, ...
    count: int  # how many repetitions there are, or at most (an answered count)
    answered: bool  # the count is an earlier answer, so fewer may be asked
    choice: LocalisedText | None = None  # repeat_over: the label of this repetition's option
    by_repetition: bool = False  # reports add a table for each repetition


@dataclass(frozen=True)
class Page:
    id: str
    questions: tuple[Question, ...]
    title: LocalisedText | None = None
    intro: LocalisedText | None = None
    relevant: Expression | None = None
    repetition: Repetition | None = None


@dataclass(frozen=True)
class Indicator:
    id: str
    label: LocalisedText
    numerator: Expression
    denominator: Expression
    target: float | None = None


class UnknownQuestion(KeyError):
    def __init__(self, survey_id: str, question_id: str) -> None:
        super().__init__(f"survey '{survey_id}' has no question '{question_id}'")
        self.survey_id = survey_id
        self.question_id = question_id

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True, eq=False)
class Survey:
    """One version of a survey. Two Survey objects are equal when their content is."""

    id: str
    version: str  # first 12 hex digits of SHA-256 of canonical_json
    canonical_json: str  # the whole definition; load_survey_json() rebuilds this Survey
    title: LocalisedText
    default_language: str
    languages: tuple[Language, ...]
    pages: tuple[Page, ...]
    choice_lists: Mapping[str, tuple[Choice, ...]] = field(default_factory=dict)
    indicators: tuple[Indicator, ...] = ()
    # Values computed from the answers, which labels and hints insert as `${name}`.
    calculations: Mapping[str, Expression] = field(default_factory=dict)
    description: LocalisedText | None = None
    # The language of the app's own words (buttons, messages) for a survey language the app is
    # not translated into; None: the default language if the app speaks it, else English.
    interface_fallback: str | None = None
    # The pictures and sounds the survey shows, checked when its file was loaded, by file name; empty for
    # a version rebuilt from the database, which shows its text only.
    media: Mapping[str, MediaFile] = field(default_factory=dict, compare=False)
    _questions: dict[str, Question] = field(init=False, repr=False)
    _pages_by_question: dict[str, Page] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        questions: dict[str, Question] = {}
        pages: dict[str, Page] = {}
        for page in self.pages:
            for question in page.questions:
                questions.setdefault(question.id, question)
                pages.setdefault(question.id, page)
        object.__setattr__(self, "_questions", questions)
        object.__setattr__(self, "_pages_by_question", pages)

    @property
    def interface_language(self) -> str:
        """The language buttons and messages are shown in when the app is not translated into
        the survey language the respondent chose (a note on the page says so)."""
        if self.interface_fallback is not None:
            return self.interface_fallback
        default = self.default_language.split("-")[0].lower()
        return default if default in INTERFACE_LANGUAGES else "en"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Survey):
            return NotImplemented
        return self.canonical_json == other.canonical_json

    def __hash__(self) -> int:
        return hash(self.canonical_json)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # Compiled expressions cannot be pickled; the canonical JSON rebuilds everything, so a
        # Survey can still be sent to worker processes.
        return (_survey_from_json, (self.canonical_json,))

    def questions(self) -> tuple[Question, ...]:
        """All questions, notes included, in the order they are asked."""
        return tuple(self._questions.values())

    def iter_questions(self) -> Iterator[tuple[Page, Question]]:
        for page in self.pages:
            for question in page.questions:
                yield page, question

    def question(self, question_id: str) -> Question:
        try:
            return self._questions[question_id]
        except KeyError:
            raise UnknownQuestion(self.id, question_id) from None

    def has_question(self, question_id: str) -> bool:
        return question_id in self._questions

    def page_of(self, question_id: str) -> Page:
        try:
            return self._pages_by_question[question_id]
        except KeyError:
            raise UnknownQuestion(self.id, question_id) from None

    def disaggregation_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self._questions.values() if q.disaggregate)

    def consent_question(self) -> Question | None:
        return next((q for q in self._questions.values() if q.type is QuestionType.CONSENT), None)

    @property
    def language_codes(self) -> tuple[str, ...]:
        return tuple(language.code for language in self.languages)

    def language(self, code: str | None) -> Language:
        """The declared language for `code`, or the default language when it is not offered."""
        by_code = {language.code: language for language in self.languages}
        if code is not None and code in by_code:
            return by_code[code]
        return by_code[self.default_language]

    def text(self, localised: LocalisedText | None, lang: str) -> str:
        """Localised text in `lang`, falling back to the survey's default language."""
        if localised is None:
            return ""
        return localised.get(lang, self.default_language)

    def untranslated(self, page: Page, lang: str) -> bool:
        """Whether some text of `page` has no `lang` version and falls back to another
        language (a survey may be served before every translation is written)."""
        texts: list[LocalisedText | None] = [page.title, page.intro]
        for question in page.questions:
            texts += [question.label, question.hint, question.constraint_message]
            texts += [choice.label for choice in question.choices]
        return any(
            text is not None and text.translations and lang not in text.languages()
            for text in texts
        )


def _survey_from_json(canonical_json: str) -> Survey:
    from survey_app.definitions.loader import load_survey_json  # the loader imports this module

    return load_survey_json(canonical_json)
