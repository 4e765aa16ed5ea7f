"""XLSForm import: real forms from the field, and small forms that each break one rule."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from survey_app.definitions import QuestionType, load_survey_text
from survey_app.definitions.answers import visible_choices
from survey_app.definitions.loader import load_survey_text_with_warnings
from survey_app.definitions.xlsform import (
    ImportResult,
    InvalidSurveyId,
    NotAnXLSForm,
    NothingToConvert,
    SurveyExists,
    UnconvertibleRows,
    UnknownLanguage,
    XLSFormError,
    convert_xlsform,
    write_import,
)

# Real forms from the field, copied into the suite with their provenance (see its README.md).
XLSFORMS = Path(__file__).resolve().parent / "fixtures" / "xlsforms"

Cells = Sequence[object]


# --------------------------------------------------------------------------- helpers


def make_form(
    tmp_path: Path,
    survey: list[Cells],
    choices: list[Cells] | None = None,
    settings: list[Cells] | None = None,
    name: str = "form.xlsx",
) -> Path:
    """An .xlsx with the given rows; the first row of each sheet is its header."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "survey"
    for row in survey:
        sheet.append(list(row))
    for title, rows in (("choices", choices), ("settings", settings)):
        if rows is not None:
            extra = workbook.create_sheet(title)
            for row in rows:
                extra.append(list(row))
    path = tmp_path / name
    workbook.save(path)
    return path


def load(result: ImportResult) -> Any:
    """The survey as the app loads it; fails the test on any problem."""
    return load_survey_text(result.toml_text, f"{result.survey_id}.toml")


def document(result: ImportResult) -> dict[str, Any]:
    return tomllib.loads(result.toml_text)


def questions(result: ImportResult) -> dict[str, dict[str, Any]]:
    return {q["id"]: q for page in document(result)["pages"] for q in page["questions"]}


def rows_of(error: XLSFormError) -> list[tuple[str, int | None, str | None]]:
    return [(problem.sheet, problem.row, problem.column) for problem in error.problems]


def notes_text(notes: Sequence[object]) -> str:
    return "\n".join(str(note) for note in notes)


def unconvertible(path: Path) -> UnconvertibleRows:
    with pytest.raises(UnconvertibleRows) as caught:
        convert_xlsform(path)
    return caught.value


# --------------------------------------------------------------------------- real forms

CONVERTS = {
    "pyxform_table_list.xls",
    "kobo_date_time.xlsx",
    "kobo_acknowledge.xlsx",
    "kobo_sample_xlsform.xlsx",
    "kpi_sample_accent.xlsx",
    "kpi_unicode_relevant.xlsx",
    "pyxform_specify_other.xlsx",
    "xlsform_cascading_select.xlsx",
    "kobo_calculations_constraints_matrix.xlsx",
    "pyxform_widgets.xls",
    "pyxform_choice_filter.xlsx",
    "pyxform_or_other.xlsx",
}
REFUSED = {
    "kobo_number_decimal_range.xlsx": [("survey", 9, "parameters")],
    "kobo_form_meta.xlsx": [("survey", None, None)],
}


ALL_FORMS = sorted(path.name for path in XLSFORMS.glob("*.xls*"))
# Known importer gaps, each failing for the stated reason until fixed (strict: a fix must remove it).
IMPORTER_GAPS: dict[str, str] = {}


def test_the_pinned_forms_are_in_the_fixtures() -> None:
    assert CONVERTS | set(REFUSED) <= set(ALL_FORMS)


def test_every_form_in_the_fixtures_has_its_provenance() -> None:
    provenance = (XLSFORMS / "README.md").read_text(encoding="utf-8")
    assert len(ALL_FORMS) >= 40
    assert [name for name in ALL_FORMS if f"| {name} |" not in provenance] == []


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(reason=IMPORTER_GAPS[name], strict=True))
        if name in IMPORTER_GAPS
        else name
        for name in ALL_FORMS
    ],
)
def test_every_real_form_converts_or_is_refused_with_a_reason(name: str) -> None:
    """Conformance net: no form from the field crashes the importer or yields a broken survey."""
    try:
        result = convert_xlsform(XLSFORMS / name)
    except XLSFormError as error:
        assert str(error).startswith(name) or error.problems, str(error)
        return
    assert load(result).questions()


@pytest.mark.parametrize("name", sorted(CONVERTS))
def test_real_form_converts_and_loads_without_problems(name: str) -> None:
    result = convert_xlsform(XLSFORMS / name)
    survey = load(result)
    assert survey.id == result.survey_id
    assert survey.questions()


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_real_form_is_refused_with_the_exact_rows(name: str) -> None:
    error = unconvertible(XLSFORMS / name)
    assert rows_of(error) == REFUSED[name]


def test_sample_form_keeps_questions_types_and_choices() -> None:
    result = convert_xlsform(XLSFORMS / "kobo_sample_xlsform.xlsx")
    assert {q: (v["type"], v.get("choices")) for q, v in questions(result).items()} == {
        "name": ("text", None),
        "age": ("integer", None),
        "consent": ("single", "yes_no"),
        "thank_you": ("note", None),
    }
    assert document(result)["choices"]["yes_no"]["options"] == [
        {"value": "yes", "label": {"en": "Yes"}},
        {"value": "no", "label": {"en": "No"}},
    ]
    assert "taken as English (en)" in notes_text(result.notes)


def test_acknowledge_becomes_consent_and_its_ok_becomes_yes() -> None:
    result = convert_xlsform(XLSFORMS / "kobo_acknowledge.xlsx")
    pages = document(result)["pages"]
    assert [q["type"] for q in pages[0]["questions"]] == ["consent"]
    assert pages[1]["id"] == "survey"
    assert pages[1]["relevant"] == "${consent} = 'yes'"
    survey = load(result)
    assert survey.pages[1].relevant is not None
    assert survey.pages[1].relevant.is_true({"consent": "yes"})
    assert not survey.pages[1].relevant.is_true({"consent": "no"})
    notes = notes_text(result.notes)
    assert "survey row 2: acknowledge converted to the consent question" in notes
    assert "survey row 3: relevant: 'OK' of an acknowledge question replaced by 'yes'" in notes


