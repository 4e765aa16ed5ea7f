"""The consent question: "Yes, I agree" or "No, I do not want to take part"; a "no" ends the
survey. Always asked, on the first page, and at most once (definitions.validation)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from survey_app.definitions.schema import NO, YES, Question
from survey_app.definitions.types.base import BASE_KEYS
from survey_app.definitions.types.registry import register
from survey_app.definitions.types.yesno import YesOrNo


@register
class Consent(YesOrNo):
    """Always asked and always answered yes or no; a "no" ends the survey. Not reported: only
    those who agreed have answers."""

    name = "consent"
    browser_reading = "c"
    keys = BASE_KEYS
    template = "questions/consent.html"
    tally = None
    export = None
    xlsform_types = ()  # `acknowledge` is settled by the importer
    builtin_options: ClassVar[Mapping[str, str]] = {YES: "agree", NO: "disagree"}

    def sample(
        self, question: Question, rng: random.Random, options: Sequence[str]
    ) -> dict[str, Any]:
        return {question.id: YES}  # made-up respondents all agree: the rest is then asked
