"""Choice lists kept in files next to an XLSForm: `select_one_from_file`, `search()`, and the
external_choices sheet, imported through `survey-app surveys import` and served as ordinary
options; files that cannot be read as a list are refused naming the file and the reason."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from survey_app.definitions.xlsform import XLSFormError, convert_xlsform
from survey_app.definitions.xlsform_choices import LONG_LIST
from survey_app.definitions.xlsform_files import MAX_FILE_BYTES
from survey_app.state import app_state
from tests.support.apps import deploy
from tests.support.imported import first_page, serve_import
from tests.support.web import Respondent
from tests.test_surveys_cli import run
from tests.test_xlsform import XLSFORMS, make_form

PLACES = "name,label,region\nnorth_town,North Town,north\nsouth_town,South Town,south\n"


def places_form(tmp_path: Path, type_text: str = "select_one_from_file places.csv") -> Path:
    return make_form(
        tmp_path,
        [
            ["type", "name", "label", "parameters"],
            ["integer", "age", "How old are you?"],
            [type_text, "town", "Which town are you from?"],
        ],
    )


def survey_of(text: str) -> dict[str, Any]:
    return tomllib.loads(text)


def options(survey: dict[str, Any], question: str) -> list[tuple[str, str]]:
    asked = {q["id"]: q for page in survey["pages"] for q in page["questions"]}[question]
    return [
        (option["value"], next(iter(option["label"].values())))
        for option in survey["choices"][asked["choices"]]["options"]
    ]


def refusal(path: Path, **options: Any) -> str:
    with pytest.raises(XLSFormError) as caught:
        convert_xlsform(path, **options)
    return "\n".join(str(problem) for problem in caught.value.problems)


# --------------------------------------------------------------------------- through the CLI


def test_cli_import_copies_the_options_of_a_csv_next_to_the_form(tmp_path: Path) -> None:
    form = places_form(tmp_path)
    (tmp_path / "places.csv").write_text(PLACES, encoding="utf-8")
    surveys = tmp_path / "surveys"
    code, output = run("surveys", "import", str(form), "--id", "towns", surveys=surveys)
    assert code == 0, output
    assert "survey row 3: 2 options read from 'places.csv'" in output
    survey = survey_of((surveys / "towns.toml").read_text(encoding="utf-8"))
    assert options(survey, "town") == [("north_town", "North Town"), ("south_town", "South Town")]
    code, output = run("surveys", "check", surveys=surveys)
    assert code == 0, output


def test_cli_reads_the_files_from_the_folder_it_is_given(tmp_path: Path) -> None:
    form = places_form(tmp_path)
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "places.csv").write_text(PLACES, encoding="utf-8")
    surveys = tmp_path / "surveys"
    code, output = run("surveys", "import", str(form), "--files", str(lists), surveys=surveys)
    assert code == 0, output
    assert (surveys / "form.toml").is_file()


def test_cli_refuses_a_missing_file_naming_it_the_row_and_where_it_looked(
    tmp_path: Path,
) -> None:
    form = places_form(tmp_path)
    surveys = tmp_path / "surveys"
    code, output = run("surveys", "import", str(form), surveys=surveys)
    assert code != 0
    assert "survey row 3, column 'type': the file 'places.csv' is not in" in output
    assert str(tmp_path.resolve()) in output
    assert "Traceback" not in output
    assert not surveys.exists() or not list(surveys.iterdir())


# --------------------------------------------------------------------------- served


def test_options_from_a_file_are_served_to_respondents(tmp_path: Path, database_url: str) -> None:
    form = places_form(tmp_path)
    (tmp_path / "places.csv").write_text(PLACES, encoding="utf-8")
    app = serve_import(convert_xlsform(form, survey_id="towns"), tmp_path, database_url)
    (tmp_path / "places.csv").unlink()  # the survey served never reads the file
    try:
        status, html = first_page(app, "towns")
    finally:
        app_state(app).database.dispose()
    assert status == 200
    assert "North Town" in html and "South Town" in html


# --------------------------------------------------------------------------- as pyxform reads it


def test_parameters_name_the_value_and_label_columns(tmp_path: Path) -> None:
    form = make_form(
        tmp_path,
        [
            ["type", "name", "label", "parameters"],
            ["select_multiple_from_file towns.csv", "towns", "Towns?", "value=code label=title"],
        ],
    )
    (tmp_path / "towns.csv").write_text(
        "code,title,name,label\nn1,Northtown,x,ignored\ns1,Southtown,y,ignored\n", encoding="utf-8"
    )
    survey = survey_of(convert_xlsform(form).toml_text)
    assert options(survey, "towns") == [("n1", "Northtown"), ("s1", "Southtown")]
    asked = survey["pages"][0]["questions"][0]
    assert asked["type"] == "multiple"


def test_a_column_the_parameters_name_must_be_in_the_file(tmp_path: Path) -> None:
    form = make_form(
        tmp_path,
        [
            ["type", "name", "label", "parameters"],
            ["select_one_from_file t.csv", "t", "T?", "value=code"],
        ],
    )
    (tmp_path / "t.csv").write_text(PLACES, encoding="utf-8")
    assert "survey row 2, column 'type': 't.csv' has no column 'code'" in refusal(form)


def test_a_choice_filter_on_a_file_column_is_kept(tmp_path: Path) -> None:
    form = make_form(
        tmp_path,
        [
            ["type", "name", "label", "choice_filter"],
            ["select_one regions", "region", "Region?"],
            ["select_one_from_file places.csv", "town", "Town?", "region=${region}"],
        ],
        choices=[
            ["list_name", "name", "label"],
            ["regions", "north", "North"],
            ["regions", "south", "South"],
        ],
    )
    (tmp_path / "places.csv").write_text(PLACES, encoding="utf-8")
    survey = survey_of(convert_xlsform(form).toml_text)
    town = survey["pages"][0]["questions"][1]
    assert town["choice_filter"] == "region=${region}"
    assert [o["region"] for o in survey["choices"][town["choices"]]["options"]] == [
        "north",
        "south",
    ]


def test_an_xml_list_is_read_like_odk_reads_it(tmp_path: Path) -> None:
    form = places_form(tmp_path, "select_one_from_file places.xml")
    (tmp_path / "places.xml").write_text(
        "<root><item><name>a</name><label>Alpha</label></item>"
        "<item><name>b</name><label>Beta</label></item></root>",
        encoding="utf-8",
    )
    assert options(survey_of(convert_xlsform(form).toml_text), "town") == [
        ("a", "Alpha"),
        ("b", "Beta"),
    ]


def test_a_map_file_is_dropped_as_location_and_what_used_it_is_rewritten(tmp_path: Path) -> None:
    form = make_form(
        tmp_path,
        [
            ["type", "name", "label", "relevant"],
            ["select_one_from_file places.geojson", "spot", "Where are you?"],
            ["text", "why", "Why there?", "${spot} != ''"],
        ],
    )
    result = convert_xlsform(form)
    notes = "\n".join(str(note) for note in result.notes)
    assert "survey row 2: 'select_one_from_file places.geojson' question 'spot' dropped" in notes
    assert "would identify the respondent" in notes
    assert "spot" not in result.toml_text.replace("Why there?", "")
    assert "survey row 3: relevant" in notes


def test_the_select_from_map_example_imports_with_the_files_kobotoolbox_publishes() -> None:
    result = convert_xlsform(XLSFORMS / "kobodocs_select_from_map.xlsx")
    survey = survey_of(result.toml_text)
    cities = [("1", "Warsaw"), ("2", "Berlin"), ("3", "Paris"), ("4", "Kyiv"), ("5", "Prague")]
    assert options(survey, "city1") == cities  # cities1.csv
    assert options(survey, "city3") == cities  # cities3.xml
    assert "city2" not in result.names  # cities2.geojson: a map of places, dropped


# --------------------------------------------------------------------------- search()


def test_search_reads_the_columns_the_choices_row_names_in_each_language(tmp_path: Path) -> None:
    form = make_form(
        tmp_path,
        [
            ["type", "name", "label::English (en)", "label::Français (fr)", "appearance"],
            ["select_one towns", "town", "Town?", "Ville ?", "search('places')"],
        ],
        choices=[
            ["list_name", "name", "label::English (en)", "label::Français (fr)"],
            ["towns", "code", "english", "french"],
        ],
    )
    (tmp_path / "places.csv").write_text(
        "code,english,french,region\nn,North,Nord,north\ns,South,Sud,south\n", encoding="utf-8"
    )
    survey = survey_of(convert_xlsform(form).toml_text)
    town = survey["pages"][0]["questions"][0]
    assert survey["choices"][town["choices"]]["options"][0]["label"] == {
        "en": "North",
        "fr": "Nord",
    }
    assert [o["value"] for o in survey["choices"][town["choices"]]["options"]] == ["n", "s"]


def test_search_with_a_fixed_filter_keeps_the_matching_rows(tmp_path: Path) -> None:
    form = make_form(
        tmp_path,
        [
            ["type", "name", "label", "appearance"],
            ["select_one towns", "town", "Town?", "search('places', 'matches', 'region', 'south')"],
        ],
        choices=[["list_name", "name", "label"], ["towns", "name", "label"]],
    )
    (tmp_path / "places.csv").write_text(PLACES, encoding="utf-8")
    result = convert_xlsform(form)
    assert options(survey_of(result.toml_text), "town") == [("south_town", "South Town")]
    assert "appearance" not in "\n".join(str(note) for note in result.notes)


def test_search_filtering_on_an_answer_becomes_a_choice_filter(tmp_path: Path) -> None:
    form = make_form(
        tmp_path,
        [
            ["type", "name", "label", "appearance"],
            ["select_one regions", "r", "Region?"],
            ["select_one towns", "town", "Town?", "search('places', 'matches', 'region', ${r})"],
        ],
        choices=[
            ["list_name", "name", "label"],
            ["regions", "north", "North"],
            ["regions", "south", "South"],
            ["towns", "name", "label"],
        ],
    )
    (tmp_path / "places.csv").write_text(PLACES, encoding="utf-8")
    result = convert_xlsform(form)
    survey = survey_of(result.toml_text)
    town = survey["pages"][0]["questions"][1]
    assert town["choice_filter"] == "region = ${r}"
    assert [o["region"] for o in survey["choices"][town["choices"]]["options"]] == [
        "north",
        "south",
    ]
    assert "kept as the choice_filter `region = ${r}`" in "\n".join(map(str, result.notes))


def test_search_comparing_an_answer_with_the_label_is_refused_with_the_row(
    tmp_path: Path,
) -> None:
    form = make_form(
        tmp_path,
        [
            ["type", "name", "label", "appearance"],
            ["text", "r", "Region?"],
            ["select_one towns", "town", "Town?", "search('places', 'contains', 'label', ${r})"],
        ],
        choices=[["list_name", "name", "label"], ["towns", "name", "label"]],
    )
    (tmp_path / "places.csv").write_text(PLACES, encoding="utf-8")
    assert "survey row 3, column 'appearance': search() filtering on an earlier answer" in (
        refusal(form)
    )


# --------------------------------------------------------------------------- external_choices


def test_select_one_external_reads_the_external_choices_sheet(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "survey"
    for row in (
        ["type", "name", "label", "choice_filter"],
        ["select_one regions", "region", "Region?"],
        ["select_one_external towns", "town", "Town?", "region=${region}"],
    ):
        sheet.append(row)
    choices = workbook.create_sheet("choices")
    for row in (["list_name", "name", "label"], ["regions", "north", "North"]):
        choices.append(row)
    external = workbook.create_sheet("external_choices")
    for row in (
        ["list_name", "name", "label", "region"],
        ["towns", "n1", "Northtown", "north"],
        ["towns", "n2", "Norbury", "north"],
    ):
        external.append(row)
    path = tmp_path / "external.xlsx"
    workbook.save(path)
    survey = survey_of(convert_xlsform(path).toml_text)
    assert options(survey, "town") == [("n1", "Northtown"), ("n2", "Norbury")]
    assert survey["pages"][0]["questions"][1]["choice_filter"] == "region=${region}"


# --------------------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,label\nn,Caf\xe9\n".encode("latin-1"), "'places.csv' is not UTF-8 text (byte 0xe9"),
        (b"", "'places.csv' is empty"),
        (b"name,label,name\nn,N,x\n", "the column 'name' is named twice"),
        (b"name,label\nn,N,extra\n", "'places.csv' row 2 has 3 cells but the header names 2"),
        (b"name,region\nn,north\n", "'places.csv' has no column 'label'"),
        (
            b"name,label\nn,North\nn,Nord\n",
            "places.csv row 3, column 'name': option 'n' appears twice",
        ),
        (b"name,label\nn,\n", "places.csv row 2, column 'label': option 'n' has no label"),
        (
            b"name,label\n" + b"n,N\n" * 1 + b"x" * MAX_FILE_BYTES,
            "a choice list file may be at most",
        ),
    ],
    ids=[
        "encoding",
        "empty",
        "column-twice",
        "extra-cells",
        "no-label",
        "duplicate",
        "no-label-cell",
        "too-large",
    ],
)
def test_a_file_that_is_not_a_clean_list_is_refused_saying_why(
    tmp_path: Path, content: bytes, message: str
) -> None:
    form = places_form(tmp_path)
    (tmp_path / "places.csv").write_bytes(content)
    assert message in refusal(form)


def test_a_file_name_cannot_reach_outside_the_folder(tmp_path: Path) -> None:
    inner = tmp_path / "form"
    inner.mkdir()
    (tmp_path / "places.csv").write_text(PLACES, encoding="utf-8")
    form = places_form(inner, "select_one_from_file ../places.csv")
    assert "'../places.csv' is not a file name" in refusal(form)


def test_a_long_list_from_a_file_is_imported_with_a_warning(tmp_path: Path) -> None:
    form = places_form(tmp_path)
    rows = "".join(f"t{n},Town {n}\n" for n in range(LONG_LIST + 1))
    (tmp_path / "places.csv").write_text("name,label\n" + rows, encoding="utf-8")
    result = convert_xlsform(form)
    assert len(options(survey_of(result.toml_text), "town")) == LONG_LIST + 1
    notes = "\n".join(str(note) for note in result.notes)
    assert (
        f"survey row 3: warning: 'places.csv' gives this question {LONG_LIST + 1} options" in notes
    )


def test_a_search_on_an_earlier_answer_offers_the_matching_options(
    tmp_path: Path, database_url: str
) -> None:
    form = make_form(
        tmp_path,
        [
            ["type", "name", "label", "appearance"],
            ["begin group", "where", "Where"],
            ["select_one regions", "r", "Region?"],
            ["end group"],
            ["begin group", "town_page", "Town"],
            ["select_one towns", "town", "Town?", "search('places', 'matches', 'region', ${r})"],
            ["end group"],
        ],
        choices=[
            ["list_name", "name", "label"],
            ["regions", "north", "North"],
            ["regions", "south", "South"],
            ["towns", "name", "label"],
        ],
    )
    (tmp_path / "places.csv").write_text(PLACES, encoding="utf-8")
    app = serve_import(convert_xlsform(form, survey_id="towns"), tmp_path, database_url)
    try:
        respondent = Respondent(app.test_client(), deploy(app).links["towns"])
        respondent.start()
        respondent.submit(1, {"r": "south"})
        second = respondent.html
    finally:
        app_state(app).database.dispose()
    assert "Town?" in second
    assert "South Town" in second and "North Town" not in second