def test_form_meta_drops_every_identifying_row_with_a_note_and_leaves_nothing() -> None:
    with pytest.raises(NothingToConvert) as caught:
        convert_xlsform(XLSFORMS / "kobo_form_meta.xlsx")
    dropped = [
        (note.row, note.message.split("'")[1])
        for note in caught.value.notes
        if "row dropped" in note.message
    ]
    assert dropped == [
        (2, "start"),
        (3, "end"),
        (4, "today"),
        (5, "username"),
        (6, "audit"),
        (7, "deviceid"),
        (8, "phonenumber"),
    ]


def test_date_time_form_drops_time_and_datetime_and_keeps_the_dates() -> None:
    result = convert_xlsform(XLSFORMS / "kobo_date_time.xlsx")
    notes = notes_text(result.notes)
    assert "survey row 3: 'time' question 'time' dropped: an exact time of day" in notes
    assert "survey row 4: 'dateTime' question 'date_time' dropped: an exact date and time" in notes
    assert "name 'no-calendar_date' renamed to 'no_calendar_date'" in notes
    assert "time" not in questions(result) and "date_time" not in questions(result)
    assert load(result).questions()


def test_range_with_misspelt_parameter_is_refused_and_good_ranges_become_ratings() -> None:
    error = unconvertible(XLSFORMS / "kobo_number_decimal_range.xlsx")
    assert "unknown range parameter 'tart'" in error.problems[0].message
    rating_rows = [note.row for note in error.notes if "rating scale of 5 points" in note.message]
    assert rating_rows == [4, 7, 8]


def test_matrix_totals_are_computed_questions_dropped_with_a_note() -> None:
    result = convert_xlsform(XLSFORMS / "kobo_calculations_constraints_matrix.xlsx")
    notes = notes_text(result.notes)
    for row, name in ((13, "r1_c3"), (19, "r2_c3"), (25, "r3_c3"), (31, "r4_c3")):
        assert (
            f"survey row {row}: question '{name}' is computed from other answers (calculation "
        ) in notes
    assert "not asked: dropped, so respondents do not see its value" in notes
    assert "r1_c3" not in result.names and result.names["r1_c1"] == "r1_c1"
    survey = load_survey_text(result.toml_text, f"{result.survey_id}.toml")
    females = next(q for p in survey.pages for q in p.questions if q.id == "r1_c2")
    assert females.constraint is not None
    assert females.constraint.is_true({"hh_mem": 5, "r1_c1": 2}, current=3)
    assert not females.constraint.is_true({"hh_mem": 5, "r1_c1": 2}, current=4)


def test_tetun_labels_and_curly_quotes_in_relevant() -> None:
    result = convert_xlsform(XLSFORMS / "kpi_unicode_relevant.xlsx")
    survey_table = document(result)["survey"]
    assert survey_table["languages"] == ["en", "tet"]
    assert survey_table["language_names"]["tet"] == "Tetun"
    found = questions(result)
    assert found["marital_other"]["relevant"] == "selected(${respondent_marital}, 'other')"
    assert found["respondent_marital"]["hint"]["tet"] == "Labele le\u2019e opsaun ida ne\u2019e"
    assert "survey row 3: curly quotes in relevant replaced" in notes_text(result.notes)
    survey = load(result)
    relevant = survey.question("marital_other").relevant
    assert relevant is not None and relevant.is_true({"respondent_marital": "other"})


def test_accented_choice_values_are_kept() -> None:
    result = convert_xlsform(XLSFORMS / "kpi_sample_accent.xlsx")
    survey = load(result)
    assert survey.question("words_with_accents").choice_values() == ("père", "té", "tête")


def test_or_specify_other_becomes_other() -> None:
    result = convert_xlsform(XLSFORMS / "pyxform_specify_other.xlsx")
    question = load(result).question("sex")
    assert question.other and question.answer_keys() == ("sex", "sex_other")
    assert question.label.as_dict() == {"en": "What sex are you?"}


def test_cascading_choice_filter_filters_by_option_columns() -> None:
    result = convert_xlsform(XLSFORMS / "xlsform_cascading_select.xlsx")
    assert result.survey_id == "cascading_select"
    survey = load(result)
    county = survey.question("selected_county")
    assert county.choice_filter is not None
    shown = [
        c.value
        for c in county.choices
        if county.choice_filter.is_true({"selected_state": "texas"}, names=c.filter_names())
    ]
    assert shown == ["brewster", "cameron"]


def test_converted_text_is_laid_out_like_the_format_documentation() -> None:
    text = convert_xlsform(XLSFORMS / "xlsform_cascading_select.xlsx").toml_text
    headers = [line for line in text.splitlines() if line.startswith("[")]
    assert headers[:4] == ["[survey]", "[choices.states]", "[choices.counties]", "[choices.cities]"]
    assert headers[4:] == ["[[pages]]"] + ["[[pages.questions]]"] * 3
    assert 'label = { en = "Select a state" }' in text


# --------------------------------------------------------------------------- not a form


def test_garbage_file_is_not_an_xlsform(tmp_path: Path) -> None:
    path = tmp_path / "form.xlsx"
    path.write_bytes(b"this is not a spreadsheet")
    with pytest.raises(NotAnXLSForm, match=r"not an \.xls or \.xlsx workbook"):
        convert_xlsform(path)


def test_missing_file_is_not_an_xlsform(tmp_path: Path) -> None:
    with pytest.raises(NotAnXLSForm, match="no such file"):
        convert_xlsform(tmp_path / "absent.xlsx")


