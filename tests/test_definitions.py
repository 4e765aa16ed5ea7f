"""Survey files: loading, every validation message, versions and stored definitions."""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
import tomllib
from pathlib import Path

import pytest

from survey_app.definitions import (
    Direction,
    LocalisedText,
    Problem,
    QuestionType,
    Survey,
    SurveyDefinitionError,
    UnknownQuestion,
    load_directory,
    load_survey_file,
    load_survey_json,
    load_survey_text,
)
from survey_app.definitions.loader import canonical_json, load_survey_text_with_warnings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "surveys"
BROKEN = Path(__file__).resolve().parent / "fixtures" / "surveys"

HEADER = """\
format = 1

[survey]
id = "demo"
title = { en = "Demo", fr = "Démo" }
default_language = "en"
languages = ["en", "fr"]
"""


def problems_in(text: str, filename: str = "surveys/demo.toml") -> list[str]:
    """Errors and warnings, as `surveys check` prints them."""
    try:
        _, warnings = load_survey_text_with_warnings(text, filename)
    except SurveyDefinitionError as error:
        return [str(problem) for problem in error.problems]
    return [str(problem) for problem in warnings]


def one_page(questions: str, extra: str = "") -> str:
    return f'{HEADER}{extra}\n[[pages]]\nid = "main"\n{questions}'


def question(body: str) -> str:
    return f"\n[[pages.questions]]\n{body}\n"


SAFE = question(
    'id = "felt_safe"\ntype = "rating"\nscale = 5\nlabel = { en = "Safe?", fr = "Sûr ?" }'
)


# ---------------------------------------------------------------- the example surveys


@pytest.mark.parametrize("name", ["service-feedback", "reintegration-checkin"])
def test_example_survey_has_no_problems(name: str) -> None:
    survey = load_survey_file(EXAMPLES / f"{name}.toml")
    assert survey.id == name
    assert len(survey.languages) >= 3
    assert Direction.RTL in {language.direction for language in survey.languages}
    assert survey.consent_question() in survey.pages[0].questions
    assert survey.indicators and all(i.target is not None for i in survey.indicators)
    assert survey.disaggregation_questions()


def test_example_directory_loads_both_surveys_with_zero_problems() -> None:
    loaded = load_directory(EXAMPLES)
    assert loaded.problems == []
    assert {"service-feedback", "reintegration-checkin"} <= set(loaded.surveys)


@pytest.mark.parametrize("name", ["service-feedback", "reintegration-checkin"])
def test_example_surveys_ask_nothing_identifying(name: str) -> None:
    survey = load_survey_file(EXAMPLES / f"{name}.toml")
    identifying = ("name", "phone", "email", "address", "birth", "passport", "location")
    for asked in survey.questions():
        assert not any(word in asked.id for word in identifying), asked.id
        assert asked.type is not QuestionType.DATE, asked.id


def test_service_feedback_asks_about_legal_support_only_of_those_who_had_it() -> None:
    survey = load_survey_file(EXAMPLES / "service-feedback.toml")
    legal = survey.question("useful_legal")
    assert legal.relevant is not None
    assert legal.relevant.is_true({"services": ["legal", "medical"]})
    assert not legal.relevant.is_true({"services": ["medical"]})
    indicator = next(i for i in survey.indicators if i.id == "satisfied_legal")
    answers = {"services": ["legal"], "useful_legal": 5}
    assert indicator.numerator.is_true(answers) and indicator.denominator.is_true(answers)
    assert not indicator.denominator.is_true({"services": ["medical"]})
    # "Prefer not to say" is out of the denominator.
    assert not indicator.denominator.is_true({"services": ["legal"], "useful_legal": "_pnts"})


def test_safety_pages_open_with_a_warning() -> None:
    for name in ("service-feedback", "reintegration-checkin"):
        survey = load_survey_file(EXAMPLES / f"{name}.toml")
        safety = next(page for page in survey.pages if page.id == "safety")
        assert safety.intro is not None
        assert "skip" in survey.text(safety.intro, "en")


