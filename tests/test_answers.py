"""Reading what people typed or picked into stored answers, and the rules answers follow."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey_app.definitions import Question, Survey, load_survey_file, load_survey_text
from survey_app.definitions.answers import (
    PREFER_NOT_TO_SAY,
    ConflictingAnswers,
    ConstraintFailed,
    InvalidAnswer,
    InvalidDate,
    NotANumber,
    OutOfRange,
    TooLong,
    TooManyAnswers,
    UnknownChoice,
    check_constraint,
    is_relevant,
    parse_answer,
    visible_choices,
)

ROOT = Path(__file__).resolve().parent.parent
MAX_TEXT = 500

SURVEY = """
format = 1

[survey]
id = "answers"
title = "Answers"
default_language = "en"

[choices.colour]
options = [
  { value = "red", label = "Red" },
  { value = "green", label = "Green" },
  { value = "blue", label = "Blue" },
]

[choices.city]
options = [
  { value = "nbo", label = "Nairobi", country = "ke" },
  { value = "msa", label = "Mombasa", country = "ke" },
  { value = "kla", label = "Kampala", country = "ug" },
]

[[pages]]
id = "main"
relevant = "1 = 1"

[[pages.questions]]
id = "colour"
type = "single"
choices = "colour"
other = true
prefer_not_to_say = true
label = "Colour"

[[pages.questions]]
id = "colours"
type = "multiple"
choices = "colour"
label = "Colours"
constraint = "count-selected(.) <= 2"
constraint_message = { en = "Choose two at most." }

[[pages.questions]]
id = "mood"
type = "rating"
scale = 5
prefer_not_to_say = true
label = "Mood"

[[pages.questions]]
id = "agree"
type = "yesno"
label = "Agree?"

[[pages.questions]]
id = "name_it"
type = "text"
max_length = 10
label = "Short"

[[pages.questions]]
id = "story"
type = "longtext"
label = "Long"

[[pages.questions]]
id = "people"
type = "integer"
min = 1
max = 20
label = "People"
constraint = ". != ${mood}"

[[pages.questions]]
id = "at_least"
type = "integer"
min = 0
label = "At least"

[[pages.questions]]
id = "weight"
type = "decimal"
max = 300
label = "Weight"

[[pages.questions]]
id = "day"
type = "date"
min = "2020-01-01"
max = "2026-12-31"
label = "Day"

[[pages.questions]]
id = "month"
type = "date"
precision = "month"
min = "2020-06"
label = "Month"

[[pages.questions]]
id = "year"
type = "date"
precision = "year"
label = "Year"

[[pages.questions]]
id = "info"
type = "note"
label = "Just so you know"

[[pages]]
id = "places"

[[pages.questions]]
id = "country"
type = "single"
label = "Country"
choices = [{ value = "ke", label = "Kenya" }, { value = "ug", label = "Uganda" }]