def test_workbook_without_survey_sheet_is_not_an_xlsform(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Questions"
    workbook.create_sheet("choices")
    workbook.save(tmp_path / "form.xlsx")
    with pytest.raises(NotAnXLSForm, match=r"no 'survey' sheet \(sheets: Questions, choices\)"):
        convert_xlsform(tmp_path / "form.xlsx")


def test_survey_sheet_without_type_column_is_not_an_xlsform(tmp_path: Path) -> None:
    path = make_form(tmp_path, [["name", "label"], ["age", "Age?"]])
    with pytest.raises(NotAnXLSForm, match="no 'type' column"):
        convert_xlsform(path)


# --------------------------------------------------------------------------- refused rows


def test_every_bad_row_is_listed_with_sheet_row_column_and_reason(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "relevant"],
            ["integer", "age", "Age?"],
            ["text", "why", "Why?", "${age} >> 3"],
            ["telepathy", "mind", "Think"],
            ["text", "age", "Again?"],
            ["geopoint", "where", "Where are you?"],
            ["select_one nolist", "pick", "Pick"],
            ["text", "unlabelled"],
        ],
        choices=[["list_name", "name", "label"], ["other", "a b", "A B"]],
    )
    error = unconvertible(path)
    assert rows_of(error) == [
        ("survey", 3, "relevant"),
        ("survey", 4, "type"),
        ("survey", 5, "name"),
        ("survey", 7, "type"),
        ("survey", 8, "label"),
    ]
    messages = [problem.message for problem in error.problems]
    assert messages[0].startswith("relevant `${age} >> 3`: ")
    assert "at position" in messages[0]
    assert messages[1] == "unknown question type 'telepathy'"
    assert messages[2] == "name 'age' is already used on row 2"
    assert messages[3] == "choice list 'nolist' is not in the choices sheet"
    assert messages[4] == "the question has no label in any language"
    assert "survey row 6: 'geopoint' question 'where' dropped: a location" in notes_text(
        error.notes
    )
    assert "survey row 3, column 'relevant'" in str(error)


@pytest.mark.parametrize(
    ("type_text", "reason"),
    [
        ("select_one_from_file places.csv", "the file 'places.csv' is not in"),
        ("select_one_from_file places.json", "must end in .csv or .xml"),
        ("select_multiple_external places", "unknown question type"),
        ("rank fruit", "ranking questions are not supported"),
        ("sound", "unknown question type 'sound'"),
        ("select_one", "does not name a choice list"),
    ],
)
def test_types_that_cannot_be_converted_say_why(
    tmp_path: Path, type_text: str, reason: str
) -> None:
    path = make_form(
        tmp_path, [["type", "name", "label"], ["text", "ok", "Fine"], [type_text, "q", "Question"]]
    )
    error = unconvertible(path)
    assert rows_of(error) == [("survey", 3, "type")]
    assert reason in error.problems[0].message


@pytest.mark.parametrize(
    "type_text",
    [
        "start",
        "end",
        "today",
        "deviceid",
        "subscriberid",
        "simserial",
        "phonenumber",
        "username",
        "email",
        "audit",
        "start-geopoint",
        "background-audio",
    ],
)
def test_identifying_metadata_is_dropped_with_a_note(tmp_path: Path, type_text: str) -> None:
    path = make_form(
        tmp_path, [["type", "name", "label"], [type_text, "meta"], ["text", "ok", "Fine"]]
    )
    result = convert_xlsform(path)
    assert list(questions(result)) == ["ok"]
    assert f"survey row 2: '{type_text}' row dropped: " in notes_text(result.notes)


def test_expression_using_refused_rows_is_refused_in_turn(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "relevant"],
            ["telepathy", "mind", "Think"],
            ["text", "a", "A", "${mind} != ''"],
            ["text", "b", "B", "${a} != ''"],
            ["text", "d", "D", "${nowhere} = 1"],
        ],
    )
    error = unconvertible(path)
    assert rows_of(error) == [
        ("survey", 2, "type"),
        ("survey", 3, "relevant"),
        ("survey", 4, "relevant"),
        ("survey", 5, "relevant"),
    ]
    text = str(error)
    assert "relevant uses ${mind}, which cannot be converted (row 2)" in text
    assert "relevant uses ${a}, which cannot be converted (row 3)" in text
    assert "relevant uses ${nowhere}, which is not a question in this form" in text


def test_expressions_using_dropped_rows_are_rewritten_and_named(tmp_path: Path) -> None:
    """Never a survey that refers to a missing question, never a silent change of meaning."""
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "relevant", "constraint"],
            ["today", "today"],
            ["image", "photo", "Photo of the damage"],
            ["geopoint", "where", "Where are you?"],
            ["integer", "age", "Age?"],
            ["text", "why", "Why no photo?", "${photo} = ''"],
            ["text", "what", "What does it show?", "${photo} != ''"],
            ["text", "near", "Near what?", "${where} != '' and ${age} > 17"],
            ["integer", "days", "Days since?", None, ". > 0 or ${today} = ''"],
            ["begin group", "more", "More", "${where} != ''"],
            ["text", "detail", "Detail"],
            ["end group"],
        ],
    )
    result = convert_xlsform(path)
    survey = load(result)
    found = questions(result)
    assert "photo" not in found and "where" not in found and "today" not in found
    assert found["why"]["relevant"] == "'' = ''"
    assert found["what"]["relevant"] == "'' != ''"
    assert found["near"]["relevant"] == "'' != '' and ${age} > 17"
    assert found["days"]["constraint"] == ". > 0 or '' = ''"
    assert document(result)["pages"][-1]["relevant"] == "'' != ''"
    kept = {question.id for question in survey.questions()}
    for question in survey.questions():
        for expression in (question.relevant, question.constraint):
            if expression is not None:
                assert expression.references() <= kept
    notes = notes_text(result.notes)
    assert "survey row 3: 'image' question 'photo' dropped: photos" in notes
    assert "respondents are not asked it" in notes
    assert (
        "survey row 6: relevant `${photo} = ''` used ${photo} (row 3), which was dropped; it "
        "now reads it as unanswered: `'' = ''`, so this question is always shown"
    ) in notes
    assert "survey row 7: relevant `${photo} != ''` used ${photo} (row 3)" in notes
    assert "so respondents never see this question" in notes
    assert "survey row 8: relevant" in notes
    assert "so this question is shown as if that question had been left empty" in notes
    assert "survey row 9: constraint" in notes
    assert "answers are checked as if that question had been left empty" in notes
    assert "survey row 10: relevant" in notes and "respondents never see this page" in notes