def test_documentation_example_is_a_valid_survey() -> None:
    guide = (ROOT / "docs" / "survey-format.md").read_text(encoding="utf-8")
    example = guide.split("## A complete example", 1)[1].split("```toml\n", 1)[1]
    example = example.split("```", 1)[0]
    survey = load_survey_text(example, "surveys/example.toml")
    assert {q.type for q in survey.questions()} >= {
        QuestionType.CONSENT,
        QuestionType.NOTE,
        QuestionType.MULTIPLE,
        QuestionType.RATING,
        QuestionType.INTEGER,
        QuestionType.LONGTEXT,
    }


# ---------------------------------------------------------------- broken files, one line each

BROKEN_CASES = {
    "toml-syntax": [
        "surveys/toml-syntax.toml: line 32, column 37: TOML syntax: unclosed inline table"
    ],
    "unknown-key": [
        "surveys/unknown-key.toml: question 'felt_safe': unknown key 'requried' "
        "(did you mean 'required'?)"
    ],
    "missing-key": [
        "surveys/missing-key.toml: question 'household_size': missing required key 'label'"
    ],
    "bad-id": [
        "surveys/bad-id.toml: page 'safety' question 2: id \"Household Size\" is not valid: "
        "use lowercase letters, digits and '_', starting with a letter or '_'"
    ],
    "duplicate-id": [
        "surveys/duplicate-id.toml: question 'felt_safe': duplicate question id 'felt_safe' "
        "(already used on page 'safety')"
    ],
    "duplicate-choice": [
        "surveys/duplicate-choice.toml: choices 'agreement': duplicate option value '2'"
    ],
    "unknown-choice-list": [
        "surveys/unknown-choice-list.toml: question 'felt_safe': "
        "choices: no choice list named 'agreemnt' (lists: agreement)"
    ],
    "unsupported-type": [
        "surveys/unsupported-type.toml: question 'household_size': type: unsupported type "
        '"select_one" (use one of: single, multiple, rating, yesno, text, longtext, integer, '
        "decimal, date, note, consent)"
    ],
    "unknown-reference": [
        "surveys/unknown-reference.toml: question 'household_size': "
        "relevant: unknown question ${lives_alone} at position 21"
    ],
    "expression-syntax": [
        "surveys/expression-syntax.toml: question 'household_size': "
        "constraint: missing operand after '<=' at position 2"
    ],
    "later-reference": [
        "surveys/later-reference.toml: question 'felt_safe': relevant: ${household_size} is "
        "not asked before this point; relevant can only use answers given earlier"
    ],
    "missing-translation": [
        "warning: surveys/missing-translation.toml: question 'felt_safe': "
        "label: missing translation for 'fr' (shown in the default language)"
    ],
    "min-max": ["surveys/min-max.toml: question 'household_size': min 30 is greater than max 1"],
    "rating-not-integer": [
        "surveys/rating-not-integer.toml: question 'felt_safe': choices: a rating's values must "
        'be whole numbers written as text like "1"; not "disagree", "unsure", "agree"'
    ],
    "faces-scale": [
        "surveys/faces-scale.toml: question 'felt_safe': "
        "faces: face pictograms need a 3 or 5 point scale; this one has 4"
    ],
    "consent-not-first": [
        "surveys/consent-not-first.toml: question 'consent': "
        "the consent question must be on the first page"
    ],
    "id-mismatch": [
        "surveys/id-mismatch.toml: survey: id 'feedback' does not match the file name "
        "'id-mismatch.toml'; rename the file or change the id"
    ],
    "several-problems": [
        "surveys/several-problems.toml: survey: unknown key 'default_langauge' "
        "(did you mean 'default_language'?)",
        "surveys/several-problems.toml: question 'felt_safe': "
        "relevant: missing operand after '=' at position 38",
        "surveys/several-problems.toml: question 'household_size': type: unsupported type "
        '"number" (use one of: single, multiple, rating, yesno, text, longtext, integer, '
        "decimal, date, note, consent)",
        "surveys/several-problems.toml: indicator 'felt_safe': "
        "target must be a proportion from 0 to 1 (0.8 for 80%), not 80",
        "surveys/several-problems.toml: page 'start': duplicate page id 'start'",
        "warning: surveys/several-problems.toml: indicator 'felt_safe': label: missing "
        "translation for 'fr' (shown in the default language)",
    ],
}


def test_every_broken_fixture_has_a_case() -> None:
    assert {path.stem for path in BROKEN.glob("*.toml")} == set(BROKEN_CASES)


