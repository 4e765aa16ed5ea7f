"""How many real XLSForms a programme can bring: imported, and served to respondents.

Over every form in tests/fixtures/xlsforms (or the folder given), this script asks pyxform, the
reference converter, whether the form is valid; imports each valid one; writes the imported
surveys into a surveys folder; starts the real app on a temporary SQLite database; and opens
each survey's first page as a respondent would (landing, start, page 1 through the test client).
It prints the share of pyxform-valid forms imported and the share imported and served, the
notes and warnings the imports gave, and every refusal with its reason. It counts the silent
changes: every way an imported question means something else than pyxform's reading of it
(type, choices, relevant, constraint, required, languages; tests/support/conformance.py) that
no note of the import names. And it counts the refused forms that hold nothing but rows dropped
as identifying (location, exact times, device metadata, barcodes...): nothing is left to ask,
so the share is also given over the forms that have anything left to import.

    .venv/bin/python benchmarks/xlsform_corpus.py [folder]
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from survey_app import create_app, migrate  # noqa: E402
from survey_app.definitions import SurveyDefinitionError, load_survey_text  # noqa: E402
from survey_app.definitions.xlsform import (  # noqa: E402
    ImportResult,
    NothingToConvert,
    XLSFormError,
    convert_xlsform,
    write_import,
)
from survey_app.definitions.xlsform_types import Kind, parse_type  # noqa: E402
from survey_app.state import app_state  # noqa: E402
from tests.support.apps import make_settings  # noqa: E402
from tests.support.conformance import differences, pyxform_questions  # noqa: E402
from tests.support.imported import first_page  # noqa: E402

FORMS = ROOT / "tests" / "fixtures" / "xlsforms"


def pyxform_refusal(path: Path) -> str | None:
    """Why pyxform refuses the form, or None when it converts it to an XForm."""
    from pyxform.xls2xform import convert

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            convert(xlsform=str(path), validate=False)
        except Exception as error:
            return f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
    return None


def identifying_only(path: Path) -> bool:
    """Whether every question pyxform reads in the form is one the import drops as identifying."""
    questions, _ = pyxform_questions(path)
    return bool(questions) and all(
        parse_type(question.type).kind in {Kind.METADATA, Kind.DROPPED} for question in questions
    )


def serve(imported: dict[str, ImportResult], folder: Path) -> dict[str, str]:
    """Each survey id -> "" when its first page is served, else why not."""
    outcome: dict[str, str] = {}
    for survey_id, result in imported.items():
        # One app per survey: one survey that does not load must not hide the others.
        surveys = folder / survey_id
        write_import(result, surveys, overwrite=True)
        settings = make_settings(
            folder / f"{survey_id}-instance",
            f"sqlite:///{folder}/{survey_id}.db",
            surveys_dir=str(surveys),
        )
        try:
            app = create_app(settings)
        except Exception as error:
            outcome[survey_id] = f"the app does not load it: {str(error).splitlines()[0][:160]}"
            continue
        if survey_id not in app_state(app).surveys:
            outcome[survey_id] = f"the app does not load it: {_load_problem(result)}"
            app_state(app).database.dispose()
            continue
        try:
            migrate.upgrade(app_state(app).database)
            status, html = first_page(app, survey_id)
            outcome[survey_id] = "" if status == 200 and "<form" in html else f"HTTP {status}"
        finally:
            app_state(app).database.dispose()
    return outcome


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else FORMS
    forms = sorted(p for p in folder.glob("*.xls*") if not p.name.startswith("~"))
    valid: list[Path] = []
    print(f"{len(forms)} forms in {folder}")
    for path in forms:
        reason = pyxform_refusal(path)
        if reason is None:
            valid.append(path)
        else:
            print(f"  pyxform refuses {path.name}: {reason}")
    imported: dict[str, ImportResult] = {}
    by_form: dict[str, str] = {}
    refusals: list[str] = []
    only_identifying: list[str] = []
    silent: dict[str, list[str]] = {}
    notes = warnings_given = 0
    for path in valid:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = convert_xlsform(path, survey_id=_survey_id(path))
            except XLSFormError as error:
                if isinstance(error, NothingToConvert) and identifying_only(path):
                    only_identifying.append(path.name)
                first = error.problems[0] if error.problems else error.message
                more = len(error.problems) - 1
                refusals.append(
                    f"  {path.name}: {first}" + (f" (and {more} more)" if more > 0 else "")
                )
                continue
        imported[result.survey_id] = result
        found = differences(path, result)
        if found:
            silent[path.name] = found
        by_form[result.survey_id] = path.name
        notes += len(result.notes)
        warnings_given += sum(1 for note in result.notes if note.message.startswith("warning:"))
    with tempfile.TemporaryDirectory() as tmp:
        served = serve(imported, Path(tmp))
    not_served = {sid: why for sid, why in served.items() if why}
    total = len(valid)
    print(f"\n{total} of {len(forms)} forms are valid for pyxform")
    print(f"imported:            {len(imported):3d} / {total} = {len(imported) / total:.0%}")
    print(
        f"imported and served: {len(imported) - len(not_served):3d} / {total} = "
        f"{(len(imported) - len(not_served)) / total:.0%}"
    )
    print(
        f"notes given by the imports: {notes} ({notes / max(len(imported), 1):.1f} a form), "
        f"of which warnings: {warnings_given}"
    )
    left = total - len(only_identifying)
    print(
        f"refused because every row is dropped as identifying: {len(only_identifying)}"
        f" ({', '.join(only_identifying) or 'none'})"
    )
    print(
        f"imported, of the forms with anything left to import: {len(imported):3d} / {left} = "
        f"{len(imported) / max(left, 1):.0%}"
    )
    count = sum(len(found) for found in silent.values())
    print(f"silent changes (a question that differs from pyxform's reading, no note): {count}")
    for name, found in sorted(silent.items()):
        for difference in found:
            print(f"  {name}: {difference}")
    print(f"\nrefused ({len(refusals)}):")
    print("\n".join(refusals) or "  none")
    print(f"\nimported but not served ({len(not_served)}):")
    for survey_id, why in sorted(not_served.items()):
        print(f"  {by_form[survey_id]}: {why}")
    if not not_served:
        print("  none")
    return 0


def _load_problem(result: ImportResult) -> str:
    try:
        load_survey_text(result.toml_text, f"{result.survey_id}.toml")
    except SurveyDefinitionError as error:
        return "; ".join(str(problem) for problem in error.problems[:2])
    return "unknown"


def _survey_id(path: Path) -> str:
    # One id per file, so that two forms with the same form_id are both served.
    stem = "".join(c if c.isalnum() else "-" for c in path.stem.lower()).strip("-")
    return stem or "form"


if __name__ == "__main__":
    raise SystemExit(main())
