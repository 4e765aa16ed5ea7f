"""Downloads, charts and microdata built from a snapshot: what a spreadsheet or reader gets."""

from __future__ import annotations

import csv
import io
import random
import re
from collections import Counter
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook

from survey_app.definitions import load_survey_text
from survey_app.intake.responses import OpenedResponse, ResponseMeta, UnreadableResponse
from survey_app.reports import charts, exports, presentation, tidy
from survey_app.reports.build import build_snapshot
from survey_app.reports.microdata import _generalise, export_microdata
from survey_app.reports.plan import ReportPlan
from survey_app.reports.presentation import Labels, grids_of, variable_of
from survey_app.reports.redaction import Redactor
from survey_app.reports.snapshot import SnapshotDoc, view_by_id
from survey_app.reports.tally import TallyCounter

SURVEY = """
format = 1
[survey]
id = "exp"
title = "Export check"
default_language = "en"
languages = ["en"]

[choices.mood]
options = [{ value = "good", label = "=HYPERLINK(\\"http://x\\")" }, { value = "bad", label = "Bad" }, { value = "meh", label = "<script>meh</script>" }]

[[pages]]
id = "p"
[[pages.questions]]
id = "mood"
type = "single"
choices = "mood"
label = "Mood"
[[pages.questions]]
id = "group"
type = "single"
choices = [{ value = "a", label = "A" }, { value = "b", label = "B" }]
disaggregate = true
label = "Group"
[[pages.questions]]
id = "note"
type = "text"
label = "Note"

[[indicators]]
id = "good"
label = "% good"
numerator = "${mood} = 'good'"
denominator = "${mood} != ''"
target = 0.5
"""


def document() -> SnapshotDoc:
    survey = load_survey_text(SURVEY, "exp.toml")
    plan = ReportPlan.build(survey)
    counter = TallyCounter(plan)
    # Rounds of 155 and group A of 248: big enough for their shares to be shown; B of 62 is not.
    plan_rows = [
        ("good", 100, "2026-W05"),
        ("bad", 45, "2026-W05"),
        ("meh", 10, "2026-W05"),
        ("good", 125, "2026-W40"),
        ("bad", 30, "2026-W40"),
    ]
    keys = random.Random(7)
    for mood, count, period in plan_rows:
        for i in range(count):
            answers = {"mood": mood, "group": "b" if i % 5 == 0 else "a"}
            counter.add(survey.version, period, answers, "North", "self", keys.getrandbits(32))
    return build_snapshot(plan, counter.tally(), 5, created_at="2026-11-28T12:00:00+00:00")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("=1+2", "'=1+2"),
        ("+44 20", "'+44 20"),
        ("-3", "'-3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Yes", "Yes"),
        ("", ""),
    ],
)
def test_text_that_a_spreadsheet_would_run_is_neutralised(text: str, shown: str) -> None:
    assert exports.neutralise(text) == shown


def test_csv_neutralises_labels_keeps_numbers_and_says_counts_are_adjusted() -> None:
    labels = Labels(document(), "en")
    rows = list(csv.reader(io.StringIO(exports.to_csv(labels))))
    cells = [cell for row in rows for cell in row]
    assert '\'=HYPERLINK("http://x")' in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
    assert any("every count is slightly adjusted" in cell for cell in cells)
    assert any("shown only where at least 120 people answered" in cell for cell in cells)
    assert not any(cell in ("1", "2", "3", "4") for cell in cells)
    header, *lines = rows
    assert tuple(header) == tidy.COLUMNS
    records = [dict(zip(header, line, strict=True)) for line in lines]
    (change,) = [r for r in records if r["table"] == "change"]
    assert change["row"] == "2026-Q1" and change["group"] == "2026-Q4"
    assert float(change["value"]) == pytest.approx(16.1, abs=12)
    assert float(change["lower"]) < float(change["value"]) < float(change["upper"])
    # Group B's shares rest on 62 answers: not shown, their counts shown; A's (248) shown.
    mood = [r for r in records if r["variable"] == "mood" and r["breakdown"] == "group"]
    b_cells = [r for r in mood if r["group"] == "b" and r["row"] in ("good", "bad", "meh")]
    assert b_cells and all(r["percent"] == "suppressed" and r["count"].isdigit() for r in b_cells)
    a_good = next(r for r in mood if r["group"] == "a" and r["row"] == "good")
    assert float(a_good["percent"]) > 0


def test_csv_has_one_row_per_published_number() -> None:
    found = document()
    labels = Labels(found, "en")
    lines = list(csv.reader(io.StringIO(exports.to_csv(labels))))
    records = [dict(zip(lines[0], line, strict=True)) for line in lines[1:]]
    everyone = found["views"][0]
    for variable_id, tables in everyone["tables"].items():
        for table in (tables["frequency"], *tables["crosstabs"]):
            kind = "crosstab" if table["dimension"] else "frequency"
            mine = [
                r
                for r in records
                if r["variable"] == variable_id
                and r["table"] == kind
                and r["breakdown"] == (table["dimension"] or "")
            ]
            expected = len(table["rows"]) * len(table["columns"]) if not table["withheld"] else 1
            assert len(mine) >= expected > 0, (variable_id, table["dimension"])
            for row in table["rows"]:
                for column, count, share, base in zip(
                    table["columns"], row["counts"], row["percents"], table["bases"], strict=True
                ):
                    (cell,) = [r for r in mine if r["row"] == row["key"] and r["group"] == column]
                    # A count goes with its hidden share only on a base under 3k.
                    hidden = share == "suppressed" and isinstance(base, int) and base < 15
                    assert cell["count"] == ("suppressed" if hidden else str(count))