@pytest.mark.parametrize(("name", "expected"), BROKEN_CASES.items())
def test_broken_file_is_reported_exactly(name: str, expected: list[str]) -> None:
    text = (BROKEN / f"{name}.toml").read_text(encoding="utf-8")
    assert problems_in(text, f"surveys/{name}.toml") == expected


def test_load_directory_serves_valid_surveys_and_reports_the_broken(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "service-feedback.toml", tmp_path)
    shutil.copy(BROKEN / "unknown-key.toml", tmp_path)
    (tmp_path / "notes.txt").write_text("not a survey")
    loaded = load_directory(tmp_path)
    assert list(loaded.surveys) == ["service-feedback"]
    assert [str(p) for p in loaded.problems] == [
        f"{tmp_path / 'unknown-key.toml'}: question 'felt_safe': "
        "unknown key 'requried' (did you mean 'required'?)"
    ]


def test_load_directory_reports_a_missing_directory(tmp_path: Path) -> None:
    loaded = load_directory(tmp_path / "absent")
    assert loaded.surveys == {}
    assert [str(p) for p in loaded.problems] == [f"{tmp_path / 'absent'}: no such directory"]


def test_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "demo.toml"
    path.write_bytes(HEADER.encode("utf-8") + b"\n# caf\xe9\n")
    with pytest.raises(SurveyDefinitionError) as raised:
        load_survey_file(path)
    assert str(raised.value) == f"{path}: line 9: not UTF-8 text; save the file as UTF-8"


def test_problem_reads_as_one_line() -> None:
    assert str(Problem("surveys/x.toml", "question 'q'", "relevant: bad")) == (
        "surveys/x.toml: question 'q': relevant: bad"
    )
    assert str(Problem("surveys/x.toml", None, "missing required key 'pages'")) == (
        "surveys/x.toml: missing required key 'pages'"
    )


# ---------------------------------------------------------------- more rules


def test_minimal_survey_loads() -> None:
    survey = load_survey_text(one_page(SAFE), "surveys/demo.toml")
    assert [q.id for q in survey.questions()] == ["felt_safe"]
    assert survey.question("felt_safe").scale_values() == (1, 2, 3, 4, 5)


def test_missing_top_level_keys() -> None:
    assert problems_in(HEADER) == ["surveys/demo.toml: missing required key 'pages'"]
    assert problems_in("[survey]\nid = 'demo'\n") == [
        "surveys/demo.toml: missing required key 'format'",
        "surveys/demo.toml: missing required key 'pages'",
        "surveys/demo.toml: survey: missing required key 'title'",
        "surveys/demo.toml: survey: missing required key 'default_language'",
    ]


def test_newer_format_is_refused() -> None:
    text = one_page(SAFE).replace("format = 1", "format = 2")
    assert problems_in(text) == [
        "surveys/demo.toml: format: this file says format 2; "
        "this version of survey-app reads format 1"
    ]


def test_key_of_another_type_does_not_apply() -> None:
    text = one_page(question('id = "comment"\ntype = "text"\nscale = 5\nlabel = "Comment"'))
    assert (
        "surveys/demo.toml: question 'comment': 'scale' does not apply to a question of "
        "type 'text'" in problems_in(text)
    )


def test_translation_in_an_undeclared_language() -> None:
    text = one_page(question('id = "q"\ntype = "yesno"\nlabel = { en = "Q", fr = "Q", de = "F" }'))
    assert problems_in(text) == [
        "surveys/demo.toml: question 'q': label: language 'de' is not in survey.languages"
    ]


def test_default_language_must_be_declared() -> None:
    text = one_page(SAFE).replace('default_language = "en"', 'default_language = "ar"')
    assert "surveys/demo.toml: survey: default_language 'ar' is not in languages" in (
        problems_in(text)
    )


def test_current_answer_only_in_constraints() -> None:
    text = one_page(
        SAFE
        + question(
            'id = "why"\ntype = "text"\nrelevant = ". > 2"\nlabel = { en = "Why?", fr = "Pourquoi ?" }'
        )
    )
    assert problems_in(text) == [
        "surveys/demo.toml: question 'why': relevant: '.' (this question's answer) "
        "can only be used in a constraint"
    ]