@pytest.mark.parametrize(
    ("name", "label", "asked"),
    [
        ("q1", "What is your name?", "a name"),
        ("q2", "Nom complet", "a name"),
        ("contact", "Your mobile number, so we can call you back", "a phone number"),
        ("q4", "Número de teléfono", "a phone number"),
        ("home", "Home address", "an address"),
        ("phone_number", "How can we reach you?", "a phone number"),
    ],
)
def test_text_question_asking_who_the_respondent_is_gets_a_warning(
    tmp_path: Path, name: str, label: str, asked: str
) -> None:
    path = make_form(
        tmp_path,
        [["type", "name", "label"], ["text", name, label], ["text", "town", "Which town?"]],
    )
    result = convert_xlsform(path)
    warnings = [str(n) for n in result.notes if "seems to ask" in n.message]
    assert warnings == [
        f"survey row 2: warning: text question '{name}' seems to ask for {asked}, which "
        f"identifies the respondent and the answers they give; remove it or ask for less "
        f"(a region, not an address)"
    ]
    assert name in questions(result)  # kept: the programme decides


def test_picture_only_options_show_their_name_with_a_warning() -> None:
    result = convert_xlsform(XLSFORMS / "pyxform_table_list.xls")
    lists = document(result)["choices"]
    assert lists["happy_sad"]["options"] == [
        {"value": "happy", "label": {"en": "happy"}},
        {"value": "sad", "label": {"en": "sad"}},
    ]
    notes = notes_text(result.notes)
    assert (
        "choices row 23: warning: option 'happy' of list 'happy_sad' has only a picture or "
        "sound (happy.jpg), which is not shown; respondents see its name 'happy' instead"
    ) in notes
    pages = document(result)["pages"]
    assert pages[1]["intro"] == {"en": "This is a user-defined hint for the 1st row"}
    labelled = convert_xlsform(XLSFORMS / "kobodocs_xlsform_example.xls")
    assert "its picture or sound (happy_face.png) is not shown, only its label" in notes_text(
        labelled.notes
    )


def test_text_inserting_what_cannot_be_inserted_is_named_never_shown_silently(
    tmp_path: Path,
) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "hint", "calculation"],
            ["integer", "n", "How many children?"],
            ["calculate", "double", None, None, "${n} * 2"],
            ["text", "why", "Why ${n}?", "You said ${n}, twice is ${double}"],
        ],
    )
    result = convert_xlsform(path)
    notes = notes_text(result.notes)
    assert (
        "survey row 4: warning: the label inserts ${n}, which is answered on the same page (only "
        "answers from earlier pages are inserted), so respondents see ${n} as written: reword "
        "the label"
    ) in notes
    assert (
        "survey row 4: warning: the hint inserts ${double}, which is a calculation that uses an "
        "answer not given on an earlier page (only answers from earlier pages, and calculations "
        "of them, are inserted), so respondents see ${double} as written"
    ) in notes
    assert "[calculations]" not in result.toml_text


def test_a_calculation_in_use_is_computed_where_it_is_used(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "calculation", "relevant"],
            ["integer", "n", "How many?"],
            ["calculate", "unused", None, "${n} * 2"],
            ["calculate", "double", None, "${n} * 2"],
            ["calculate", "band", None, "if(${double} > 10, 'many', 'few')"],
            ["integer", "m", "Older ones?", None, "${double} > 4"],
            ["text", "few", "Why few?", None, "${band} = 'few' and ${double} != ''"],
        ],
    )
    result = convert_xlsform(path)
    notes = notes_text(result.notes)
    assert "survey row 3: calculation 'unused' dropped" in notes
    assert "survey row 6: relevant `${double} > 4` uses the calculation ${double} (row 4)" in notes
    assert "uses the calculations ${band} (row 5), ${double} (row 4)" in notes
    survey = load_survey_text(result.toml_text, f"{result.survey_id}.toml")
    questions = {q.id: q for page in survey.pages for q in page.questions}
    assert set(questions) == {"n", "m", "few"}
    many, few = questions["m"].relevant, questions["few"].relevant
    assert many is not None and few is not None
    assert [many.is_true({"n": n}) for n in (1, 2, 3)] == [False, False, True]
    assert [few.is_true({"n": n}) for n in (1, 5, 6)] == [True, True, False]
    # A calculation that cannot be computed is empty, as ODK stores it: not "NaN".
    assert not few.is_true({})


@pytest.mark.parametrize(
    ("calculations", "message"),
    [
        ([["calculate", "a", None, "${b} + 1"], ["calculate", "b", None, "${a} + 1"]], "circle"),
        ([["calculate", "a", None, "pulldata('f', 'c', 'k', ${n})"]], "unknown function"),
    ],
)
def test_a_calculation_that_cannot_be_computed_is_refused(
    tmp_path: Path, calculations: list[list[str | None]], message: str
) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "calculation", "relevant"],
            ["integer", "n", "How many?"],
            *calculations,
            ["integer", "m", "More?", None, "${a} > 4"],
        ],
    )
    error = unconvertible(path)
    assert any(p.column == "calculation" and message in p.message for p in error.problems)


