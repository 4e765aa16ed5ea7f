"""Yes or no: two options the app itself words (and the base of the consent question)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from survey_app.definitions.schema import NO, YES, Question
from survey_app.definitions.types.base import (
    ANSWERED_KEYS,
    BASE_KEYS,
    Export,
    Layout,
    PickOne,
    SurveyReader,
    Tally,
)
from survey_app.definitions.types.registry import register


class YesOrNo(PickOne):
    layout = Layout.OPTIONS
    widest_answer = 0

    def load(
        self, reader: SurveyReader, table: dict[str, Any], where: str
    ) -> dict[str, Any] | None:
        return {}

    def choice_values(self, question: Question) -> tuple[str, ...]:
        return (YES, NO)


@register
class YesNo(YesOrNo):
    name = "yesno"
    browser_reading = "c"
    keys = BASE_KEYS + ANSWERED_KEYS + ("disaggregate",)
    template = "questions/yesno.html"
    tally = Tally.CHOICE
    export = Export.LISTED
    xlsform_types = ()
    breakdown = True
    builtin_options: ClassVar[Mapping[str, str]] = {YES: "yes", NO: "no"}