def test_text_that_inserts_what_it_cannot_is_a_warning() -> None:
    text = one_page(
        SAFE
        + question(
            'id = "why"\ntype = "text"\nlabel = { en = "Why ${felt_safe}?", fr = "Pourquoi ?" }'
        )
    )
    assert problems_in(text) == [
        "warning: surveys/demo.toml: question 'why': label: ${felt_safe} is shown as written: "
        "only answers given on an earlier page, and calculations of them, are inserted into text"
    ]
    later = text.replace(
        '\n[[pages.questions]]\nid = "why"',
        '\n[[pages]]\nid = "next"\n[[pages.questions]]\nid = "why"',
    )
    assert later != text and problems_in(later) == []


def test_a_calculation_names_known_answers_and_no_question() -> None:
    text = one_page(SAFE) + (
        '\n[calculations]\ndouble = "${felt_safe} * 2"\nfelt_safe = "1"\n'
        'ghost = "${nobody} + 1"\nBad = "1"\nbroken = "1 +"\n'
    )
    assert problems_in(text) == [
        "surveys/demo.toml: calculation 'Bad': calculation name \"Bad\": use lowercase letters, "
        "digits and '_', starting with a letter or '_'",
        "surveys/demo.toml: calculation 'broken': broken: missing operand after '+' at position 2",
        "surveys/demo.toml: calculation 'felt_safe': 'felt_safe' is also a question id: give it "
        "another name",
        "surveys/demo.toml: calculation 'ghost': calculation: unknown question ${nobody} at "
        "position 0",
    ]


def test_a_note_has_no_answer_to_refer_to() -> None:
    text = one_page(
        question('id = "intro"\ntype = "note"\nlabel = { en = "Hello", fr = "Bonjour" }')
        + question(
            'id = "q"\ntype = "yesno"\nrelevant = "${intro} = 1"\nlabel = { en = "Q", fr = "Q" }'
        )
    )
    assert problems_in(text) == [
        "surveys/demo.toml: question 'q': relevant: ${intro} is a note, which has no answer"
    ]


def test_page_relevant_only_uses_earlier_pages() -> None:
    text = one_page(SAFE).replace('id = "main"', 'id = "main"\nrelevant = "${felt_safe} > 2"')
    assert problems_in(text) == [
        "surveys/demo.toml: page 'main': relevant: ${felt_safe} is not asked before this "
        "point; relevant can only use answers given earlier"
    ]


def test_indicator_refers_to_unknown_questions_each_reported() -> None:
    indicators = (
        '\n[[indicators]]\nid = "safe"\nlabel = "% safe"\n'
        'numerator = "${felt_safe} >= 4 and ${safe} = 1"\ndenominator = "${sfe} != \'\'"\n'
    ).replace('"% safe"', '{ en = "% safe", fr = "% sûr" }')
    assert problems_in(one_page(SAFE) + indicators) == [
        "surveys/demo.toml: indicator 'safe': numerator: unknown question ${safe} at position 22",
        "surveys/demo.toml: indicator 'safe': denominator: unknown question ${sfe} at position 0",
    ]


def test_an_indicator_cannot_depend_on_the_day_it_is_computed() -> None:
    indicators = (
        '\n[[indicators]]\nid = "safe"\nlabel = { en = "% safe", fr = "% sûr" }\n'
        'numerator = "${felt_safe} >= 4"\ndenominator = "today() > \'2026-01-01\'"\n'
    )
    assert problems_in(one_page(SAFE) + indicators) == [
        "surveys/demo.toml: indicator 'safe': denominator: today() cannot be used in an "
        "indicator (it is the day a page is answered, and reports are made later)"
    ]
    # In a question's condition it is the day of answering, which is what the form means.
    relevant = SAFE.replace(
        'type = "rating"', 'type = "rating"\nrelevant = "today() > \'2026-01-01\'"', 1
    )
    assert relevant != SAFE and problems_in(one_page(relevant)) == []


def test_other_option_and_its_text_key() -> None:
    choices = 'choices = [{ value = "a", label = "A" }, { value = "other", label = "Other" }]'
    text = (
        one_page(question(f'id = "pick"\ntype = "single"\nother = true\nlabel = "Pick"\n{choices}'))
        .replace('languages = ["en", "fr"]', 'languages = ["en"]')
        .replace(', fr = "Démo"', "")
    )
    assert problems_in(text) == [
        "surveys/demo.toml: question 'pick': other: the choices already have an option "
        "'other'; remove it or remove other = true"
    ]