def test_the_same_name_in_two_groups_is_kept_and_an_ambiguous_reference_refused(
    tmp_path: Path,
) -> None:
    rows: list[Cells] = [
        ["type", "name", "label", "relevant"],
        ["begin group", "mother", "Mother"],
        ["integer", "age", "Her age?"],
        ["end group"],
        ["begin group", "father", "Father"],
        ["integer", "age", "His age?"],
        ["end group"],
    ]
    result = convert_xlsform(make_form(tmp_path, rows))
    assert (
        "survey row 6: question name 'age' is also used on row 3, in another group (as ODK "
        "allows); this one is 'age_2' in the survey"
    ) in notes_text(result.notes)
    pages = load(result).pages
    assert [[q.id for q in page.questions] for page in pages] == [["age"], ["age_2"]]
    used = make_form(tmp_path, [*rows, ["text", "why", "Why?", "${age} > 60"]], name="used.xlsx")
    error = unconvertible(used)
    assert rows_of(error) == [("survey", 8, "relevant")]
    assert "names rows 3, 6 (in different groups), so which one is meant is unclear" in (
        error.problems[0].message
    )
    same_group = make_form(
        tmp_path,
        [["type", "name", "label"], ["integer", "age", "Age?"], ["integer", "age", "Again?"]],
        name="same.xlsx",
    )
    assert "name 'age' is already used on row 2" in unconvertible(same_group).problems[0].message


def test_language_codes_and_names_are_read_as_iso_codes(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label::English (en)", "label::Nepali (np)", "label::Dinka"],
            ["integer", "age", "Age?", "उमेर?", "Run?"],
        ],
    )
    result = convert_xlsform(path)
    assert (
        "survey row 1: language code 'np' in column 'label::Nepali (np)' is Nepal's country "
        "code: read as 'ne'"
    ) in notes_text(result.notes)
    survey = load(result)
    assert [language.code for language in survey.languages] == ["en", "ne", "din"]
    native = make_form(
        tmp_path,
        [["type", "name", "label::नेपाली", "label::pt_BR"], ["integer", "age", "उमेर?", "Idade?"]],
        name="native.xlsx",
    )
    assert [lang.code for lang in load(convert_xlsform(native)).languages] == ["ne", "pt-BR"]


def test_text_only_in_a_picture_is_named_and_never_required(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "image", "required"],
            ["note", "faces", None, "faces.png"],
            ["select_one l", "mood", None, "mood.png", "yes"],
            ["integer", "age", "Age?", None, "yes"],
        ],
        choices=[["list_name", "name", "label"], ["l", "good", "Good"], ["l", "bad", "Bad"]],
    )
    result = convert_xlsform(path)
    notes = notes_text(result.notes)
    assert (
        "survey row 2: note 'faces' dropped: it only shows a picture or sound (faces.png), "
        "which is not shown"
    ) in notes
    assert (
        "survey row 3: warning: question 'mood' is asked only with a picture or sound "
        "(mood.png), which is not shown; respondents see its name 'mood' instead"
    ) in notes
    assert "survey row 3: question 'mood' is no longer required" in notes
    questions = {q.id: q for page in load(result).pages for q in page.questions}
    assert set(questions) == {"mood", "age"}
    assert not questions["mood"].required and questions["age"].required


def test_a_repeat_inside_a_repeat_is_refused_at_its_begin_row(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "repeat_count"],
            ["begin repeat", "children", "Children", "2"],
            ["begin repeat", "visits", "Visits", "2"],
            ["text", "child_age", "Age"],
            ["end repeat"],
            ["end repeat"],
            ["text", "ok", "Fine"],
        ],
    )
    error = unconvertible(path)
    assert rows_of(error) == [("survey", 3, "type")]
    assert "a repeat inside a repeat (row 2) is not supported" in error.problems[0].message


def test_unbalanced_groups_are_refused(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label"],
            ["end group"],
            ["begin group", "g", "G"],
            ["text", "t", "T"],
        ],
    )
    assert rows_of(unconvertible(path)) == [("survey", 2, "type"), ("survey", 3, "type")]


def test_choice_rows_are_refused_only_for_lists_in_use(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [["type", "name", "label"], ["select_one fruit", "fruit", "Fruit?"]],
        choices=[
            ["list_name", "name", "label"],
            ["fruit", "apple", "Apple"],
            ["fruit", "apple", "Apple again"],
            ["fruit", "passion fruit", "Passion fruit"],
            ["fruit", "pear"],
            ["fruit", None, "Nameless"],
            ["unused", "x y", None],
        ],
    )
    error = unconvertible(path)
    assert rows_of(error) == [
        ("choices", 3, "name"),
        ("choices", 5, "label"),
        ("choices", 6, "name"),
    ]
    assert "appears twice in list 'fruit' (also row 2)" in error.problems[0].message


def test_option_names_with_spaces_or_quotes_are_stored_without_them(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "relevant"],
            ["select_one l", "q", "Q?"],
            ["text", "why", "Why?", "${q} = 'passion fruit' or selected(${q}, \"don't know\")"],
        ],
        choices=[
            ["list_name", "name", "label"],
            ["l", "passion fruit", "Passion fruit"],
            ["l", "don't know", "Don't know"],
        ],
    )
    result = convert_xlsform(path)
    assert (
        "choices row 2: option 'passion fruit' of list 'l' is stored as 'passion_fruit' (values "
        "have no spaces or quotes); a relevant, constraint or choice_filter comparing an answer "
        "with 'passion fruit' compares with 'passion_fruit'"
    ) in notes_text(result.notes)
    questions = {q.id: q for page in load(result).pages for q in page.questions}
    assert [c.value for c in questions["q"].choices] == ["passion_fruit", "don_t_know"]
    why = questions["why"].relevant
    assert why is not None
    assert why.source == "${q} = 'passion_fruit' or selected(${q}, 'don_t_know')"
    assert [why.is_true({"q": v}) for v in ("passion_fruit", "don_t_know", "x")] == [
        True,
        True,
        False,
    ]


