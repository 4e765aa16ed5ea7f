"""Survey definitions: the TOML format, its loader and the expression language.

`load_directory("surveys")` loads every survey file; `load_survey_json` rebuilds a stored
version. The format is documented for programme staff in docs/survey-format.md.
"""

from survey_app.definitions import answers
from survey_app.definitions.expressions import (
    PREFER_NOT_TO_SAY,
    Expression,
    ExpressionError,
    ExpressionSyntaxError,
    UnknownFunctionError,
    UnknownReferenceError,
)
from survey_app.definitions.loader import (
    FORMAT_VERSION,
    LoadedSurveys,
    load_directory,
    load_survey_file,
    load_survey_json,
    load_survey_text,
)
from survey_app.definitions.schema import (
    Choice,
    DatePrecision,
    Direction,
    Indicator,
    Language,
    LocalisedText,
    Page,
    Question,
    QuestionType,
    ScaleLabels,
    Survey,
    UnknownQuestion,
)
from survey_app.definitions.validation import Problem, SurveyDefinitionError

__all__ = [
    "FORMAT_VERSION",
    "PREFER_NOT_TO_SAY",
    "Choice",
    "DatePrecision",
    "Direction",
    "Expression",
    "ExpressionError",
    "ExpressionSyntaxError",
    "Indicator",
    "Language",
    "LoadedSurveys",
    "LocalisedText",
    "Page",
    "Problem",
    "Question",
    "QuestionType",
    "ScaleLabels",
    "Survey",
    "SurveyDefinitionError",
    "UnknownFunctionError",
    "UnknownQuestion",
    "UnknownReferenceError",
    "answers",
    "load_directory",
    "load_survey_file",
    "load_survey_json",
    "load_survey_text",
]