def test_other_text_key_cannot_clash_with_a_question() -> None:
    body = 'type = "single"\nother = true\nlabel = "Pick"\nchoices = [{ value = "a", label = "A" }]'
    text = (
        HEADER.replace('languages = ["en", "fr"]', 'languages = ["en"]').replace(
            ', fr = "Démo"', ""
        )
        + '\n[[pages]]\nid = "main"\n'
        + question(f'id = "pick"\n{body}')
        + question('id = "pick_other"\ntype = "text"\nlabel = "More"')
    )
    assert problems_in(text) == [
        "surveys/demo.toml: question 'pick_other': duplicate question id 'pick_other' "
        "(already used on page 'main')"
    ]


def test_choice_filter_names_option_keys() -> None:
    lists = """
[choices.cities]
options = [
  { value = "nbo", label = { en = "Nairobi", fr = "Nairobi" }, country = "ke" },
  { value = "kla", label = { en = "Kampala", fr = "Kampala" }, country = "ug" },
]
[choices.countries]
options = [
  { value = "ke", label = { en = "Kenya", fr = "Kenya" } },
  { value = "ug", label = { en = "Uganda", fr = "Ouganda" } },
]
"""
    country = question(
        'id = "country"\ntype = "single"\nchoices = "countries"\n'
        'label = { en = "Country", fr = "Pays" }'
    )
    city = question(
        'id = "city"\ntype = "single"\nchoices = "cities"\nchoice_filter = "cuntry = ${country}"\n'
        'label = { en = "City", fr = "Ville" }'
    )
    assert problems_in(one_page(country + city, lists)) == [
        "surveys/demo.toml: question 'city': choice_filter: no option has a key 'cuntry'"
    ]
    fixed = one_page(country + city.replace("cuntry", "country"), lists)
    assert problems_in(fixed) == []


def test_bad_values_are_named() -> None:
    text = one_page(
        question(
            'id = "n"\ntype = "integer"\nmin = 1.5\nrequired = "yes"\nlabel = { en = "N", fr = "N" }'
        )
        + question(
            'id = "d"\ntype = "date"\nprecision = "week"\nmax = "2026-02-30"\n'
            'label = { en = "D", fr = "D" }'
        )
    )
    assert problems_in(text) == [
        "surveys/demo.toml: question 'n': required must be true or false, not \"yes\"",
        "surveys/demo.toml: question 'n': min must be a whole number, not 1.5",
        'surveys/demo.toml: question \'d\': precision must be "day", "month" or "year", not "week"',
        'surveys/demo.toml: question \'d\': max must be a date like "2026-11-28", "2026-11" '
        'or "2026", not "2026-02-30"',
    ]


def test_unquoted_toml_dates_are_read_as_iso_text() -> None:
    text = one_page(
        question('id = "d"\ntype = "date"\nmin = 2020-01-01\nlabel = { en = "D", fr = "D" }')
    )
    assert load_survey_text(text, "demo.toml").question("d").min == "2020-01-01"


def test_byte_order_mark_is_accepted() -> None:
    survey = load_survey_text("\ufeff" + one_page(SAFE), "surveys/demo.toml")
    assert survey.id == "demo"


# ---------------------------------------------------------------- schema helpers


def test_localised_text_falls_back_to_the_default_language() -> None:
    text = LocalisedText.of({"en": "Hello", "ar": "مرحبا"})
    assert text.get("ar", "en") == "مرحبا"
    assert text.get("fr", "en") == "Hello"
    assert LocalisedText.of({"ar": "مرحبا"}).get("fr", "en") == "مرحبا"


def test_languages_get_names_and_directions() -> None:
    text = one_page(SAFE).replace('["en", "fr"]', '["en", "fr", "ar"]')
    text = text.replace('fr = "Démo"', 'fr = "Démo", ar = "عرض"').replace(
        'fr = "Sûr ?"', 'fr = "Sûr ?", ar = "آمن؟"'
    )
    survey = load_survey_text(text, "demo.toml")
    assert [(lang.code, lang.name, lang.direction) for lang in survey.languages] == [
        ("en", "English", Direction.LTR),
        ("fr", "Français", Direction.LTR),
        ("ar", "العربية", Direction.RTL),
    ]
    assert survey.language("xx").code == "en"
    assert survey.text(survey.question("felt_safe").label, "ar") == "آمن؟"


