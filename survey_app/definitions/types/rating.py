"""A rating scale: points 1..scale (with end labels), or whole-number options; faces optional."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from survey_app.definitions.schema import Choice, LocalisedText, Question, ScaleLabels
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

MIN_SCALE, MAX_SCALE = 2, 10
FACE_SCALE_POINTS = (3, 5)


@register
class Rating(PickOne):
    name = "rating"
    browser_reading = "k"
    keys = BASE_KEYS + ANSWERED_KEYS + ("disaggregate", "choices", "scale", "scale_labels", "faces")
    layout = Layout.OPTIONS
    template = "questions/rating.html"
    tally = Tally.CHOICE
    export = Export.LISTED
    widest_answer = 0
    xlsform_types = ()  # a `range` of 1..n is settled by the importer
    breakdown = True

    def load(
        self, reader: SurveyReader, table: dict[str, Any], where: str
    ) -> dict[str, Any] | None:
        faces = reader.flag(table, "faces", where)
        if "choices" in table and "scale" in table:
            reader.report(where, "a rating uses either 'choices' or 'scale', not both")
            return None
        if "scale" in table:
            scale = reader.whole(table, "scale", where, MIN_SCALE, MAX_SCALE)
            if scale is None:
                return None
            return {
                "scale": scale,
                "choices": _scale_choices(scale, reader.default_language),
                "scale_labels": _scale_labels(reader, table, where),
                "faces": faces,
            }
        if "scale_labels" in table:
            reader.report(
                where, "scale_labels applies only with 'scale'; label each choice instead"
            )
        if "choices" not in table:
            reader.report(where, "missing required key 'scale' (or 'choices')")
            return None
        found = reader.question_choices(table, where)
        if found is None:
            return None
        choices, list_name = found
        not_whole = [c.value for c in choices if not _is_whole_number_text(c.value)]
        if not_whole:
            listed = ", ".join(f'"{value}"' for value in not_whole)
            reader.report(
                where,
                f"choices: a rating's values must be whole numbers written as text "
                f'like "1"; not {listed}',
            )
            return None
        return {"choices": choices, "choice_list": list_name, "faces": faces}

    def rules(self, question: Question) -> Iterator[str]:
        points = len(question.choices)
        if question.faces and points not in FACE_SCALE_POINTS:
            yield f"faces: face pictograms need a 3 or 5 point scale; this one has {points}"

    def choice_values(self, question: Question) -> tuple[str, ...]:
        return tuple(choice.value for choice in question.choices)

    def stored_choice(self, value: str) -> object:
        return int(value)

    def padding_width(self, question: Question) -> int:
        # The option values as text too: a scale's points are counted both ways.
        texts = max((len(value) + 2 for value in self.choice_values(question)), default=0)
        return max(texts, super().padding_width(question))


def _scale_choices(scale: int, language: str) -> tuple[Choice, ...]:
    return tuple(
        Choice(str(point), LocalisedText(((language, str(point)),)))
        for point in range(1, scale + 1)
    )


def _scale_labels(reader: SurveyReader, table: dict[str, Any], where: str) -> ScaleLabels | None:
    raw = table.get("scale_labels")
    if raw is None:
        return None
    labels = reader.table(raw, where, "scale_labels")
    if labels is None:
        return None
    reader.keys(labels, f"{where} scale_labels", ("low", "high"), required=())
    return ScaleLabels(
        low=reader.localised(labels, "low", where, prefix="scale_labels."),
        high=reader.localised(labels, "high", where, prefix="scale_labels."),
    )


def _is_whole_number_text(value: str) -> bool:
    return re.fullmatch(r"-?(0|[1-9][0-9]*)", value) is not None