[[pages.questions]]
id = "city"
type = "single"
choices = "city"
choice_filter = "country = ${country}"
relevant = "${country} != ''"
label = "City"
"""


@pytest.fixture(scope="module")
def survey() -> Survey:
    return load_survey_text(SURVEY, "answers.toml")


def parse(survey: Survey, question_id: str, *raw: str) -> object:
    return parse_answer(survey.question(question_id), list(raw), MAX_TEXT)


def test_skipped_answers_are_none(survey: Survey) -> None:
    for question in survey.questions():
        assert parse_answer(question, [], MAX_TEXT) is None
        assert parse_answer(question, ["", "  "], MAX_TEXT) is None


def test_single_choice(survey: Survey) -> None:
    assert parse(survey, "colour", "green") == "green"
    assert parse(survey, "colour", "other") == "other"
    with pytest.raises(UnknownChoice) as raised:
        parse(survey, "colour", "purple")
    assert raised.value.question_id == "colour"
    assert raised.value.message == "Please choose one of the options shown."
    with pytest.raises(TooManyAnswers):
        parse(survey, "colour", "red", "green")


def test_other_only_where_offered(survey: Survey) -> None:
    with pytest.raises(UnknownChoice):
        parse(survey, "colours", "other")


def test_multiple_choice_is_stored_in_option_order_once(survey: Survey) -> None:
    assert parse(survey, "colours", "blue", "red", "blue") == ["red", "blue"]
    with pytest.raises(UnknownChoice):
        parse(survey, "colours", "red", "purple")


def test_prefer_not_to_say(survey: Survey) -> None:
    assert parse(survey, "colour", PREFER_NOT_TO_SAY) == PREFER_NOT_TO_SAY
    assert parse(survey, "mood", PREFER_NOT_TO_SAY) == PREFER_NOT_TO_SAY
    with pytest.raises(UnknownChoice):
        parse(survey, "agree", PREFER_NOT_TO_SAY)  # not offered on this question
    with pytest.raises(ConflictingAnswers):
        parse(survey, "colour", PREFER_NOT_TO_SAY, "red")


def test_rating_and_yes_no(survey: Survey) -> None:
    assert parse(survey, "mood", "4") == 4
    with pytest.raises(UnknownChoice):
        parse(survey, "mood", "6")
    assert parse(survey, "agree", "no") == "no"
    with pytest.raises(UnknownChoice):
        parse(survey, "agree", "maybe")


def test_text_is_cleaned(survey: Survey) -> None:
    assert parse(survey, "name_it", "  two\nlines\x00 ") == "two lines"
    assert parse(survey, "story", " first\r\n\r\nsecond\x07 ") == "first\n\nsecond"
    assert parse(survey, "story", "cafe\u0301") == "caf\u00e9"  # stored as NFC


def test_text_length_uses_the_stricter_limit(survey: Survey) -> None:
    assert parse(survey, "name_it", "x" * 10) == "x" * 10
    with pytest.raises(TooLong) as raised:
        parse(survey, "name_it", "x" * 11)
    assert raised.value.message == "Please keep this answer under 10 characters."
    assert raised.value.template == "Please keep this answer under %(limit)s characters."
    assert raised.value.params == {"limit": 10}
    with pytest.raises(TooLong):
        parse_answer(survey.question("story"), ["x" * 21], max_text=20)


def test_integer(survey: Survey) -> None:
    assert parse(survey, "people", "7") == 7
    assert parse(survey, "people", " +3 ") == 3
    assert parse(survey, "people", "١٢") == 12  # Arabic-Indic digits
    for wrong in ("7.5", "seven", "1e3", "9" * 40):
        with pytest.raises(NotANumber):
            parse(survey, "people", wrong)


def test_number_range_messages(survey: Survey) -> None:
    with pytest.raises(OutOfRange) as raised:
        parse(survey, "people", "21")
    assert raised.value.message == "Please enter a number from 1 to 20."
    with pytest.raises(OutOfRange) as raised:
        parse(survey, "at_least", "-1")
    assert raised.value.message == "Please enter a number of at least 0."
    with pytest.raises(OutOfRange) as raised:
        parse(survey, "weight", "300.5")
    assert raised.value.message == "Please enter a number no larger than 300."


def test_decimal_accepts_local_separators(survey: Survey) -> None:
    assert parse(survey, "weight", "62,5") == 62.5
    assert parse(survey, "weight", "62.5") == 62.5
    assert parse(survey, "weight", "\u0666\u0662\u066b\u0665") == 62.5  # Arabic-Indic
    assert parse(survey, "weight", "62") == 62.0
    assert isinstance(parse(survey, "weight", "62"), float)
    for wrong in ("nan", "inf", "1,2,3", "abc"):
        with pytest.raises(NotANumber):
            parse(survey, "weight", wrong)


def test_dates_at_each_precision(survey: Survey) -> None:
    assert parse(survey, "day", "2024-02-29") == "2024-02-29"
    assert parse(survey, "month", "2024-03") == "2024-03"
    assert parse(survey, "year", "2024") == "2024"
    # A more precise answer is kept only as precise as the question asks.
    assert parse(survey, "year", "2024-03-15") == "2024"
    for question_id, wrong in (
        ("day", "2023-02-29"),
        ("day", "2024-03"),
        ("day", "15/03/2024"),
        ("month", "2024-13"),
    ):
        with pytest.raises(InvalidDate):
            parse(survey, question_id, wrong)


def test_date_range(survey: Survey) -> None:
    with pytest.raises(OutOfRange) as raised:
        parse(survey, "day", "2019-12-31")
    assert raised.value.message == "Please enter a date from 2020-01-01 to 2026-12-31."
    assert parse(survey, "month", "2020-06") == "2020-06"
    with pytest.raises(OutOfRange) as raised:
        parse(survey, "month", "2020-05")
    assert raised.value.message == "Please enter a date from 2020-06 onwards."


def test_note_has_no_answer(survey: Survey) -> None:
    assert parse(survey, "info", "anything") is None


def test_constraint(survey: Survey) -> None:
    colours = survey.question("colours")
    check_constraint(colours, ["red", "green"], {})
    with pytest.raises(ConstraintFailed) as raised:
        check_constraint(colours, ["red", "green", "blue"], {})
    assert raised.value.custom_message is not None
    assert survey.text(raised.value.custom_message, "en") == "Choose two at most."
    assert isinstance(raised.value, InvalidAnswer)


def test_constraint_sees_other_answers_and_never_blocks_declining(survey: Survey) -> None:
    people = survey.question("people")
    check_constraint(people, 3, {"mood": 4})
    with pytest.raises(ConstraintFailed):
        check_constraint(people, 4, {"mood": 4})
    check_constraint(people, PREFER_NOT_TO_SAY, {"mood": 4})
    check_constraint(people, None, {"mood": 4})


def test_relevance_of_questions_and_pages(survey: Survey) -> None:
    city = survey.question("city")
    assert not is_relevant(city, {})
    assert is_relevant(city, {"country": "ke"})
    assert is_relevant(survey.question("colour"), {})
    assert is_relevant(survey.pages[0], {})


def test_choice_filter(survey: Survey) -> None:
    city = survey.question("city")
    assert [c.value for c in visible_choices(city, {"country": "ke"})] == ["nbo", "msa"]
    assert [c.value for c in visible_choices(city, {"country": "ug"})] == ["kla"]
    assert visible_choices(city, {}) == ()
    colour: Question = survey.question("colour")
    assert visible_choices(colour, {}) == colour.choices


def test_example_survey_answers_round_trip() -> None:
    """Every option of the example surveys parses to the stored type of the format."""
    for path in (ROOT / "surveys").glob("*.toml"):
        example = load_survey_file(path)
        for question in example.questions():
            for value in question.choice_values():
                parsed = parse_answer(question, [value], MAX_TEXT)
                expected: object = value
                if question.type == "rating":
                    expected = int(value)
                elif question.type == "multiple":
                    expected = [value]
                assert parsed == expected, (question.id, value)