def test_unknown_question_is_a_clear_error() -> None:
    survey = load_survey_text(one_page(SAFE), "demo.toml")
    with pytest.raises(UnknownQuestion, match="survey 'demo' has no question 'nope'"):
        survey.question("nope")


def test_other_adds_an_answer_key() -> None:
    choices = 'choices = [{ value = "a", label = { en = "A", fr = "A" } }]'
    survey = load_survey_text(
        one_page(
            question(
                f'id = "pick"\ntype = "multiple"\nother = true\n'
                f'label = {{ en = "P", fr = "P" }}\n{choices}'
            )
        ),
        "demo.toml",
    )
    pick = survey.question("pick")
    assert pick.other_id == "pick_other"
    assert pick.answer_keys() == ("pick", "pick_other")
    assert pick.choice_values() == ("a", "other")


# ---------------------------------------------------------------- versions


def test_version_is_the_hash_of_the_canonical_content() -> None:
    survey = load_survey_file(EXAMPLES / "service-feedback.toml")
    digest = hashlib.sha256(survey.canonical_json.encode("utf-8")).hexdigest()
    assert survey.version == digest[:12]
    data = tomllib.loads((EXAMPLES / "service-feedback.toml").read_text(encoding="utf-8"))
    assert json.loads(survey.canonical_json) == data


def test_comments_spacing_and_key_order_keep_the_version() -> None:
    original = one_page(SAFE)
    reformatted = "# a comment\n\n" + original.replace(
        'default_language = "en"\nlanguages = ["en", "fr"]',
        'languages = [ "en",   "fr" ]   # shown in this order\ndefault_language = "en"',
    )
    first = load_survey_text(original, "demo.toml")
    second = load_survey_text(reformatted, "demo.toml")
    assert first.version == second.version
    assert first == second


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('label = { en = "Safe?"', 'label = { en = "Safe? "'),  # a reworded label
        ("scale = 5", "scale = 4"),
        ('id = "main"', 'id = "page_one"'),
    ],
)
def test_any_change_of_content_makes_a_new_version(old: str, new: str) -> None:
    original = one_page(SAFE)
    changed = original.replace(old, new)
    assert changed != original
    assert (
        load_survey_text(original, "demo.toml").version
        != load_survey_text(changed, "demo.toml").version
    )


def test_stored_definition_rebuilds_the_same_survey() -> None:
    for path in EXAMPLES.glob("*.toml"):
        survey = load_survey_file(path)
        rebuilt = load_survey_json(survey.canonical_json)
        assert rebuilt == survey
        assert rebuilt.version == survey.version
        assert rebuilt.questions() == survey.questions()
        assert rebuilt.indicators == survey.indicators
        assert rebuilt.languages == survey.languages


def test_survey_can_be_sent_to_another_process() -> None:
    survey = load_survey_file(EXAMPLES / "service-feedback.toml")
    copy = pickle.loads(pickle.dumps(survey))
    assert copy == survey
    assert copy.question("useful_legal").relevant is not None


def test_old_version_stays_readable_when_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "demo.toml"
    path.write_text(one_page(SAFE), encoding="utf-8")
    old = load_survey_file(path)
    path.write_text(one_page(SAFE.replace("felt_safe", "felt_secure")), encoding="utf-8")
    new = load_survey_file(path)
    assert new.version != old.version
    assert load_survey_json(old.canonical_json).question("felt_safe").type is QuestionType.RATING


def test_stored_definition_is_not_held_to_rules_added_later() -> None:
    # A version stored before a rule existed must stay readable: only its structure counts.
    text = (BROKEN / "missing-translation.toml").read_text(encoding="utf-8")
    stored = canonical_json(tomllib.loads(text))
    survey = load_survey_json(stored)
    assert isinstance(survey, Survey)
    assert survey.text(survey.question("felt_safe").label, "fr") == "I felt safe."


def test_stored_definition_that_cannot_be_built_is_refused() -> None:
    with pytest.raises(SurveyDefinitionError, match="stored definition: not valid JSON"):
        load_survey_json("{")
    text = (BROKEN / "unsupported-type.toml").read_text(encoding="utf-8")
    with pytest.raises(SurveyDefinitionError, match="unsupported type"):
        load_survey_json(canonical_json(tomllib.loads(text)))
