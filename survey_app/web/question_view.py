"""What the shared question template (templates/questions/question.html) needs to draw the
questions of one page in one front end: the respondent's page, assisted entry or paper.

Every front end draws a question with the same macro of its type (definitions/types), so what
a type shows cannot differ between them; the view says only what differs by front end: whose
language, which words, which answers and messages, which options a choice_filter leaves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from flask import url_for
from markupsafe import Markup, escape

from ..definitions import Choice, LocalisedText, Question, Survey
from ..definitions import answers as rules
from ..definitions.expressions import Expression
from .conditions import ConditionWords
from .words import builtin_words

PREFER_NOT_TO_SAY = rules.PREFER_NOT_TO_SAY


class FrontEnd(StrEnum):
    RESPOND = "respond"  # a respondent, one page at a time
    ASSIST = "assist"  # a caseworker typing a survivor's answers: both languages
    PAPER = "paper"  # printed: boxes to tick and lines to write on


@dataclass(frozen=True)
class QuestionView:
    mode: FrontEnd
    survey: Survey
    lang: str  # the language the questions are asked in
    words: Mapping[str, str]  # the app's words in `lang`
    values: Mapping[str, list[str]] = field(default_factory=dict)  # as the form last held them
    errors: Mapping[str, str] = field(default_factory=dict)
    choices: Mapping[str, Sequence[Choice]] = field(default_factory=dict)  # after choice_filter
    max_text: int = 0
    # Assisted entry: the caseworker's language and words, shown beside the survivor's.
    staff_lang: str = ""
    staff_words: Mapping[str, str] = field(default_factory=dict)
    conditions: ConditionWords | None = None  # skip logic in words (assisted entry, paper)
    # Assisted entry: the questions whose condition is told beside them (it depends on their
    # own section; a condition on an earlier section was applied already). None: every one.
    conditions_shown: frozenset[str] | None = None

    @classmethod
    def respondent(
        cls,
        survey: Survey,
        lang: str,
        values: Mapping[str, list[str]],
        errors: Mapping[str, str],
        choices: Mapping[str, Sequence[Choice]],
        max_text: int,
    ) -> QuestionView:
        return cls(
            FrontEnd.RESPOND, survey, lang, builtin_words(), values, errors, choices, max_text
        )

    # The survey's text and the app's words as a question shows them: in the question's
    # language, and in assisted entry with the caseworker's beside it when that differs.
    # (Python rather than template macros: a page draws them for every option it shows.)

    def t(self, localised: LocalisedText | None) -> Markup:
        """The survey's text."""
        theirs = self.survey.text(localised, self.lang)
        if not self.assisted:
            return escape(theirs)
        mine = self.survey.text(localised, self.staff_lang)
        return self._beside(theirs, mine, bool(mine) and mine != theirs)

    def w(self, key: str) -> Markup:
        """One of the app's words (`survey_app.web.words`)."""
        theirs = self.words[key]
        if not self.assisted:
            return escape(theirs)
        mine = self.staff_words[key]
        return self._beside(theirs, mine, mine != theirs)

    def image(self, picture: LocalisedText | None, label: LocalisedText | None) -> Markup:
        """The picture in the question's language, drawn at its size once it is in view;
        nothing on paper, or when the survey's file did not name a checked picture."""
        if picture is None or self.paper:
            return Markup("")
        media = self.survey.media.get(self.survey.text(picture, self.lang))
        if media is None:
            return Markup("")
        return Markup(
            '<img class="picture" src="{}" alt="{}" width="{}" height="{}" loading="lazy">'
        ).format(
            url_for("media.picture", survey_id=self.survey.id, name=media.name, v=media.digest),
            self.survey.text(label, self.lang) if label is not None else "",
            media.width,
            media.height,
        )

    def audio(self, sound: LocalisedText | None, label: LocalisedText | None) -> Markup:
        """A player for the sound in the question's language, fetched only when played."""
        if sound is None or self.paper:
            return Markup("")
        media = self.survey.media.get(self.survey.text(sound, self.lang))
        if media is None:
            return Markup("")
        return Markup(
            '<audio class="sound" controls preload="none" src="{}" aria-label="{}"></audio>'
        ).format(
            url_for("media.picture", survey_id=self.survey.id, name=media.name, v=media.digest),
            self.survey.text(label, self.lang) if label is not None else "",
        )

    def choice_label(self, choice: Choice) -> Markup:
        label = self.t(choice.label) if choice.label.translations else Markup("")
        return label or escape(choice.value)

    def _beside(self, theirs: str, mine: str, show_mine: bool) -> Markup:
        shown = Markup('<span lang="{}">{}</span>').format(self.lang, theirs)
        if show_mine:
            shown += Markup(' <span class="staff-text" lang="{}" dir="auto">{}</span>').format(
                self.staff_lang, mine
            )
        return shown

    @property
    def assisted(self) -> bool:
        return self.mode is FrontEnd.ASSIST

    @property
    def paper(self) -> bool:
        return self.mode is FrontEnd.PAPER

    def options(self, question: Question) -> Sequence[Choice]:
        return self.choices.get(question.id, question.choices)

    def chosen(self, question: Question) -> list[str]:
        return self.values.get(question.id, [])

    def current(self, question: Question) -> str:
        """The text to put back in a typed answer's input."""
        value = (self.chosen(question) or [""])[0]
        return "" if value == PREFER_NOT_TO_SAY else value

    def other_text(self, question: Question) -> str:
        return (self.values.get(f"{question.id}_other") or [""])[0]

    def condition(self, question: Question) -> Expression | None:
        """The condition to tell beside the question in assisted entry, if any."""
        if not self.assisted or question.relevant is None:
            return None
        if self.conditions_shown is not None and question.id not in self.conditions_shown:
            return None
        return question.relevant

    def has_hint(self, question: Question) -> bool:
        # In assisted entry the condition of a question is told with its hint.
        return question.hint is not None or self.condition(question) is not None

    def described_by(self, question: Question) -> str:
        """The ids of the hint and error that describe the question's inputs."""
        ids = [f"{question.id}-hint"] if self.has_hint(question) else []
        if question.id in self.errors:
            ids.append(f"{question.id}-error")
        return " ".join(ids)
