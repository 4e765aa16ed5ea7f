"""Conformance with pyxform: every real form read by the reference converter and by our import.

For each form in tests/fixtures/xlsforms: if the import refuses it, the refusal names rows and
reasons; if it imports it, the survey loads and, question by question, says what pyxform says
(type, choices, relevant, constraint, required, label languages), and every question pyxform
has that the survey lacks is named in a note saying it was dropped.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyxform.errors import PyXFormError

from survey_app.definitions.xlsform import XLSFormError, convert_xlsform
from tests.support.conformance import differences, pyxform_questions

XLSFORMS = Path(__file__).resolve().parent / "fixtures" / "xlsforms"
FORMS = sorted(path.name for path in XLSFORMS.glob("*.xls*"))


@pytest.mark.parametrize("name", FORMS)
def test_import_means_what_pyxform_reads(name: str) -> None:
    path = XLSFORMS / name
    try:
        pyxform_questions(path)
    except PyXFormError:
        pyxform_valid = False
    else:
        pyxform_valid = True
    try:
        result = convert_xlsform(path)
    except XLSFormError as error:
        assert error.problems, f"{name} refused without naming a row: {error}"
        return
    assert pyxform_valid, f"{name}: imported although pyxform refuses it"
    assert differences(path, result) == []


def test_the_comparison_sees_a_changed_meaning(tmp_path: Path) -> None:
    """The comparison itself fails when a kept question means something else."""
    path = XLSFORMS / "kobodocs_skip_matrix.xls"
    result = convert_xlsform(path)
    assert differences(path, result) == []
    first = next(iter(result.names.values()))
    changed = result.toml_text.replace('relevant = "', 'relevant = "1 = 1 and ', 1)
    assert changed != result.toml_text
    altered = type(result)(result.survey_id, changed, result.notes, result.names)
    assert differences(path, altered), first


@pytest.mark.parametrize(
    ("name", "written", "planted"),
    [
        ("pyxform_xlsform_spec_test.xlsx", "repeat_count = 2\n", "repeat_count = 3\n"),
        ("pyxform_xlsform_spec_test.xlsx", "repeat_count = 2\n", ""),
        (
            "pyxform_loop.xlsx",
            'repeat_over = "toilet_type_or_other"',
            'repeat_over = "toilet_type"',
        ),
        ("pyxform_tutorial.xls", 'repeat_count = "${member_count}"\n', ""),
    ],
)
def test_the_comparison_sees_a_repeat_asked_another_number_of_times(
    name: str, written: str, planted: str
) -> None:
    """A repeat asked more or fewer times than pyxform's reading (or not repeated) is seen."""
    path = XLSFORMS / name
    result = convert_xlsform(path)
    assert differences(path, result) == []
    changed = result.toml_text.replace(written, planted, 1)
    assert changed != result.toml_text
    altered = type(result)(result.survey_id, changed, result.notes, result.names, result.name_rows)
    assert any("repeat" in difference for difference in differences(path, altered))


def test_the_comparison_reads_the_files_of_choices_as_odk_does() -> None:
    """Options copied from a file next to the form are compared with the file's rows."""
    path = XLSFORMS / "kobodocs_select_from_map.xlsx"
    result = convert_xlsform(path)
    assert differences(path, result) == []
    changed = result.toml_text.replace('value = "5", label = { en = "Prague" }', 'value = "6"', 3)
    changed = changed.replace('value = "6"', 'value = "6", label = { en = "Prague" }')
    altered = type(result)(result.survey_id, changed, result.notes, result.names, result.name_rows)
    found = differences(path, altered)
    assert any(line.startswith("city1 (city1): choices") for line in found)  # cities1.csv
    assert any(line.startswith("city3 (city3): choices") for line in found)  # cities3.xml