def test_duplicate_names_in_a_cascading_list_are_one_answer_as_in_odk() -> None:
    result = convert_xlsform(XLSFORMS / "pyxform_choice_filter.xlsx")
    notes = notes_text(result.notes)
    assert (
        "choices row 6: option 'king' appears twice in list 'counties' (also row 4), as "
        "allow_choice_duplicates allows: both store 'king', so they are one option, offered "
        "when cf is washington or texas"
    ) in notes
    assert "choice_filter `${state}=cf` reads `selected(cf, ${state})`" in notes
    survey = load(result)
    county = next(q for page in survey.pages for q in page.questions if q.id == "county")
    offered = {
        state: [c.value for c in visible_choices(county, {"state": state})]
        for state in ("texas", "washington")
    }
    assert offered == {"texas": ["king", "cameron"], "washington": ["king", "pierce"]}


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ([["c", "king", "King, Texas", "texas"]], "with a different label"),
        ([["c", "king", "King", "tex as"]], "which cannot be merged"),
        ([["c", "king", "King", None]], "which cannot be merged"),
    ],
)
def test_duplicate_names_that_cannot_be_one_answer_are_refused(
    tmp_path: Path, rows: list[Cells], reason: str
) -> None:
    path = make_form(
        tmp_path,
        [["type", "name", "label", "choice_filter"], ["select_one c", "county", "County?"]],
        choices=[["list_name", "name", "label", "cf"], ["c", "king", "King", "washington"], *rows],
        settings=[["allow_choice_duplicates"], ["yes"]],
    )
    assert reason in unconvertible(path).problems[0].message
    without = make_form(
        tmp_path,
        [["type", "name", "label"], ["select_one c", "county", "County?"]],
        choices=[
            ["list_name", "name", "label", "cf"],
            ["c", "king", "King", "a"],
            ["c", "king", "King", "b"],
        ],
        name="strict.xlsx",
    )
    assert "appears twice" in unconvertible(without).problems[0].message


def test_a_filter_comparing_with_a_missing_column_is_kept_as_odk_reads_it() -> None:
    result = convert_xlsform(XLSFORMS / "pyxform_or_other.xlsx")
    notes = notes_text(result.notes)
    assert (
        "survey row 3: warning: choice_filter `pastel=yes` compares with 'yes', which is not a "
        "column of the choices sheet: as in ODK, such a comparison is never true, so it reads "
        "`false()` and no option is offered; if 'yes' is meant as text, put it in quotes"
    ) in notes
    survey = load(result)
    pastel = next(q for page in survey.pages for q in page.questions if q.id == "fav_pastel")
    assert visible_choices(pastel, {}) == ()


def test_or_other_adds_other_to_every_question_using_the_list(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label"],
            ["select_one l or_other", "first", "First?"],
            ["select_multiple l", "second", "Second?"],
        ],
        choices=[["list_name", "name", "label"], ["l", "a", "A"], ["l", "b", "B"]],
    )
    result = convert_xlsform(path)
    assert (
        "survey row 3: 'or_other' on row 2 adds the option 'other' to list 'l', so, as in ODK, "
        "this question offers 'Other' too (without a text box)"
    ) in notes_text(result.notes)
    questions = {q.id: q for page in load(result).pages for q in page.questions}
    assert [c.value for c in questions["second"].choices] == ["a", "b", "other"]
    assert questions["second"].other_id is None
    assert [c.value for c in questions["first"].choices] == ["a", "b"]
    assert questions["first"].other_id == "first_other"


def test_or_other_with_an_existing_other_option_is_refused(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [["type", "name", "label"], ["select_one l or_other", "q", "Q?"]],
        choices=[["list_name", "name", "label"], ["l", "a", "A"], ["l", "other", "Other"]],
    )
    error = unconvertible(path)
    assert rows_of(error) == [("survey", 2, "type")]
    assert "already has one" in error.problems[0].message


def test_conditional_required_is_refused(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "required"],
            ["text", "a", "A", "${b} = 'x'"],
            ["text", "b", "B"],
        ],
    )
    error = unconvertible(path)
    assert rows_of(error) == [("survey", 2, "required")]


def test_relevant_using_a_later_answer_is_refused_at_its_row(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "relevant"],
            ["text", "first", "First", "${second} = 'x'"],
            ["text", "second", "Second"],
        ],
    )
    error = unconvertible(path)
    assert rows_of(error) == [("survey", 2, None)]
    assert "can only use answers given earlier" in error.problems[0].message


def test_unknown_language_name_is_refused_at_its_header(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label::English (en)", "label::Elvish"],
            ["text", "a", "A", "Aa"],
        ],
    )
    error = unconvertible(path)
    assert rows_of(error) == [("survey", 1, "label::Elvish")]
    assert "label::Elvish (xx)" in error.problems[0].message


# --------------------------------------------------------------------------- conversion