def test_a_count_is_hidden_with_its_percentage_in_the_csv_as_on_screen() -> None:
    found = document()
    crosstab = found["views"][0]["tables"]["mood"]["crosstabs"][0]
    row = crosstab["rows"][0]
    row["percents"][1] = "suppressed"  # as for a column whose base is under 3k
    crosstab["bases"][1] = 14
    shown = row["counts"][1]
    assert isinstance(shown, int) and shown > 0
    lines = list(csv.reader(io.StringIO(exports.to_csv(Labels(found, "en")))))
    records = [dict(zip(lines[0], line, strict=True)) for line in lines[1:]]
    (cell,) = [
        r
        for r in records
        if r["variable"] == "mood"
        and r["breakdown"] == crosstab["dimension"]
        and r["row"] == row["key"]
        and r["group"] == crosstab["columns"][1]
    ]
    assert cell["percent"] == "suppressed" and cell["count"] == "suppressed"
    grid = presentation.grid(
        Labels(found, "en"), found["variables"][0], crosstab, found["views"][0]
    )
    assert grid.rows[0][3:5] == ["suppressed", "suppressed"]
    met = next(r for r in records if r["row"] == "_met" and r["table"] == "frequency")
    assert float(met["lower"]) <= float(met["percent"]) <= float(met["upper"])


def test_xlsx_has_a_contents_sheet_then_one_sheet_per_question_indicators_first() -> None:
    labels = Labels(document(), "en")
    book = load_workbook(io.BytesIO(exports.to_xlsx(labels)))
    names = book.sheetnames
    assert names == ["Contents", "% good", "Mood", "Group", "Note"]
    assert len(names) == len(set(n.lower() for n in names))
    assert all(len(n) <= 31 and not re.search(r"[\[\]:*?/\\]", n) for n in names)
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    formula = next(c for c in cells if c.value == '=HYPERLINK("http://x")')
    assert formula.data_type == "s" and formula.quotePrefix
    assert not any(c.data_type == "f" for c in cells)
    assert not any(isinstance(c.value, str) and c.value.startswith("'") for c in cells)
    assert any(isinstance(c.value, str) and "slightly adjusted" in c.value for c in cells)
    assert any(c.value == "not shown" for c in cells)


def test_sheet_names_stay_unique_when_cut_to_length() -> None:
    used: set[str] = set()
    names = [
        exports._sheet_name(exports._shortened("How useful was the legal support: by site?"), used)
        for _ in range(12)
    ]
    assert names[0] == "How useful was the legal…"
    assert len(set(names)) == 12 and all(len(n) <= 31 for n in names)
    assert exports._sheet_name("'History'", used) == "History (1)"


def test_json_export_holds_the_one_view_asked_for() -> None:
    found = document()
    views = [view["id"] for view in found["views"]]
    assert "round=2026-Q1" in views
    text = exports.to_json(found, "round=2026-Q1")
    assert '"id": "round=2026-Q1"' in text and '"id": "all"' not in text
    with pytest.raises(exports.UnknownView):
        exports.to_json(found, "site=Nowhere")


def test_bar_chart_draws_adjusted_answers_and_escapes_labels() -> None:
    found = document()
    labels = Labels(found, "en")
    view = view_by_id(found, "all")
    assert view is not None
    frequency = view["tables"]["mood"]["frequency"]
    svg = charts.bar_chart(labels, variable_of(found, "mood"), frequency, 0, "c-mood", "Mood")
    assert svg is not None
    assert 'role="img"' in svg and '<title id="c-mood-title">Mood</title>' in svg
    assert 'aria-labelledby="c-mood-title c-mood-desc"' in svg
    assert svg.count('class="chart-bar') >= 2
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "style=" not in svg


def test_indicator_and_trend_charts_draw_intervals_and_the_target() -> None:
    found = document()
    labels = Labels(found, "en")
    view = view_by_id(found, "all")
    assert view is not None
    tables = view["tables"]["indicator:good"]
    variable = variable_of(found, "indicator:good")
    svg = charts.indicator_chart(labels, variable, tables["frequency"], "c-good", "Good")
    assert svg is not None and "chart-whisker" in svg and "chart-target" in svg
    assert "target 50%" in svg
    by_round = next(t for t in tables["crosstabs"] if t["dimension"] == "round")
    trend = charts.trend_chart(labels, variable, by_round, "c-trend", "Good by round")
    assert trend is not None and trend.count('class="chart-point"') == 2
    assert "2026-Q1" in trend and "2026-Q4" in trend
    # Charts that explain themselves: axis titles, and a legend saying what the dot, the line
    # through it and the dashed line are.
    for chart in (svg, trend):
        legend = re.search(r'<g class="chart-legend"[^>]*>(.*?)</g>', chart, re.S)
        assert legend is not None
        assert all(word in legend.group(1) for word in ("estimate", "95% interval", "target"))
        assert ">% of those counted</text>" in chart
    assert re.search(r'class="chart-axis-title"[^>]*>Round</text>', trend)