def test_types_appearances_and_required_values(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "appearance", "parameters", "required", "default"],
            ["text", "story", "Tell us", "multiline", None, "yes"],
            ["date", "arrived", "When did you arrive?", "month-year", None, "TRUE()"],
            ["date", "born", "Year of birth", "year", None, True],
            ["range", "score", "Score", None, "start=0 end=10 step=1", 1],
            ["range", "stars", "Stars", "rating", "start = 1, end = 5", "no"],
            ["range", "half", "Half points", None, "start=0 end=2 step=0.5", "false"],
            ["integer", "count", "How many?", "thousands-sep", None, None, 3],
        ],
    )
    result = convert_xlsform(path)
    load(result)
    found = questions(result)
    assert found["story"]["type"] == "longtext"
    assert found["arrived"]["precision"] == "month"
    assert found["born"]["precision"] == "year"
    assert (found["score"]["type"], found["score"]["min"], found["score"]["max"]) == (
        "integer",
        0,
        10,
    )
    assert (found["stars"]["type"], found["stars"]["scale"]) == ("rating", 5)
    assert (found["half"]["type"], found["half"]["min"], found["half"]["max"]) == (
        "decimal",
        0.0,
        2.0,
    )
    assert [q for q, v in found.items() if v.get("required")] == [
        "story",
        "arrived",
        "born",
        "score",
    ]
    notes = notes_text(result.notes)
    assert "survey row 8: appearance 'thousands-sep' is not supported" in notes
    assert "survey row 8: default '3' ignored" in notes
    assert "survey row 7: range 0-2 converted to a number between them" in notes
    assert "appearance 'rating'" not in notes


def test_groups_become_pages_and_nested_groups_are_flattened(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "relevant"],
            ["start", "start"],
            ["select_one yn", "ok", "Okay?"],
            ["begin group", "safety", "Safety", "${ok} = 'yes'"],
            ["integer", "nights", "Nights?"],
            ["begin_group", "inner", "Inner", "${nights} > 1"],
            ["text", "where", "Where?", "${nights} < 10"],
            ["end_group"],
            ["end group"],
            ["note", "bye", "Thanks"],
            ["begin group", "meta", "Meta"],
            ["deviceid", "device"],
            ["end group"],
        ],
        choices=[["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]],
    )
    result = convert_xlsform(path)
    load(result)
    pages = document(result)["pages"]
    assert [(p["id"], [q["id"] for q in p["questions"]]) for p in pages] == [
        ("page_1", ["ok"]),
        ("safety", ["nights", "where"]),
        ("page_3", ["bye"]),
    ]
    assert pages[1]["relevant"] == "${ok} = 'yes'"
    assert pages[1]["questions"][1]["relevant"] == "(${nights} > 1) and (${nights} < 10)"
    notes = notes_text(result.notes)
    assert "survey row 6: group 'inner' inside group 'safety' flattened" in notes
    assert "survey row 11: group 'meta' dropped" in notes
    assert "survey row 2: 'start' row dropped" in notes
    assert "survey row 12: 'deviceid' row dropped" in notes


def test_invalid_names_are_renamed_and_references_follow(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "relevant", "constraint"],
            ["integer", "Age-Years", "Age?", None, ". >= 18"],
            ["text", "2nd", "Second", "${Age-Years} > 20"],
        ],
    )
    result = convert_xlsform(path)
    load(result)
    found = questions(result)
    assert list(found) == ["age_years", "q_2nd"]
    assert found["q_2nd"]["relevant"] == "${age_years} > 20"
    assert found["age_years"]["constraint"] == ". >= 18"
    assert "name 'Age-Years' renamed to 'age_years'" in notes_text(result.notes)


def test_languages_codes_names_and_missing_translations(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            [
                "type",
                "name",
                "label::English (en)",
                "label::Français",
                "label::العربية",
                "hint::English (en)",
            ],
            ["select_one yn", "safe", "Safe?", "En sécurité ?", "هل شعرت بالأمان؟", "Be honest"],
            ["text", "why", "Why?", None, "لماذا؟"],
        ],
        choices=[
            ["list name", "name", "label::English (en)", "label::Français", "label::العربية"],
            ["yn", "yes", "Yes", "Oui", "نعم"],
            ["yn", "no", "No", "Non"],
        ],
        settings=[
            ["form_title", "form_id", "default_language", "version"],
            ["Feedback", "Service Feedback!", "Français", "2024-01"],
        ],
    )
    result = convert_xlsform(path)
    assert result.survey_id == "service-feedback"
    table = document(result)["survey"]
    assert table["default_language"] == "fr"
    assert table["languages"] == ["fr", "en", "ar"]
    assert table["title"] == {"fr": "Feedback", "en": "Feedback", "ar": "Feedback"}
    assert questions(result)["why"]["label"] == {"en": "Why?", "ar": "لماذا؟"}
    notes = notes_text(result.notes)
    assert "survey: no 'fr' text on rows 2, 3;" in notes  # the hint of row 2, the label of 3
    assert "survey: no 'ar' text on row 2;" in notes
    assert "choices: no 'ar' text on row 3" in notes
    assert "settings row 2: version '2024-01' ignored" in notes
    # Served: each missing text falls back to the default language, and check warns of it.
    survey, warnings = load_survey_text_with_warnings(result.toml_text, "service-feedback.toml")
    assert survey.text(survey.question("safe").hint, "ar") == "Be honest"
    assert warnings and all(
        problem.warning and "missing translation" in problem.message for problem in warnings
    )


def test_single_colon_language_beside_double_colons_is_read_as_pyxform_reads_it(
    tmp_path: Path,
) -> None:
    # pyxform splits headers on ":" only when no header uses "::"; otherwise `label:Français`
    # is not a label at all. The import follows it, and says the column was ignored.
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label::English (en)", "label:Français"],
            ["text", "why", "Why?", "Pourquoi ?"],
        ],
    )
    result = convert_xlsform(path)
    assert document(result)["survey"]["languages"] == ["en"]
    assert "column 'label:Français' is not supported and was ignored" in notes_text(result.notes)


def test_older_column_names_mean_what_pyxform_reads_them_as(tmp_path: Path) -> None:
    """`bind:relevant`, `bind:required`, `bind:constraint`, `relevance`: no skip logic lost."""
    path = make_form(
        tmp_path,
        [
            [
                "type",
                "name",
                "label:EN",
                "label:FR",
                "bind:relevant",
                "bind:required",
                "bind:constraint",
                "bind:jr:constraintMsg",
            ],
            ["select_one who", "who", "Who?", "Qui ?"],
            [
                "integer",
                "weeks",
                "Weeks pregnant?",
                "Semaines ?",
                "${who} = 'mother'",
                "yes",
                ". < 45",
                "At most 44",
            ],
        ],
        choices=[
            ["list_name", "name", "label:EN", "label:FR"],
            ["who", "mother", "Mother", "Mère"],
            ["who", "child", "Child", "Enfant"],
        ],
    )
    result = convert_xlsform(path)
    weeks = questions(result)["weeks"]
    assert weeks["relevant"] == "${who} = 'mother'"
    assert weeks["required"] is True
    assert weeks["constraint"] == ". < 45"
    assert weeks["constraint_message"] == {"en": "At most 44"}
    assert weeks["label"] == {"en": "Weeks pregnant?", "fr": "Semaines ?"}
    assert document(result)["survey"]["languages"] == ["en", "fr"]
    assert "not supported" not in notes_text(result.notes)

    relevance = make_form(
        tmp_path,
        [
            ["type", "name", "label", "relevance"],
            ["integer", "age", "Age?"],
            ["text", "school", "School?", "${age} < 18"],
        ],
        name="relevance.xlsx",
    )
    assert questions(convert_xlsform(relevance))["school"]["relevant"] == "${age} < 18"


def test_xls_workbooks_are_read() -> None:
    result = convert_xlsform(XLSFORMS / "kobodocs_xlsform_example.xls")
    survey = load(result)
    assert len(survey.questions()) == 3


def test_survey_id_and_default_language_can_be_chosen(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label::English (en)", "label::Swahili (sw)"],
            ["text", "a", "A", "Aa"],
        ],
    )
    result = convert_xlsform(path, survey_id="check-in", default_language="sw")
    assert result.survey_id == "check-in"
    assert document(result)["survey"]["languages"] == ["sw", "en"]
    with pytest.raises(InvalidSurveyId):
        convert_xlsform(path, survey_id="../escape")
    with pytest.raises(UnknownLanguage, match="no text in 'fr'"):
        convert_xlsform(path, default_language="fr")


def test_acknowledge_after_the_first_page_becomes_yes_no(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "relevant"],
            ["begin group", "intro", "Intro"],
            ["note", "hello", "Hello"],
            ["end group"],
            ["acknowledge", "ack", "Click OK to go on"],
            ["text", "more", "More?", "${ack} = \u201cOK\u201d"],
        ],
    )
    result = convert_xlsform(path)
    load(result)
    found = questions(result)
    assert found["ack"]["type"] == "yesno"
    assert found["more"]["relevant"] == "${ack} = 'yes'"


# --------------------------------------------------------------------------- writing


def test_write_import_writes_the_file_and_refuses_to_overwrite(tmp_path: Path) -> None:
    path = make_form(tmp_path, [["type", "name", "label"], ["text", "a", "A"]])
    result = convert_xlsform(path, survey_id="mine")
    folder = tmp_path / "surveys"
    written = write_import(result, folder)
    assert written == folder / "mine.toml"
    assert written.read_text(encoding="utf-8") == result.toml_text
    written.write_text("edited by hand", encoding="utf-8")
    with pytest.raises(SurveyExists, match="--force"):
        write_import(result, folder)
    assert written.read_text(encoding="utf-8") == "edited by hand"
    assert sorted(p.name for p in folder.iterdir()) == ["mine.toml"]
    write_import(result, folder, overwrite=True)
    assert written.read_text(encoding="utf-8") == result.toml_text
    assert sorted(p.name for p in folder.iterdir()) == ["mine.toml"]


def test_nothing_is_written_when_conversion_fails(tmp_path: Path) -> None:
    path = make_form(tmp_path, [["type", "name", "label"], ["time", "t", "When?"]])
    folder = tmp_path / "surveys"
    folder.mkdir()
    with pytest.raises(UnconvertibleRows):
        write_import(convert_xlsform(path), folder)
    assert list(folder.iterdir()) == []


def test_write_import_refuses_an_id_that_is_not_a_file_name(tmp_path: Path) -> None:
    result = ImportResult(survey_id="../outside", toml_text="format = 1\n", notes=())
    with pytest.raises(InvalidSurveyId):
        write_import(result, tmp_path / "surveys")
    assert not (tmp_path / "outside.toml").exists()


def test_converted_survey_loads_with_its_types(tmp_path: Path) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label"],
            ["select_multiple help", "help", "Which help?"],
            ["decimal", "km", "How far?"],
            ["note", "n", "Note"],
        ],
        choices=[
            ["list_name", "name", "label"],
            ["help", "legal", "Legal"],
            ["help", "medical", "Medical"],
        ],
    )
    survey = load(convert_xlsform(path))
    assert [q.type for q in survey.questions()] == [
        QuestionType.MULTIPLE,
        QuestionType.DECIMAL,
        QuestionType.NOTE,
    ]


def test_a_calculation_a_label_shows_but_the_survey_cannot_compute_is_dropped_not_refused(
    tmp_path: Path,
) -> None:
    path = make_form(
        tmp_path,
        [
            ["type", "name", "label", "calculation"],
            ["integer", "n", "How many?", None],
            ["calculate", "fruit", None, "pulldata('fruits', 'name', 'name', 'mango')"],
            ["note", "show", "Fruit: ${fruit}", None],
        ],
    )
    result = convert_xlsform(path)
    notes = notes_text(result.notes)
    assert (
        "survey row 3: calculation 'fruit' dropped: no question uses it (compute it in the "
        "report if it is needed); the text on row 4 shows ${fruit} as written"
    ) in notes
    assert (
        "survey row 4: warning: the label inserts ${fruit}, which is a calculation that cannot "
        "be computed (see its row), so respondents see ${fruit} as written"
    ) in notes