def test_a_bar_chart_titles_its_axis() -> None:
    found = document()
    view = view_by_id(found, "all")
    assert view is not None
    labels = Labels(found, "en")
    bars = charts.bar_chart(
        labels, variable_of(found, "mood"), view["tables"]["mood"]["frequency"], 0, "c", "Mood"
    )
    assert bars is not None
    assert re.search(r'class="chart-axis-title"[^>]*>% of those who answered</text>', bars)


def test_grids_put_indicators_first() -> None:
    found = document()
    view = view_by_id(found, "all")
    assert view is not None
    grids = grids_of(Labels(found, "en"), view)
    assert grids[0].variable["id"] == "indicator:good"


def test_generalisation_merges_rare_values_until_every_combination_has_k_rows() -> None:
    rows = (
        [["North", "young"]] * 6
        + [["North", "old"]] * 5
        + [["South", "young"]] * 2
        + [["South", "old"]] * 6
        + [["Hamlet", "young"]]
    )
    rows = [list(row) for row in rows]
    changes, withheld = _generalise(rows, [0, 1], ["site", "age"], 5)
    kept = [tuple(row) for i, row in enumerate(rows) if i not in withheld]
    assert min(Counter(kept).values()) >= 5
    assert changes[0] == "site: 'Hamlet' merged into '(other values)' (1 rows)"
    assert ("North", "old") in kept, "common combinations keep their values"
    assert all("Hamlet" not in row for row in kept)


def test_generalisation_withholds_rows_it_cannot_hide() -> None:
    rows = [["North"]] * 6 + [["South"]] * 2
    rows = [list(row) for row in rows]
    changes, withheld = _generalise(rows, [0], ["site"], 5)
    assert withheld == {6, 7}
    assert "2 rows withheld" in changes[-1]


def opened(answers: dict[str, Any], site: str, number: int) -> OpenedResponse:
    meta = ResponseMeta(site=site, channel="self", language="en", day=date(2026, 3, 2))
    return OpenedResponse(
        f"r{number}", load_survey_text(SURVEY, "exp.toml").version, "2026-W10", answers, meta
    )


def test_microdata_redacts_free_text_and_never_carries_ids_or_days() -> None:
    survey = load_survey_text(SURVEY, "exp.toml")
    responses: list[OpenedResponse | UnreadableResponse] = [
        opened(
            {"mood": "good", "group": "a", "note": f"ring Amina on 07700 900{n:03d}"}, "North", n
        )
        for n in range(12)
    ]
    responses.append(UnreadableResponse("r99", survey.version, "TamperedResponse: altered"))
    result = export_microdata(ReportPlan.build(survey), responses, 5, Redactor(["Amina"], "GB"))
    assert (result.rows, result.withheld, result.unreadable) == (12, 0, 1)
    text = result.text
    assert "Amina" not in text and "07700" not in text and "[name]" in text and "[phone]" in text
    assert "r1" not in text.split("\r\n")[1] and "2026-03-02" not in text
    header = text.split("\r\n")[0].lstrip("\ufeff").split(",")
    assert header == ["row", "version", "round", "channel", "site", "mood", "group", "note"]


def test_microdata_tells_a_question_that_did_not_apply_from_a_skipped_one() -> None:
    conditional = SURVEY.replace('id = "note"', 'id = "note"\nrelevant = "${mood} = \'bad\'"')
    survey = load_survey_text(conditional, "exp.toml")
    responses: list[OpenedResponse | UnreadableResponse] = [
        replace(opened({"mood": mood, "group": "a"}, "North", n), survey_version=survey.version)
        for n, mood in enumerate(["good"] * 10 + ["bad"] * 6)
    ]
    result = export_microdata(ReportPlan.build(survey), responses, 5, Redactor([], None))
    notes = Counter(row["note"] for row in csv.DictReader(io.StringIO(result.text)))
    assert notes == {"(not asked)": 10, "(skipped)": 6}


def test_microdata_withholds_rare_free_text_and_answers_the_survey_does_not_list() -> None:
    survey = load_survey_text(SURVEY, "exp.toml")
    responses: list[OpenedResponse | UnreadableResponse] = [
        opened({"mood": "good", "group": "a"}, "North", n) for n in range(10)
    ]
    responses += [opened({"mood": "Amina", "group": "a", "note": "it was fine"}, "North", 10)]
    responses += [opened({"mood": "bad", "group": "a", "note": "the night shift"}, "North", 11)]
    result = export_microdata(ReportPlan.build(survey), responses, 5, Redactor([], None))
    assert "Amina" not in result.text and "(other values)" in result.text
    assert "night shift" not in result.text and "it was fine" not in result.text
    assert "note: withheld, only 2 answered (fewer than 5)" in result.changes
