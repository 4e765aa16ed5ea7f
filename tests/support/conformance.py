"""What pyxform (the reference XLSForm converter) and our import each say about a form's questions.

`differences` reads a form through pyxform's own converter (`parse_file_to_json`) and through
`convert_xlsform`, and lists every way the imported survey means something else than pyxform's
reading for a question it kept: type, choices, relevant (with its groups' conditions),
constraint, required, and the languages of its label. A question pyxform has and the survey
lacks must be named by a note that says it was dropped. Known, documented rewrites are allowed
only when a note on the same question names them (a dropped question read as unanswered,
`'OK'` of an acknowledge read as `'yes'`, a calculation written out where it is used).
"""

from __future__ import annotations

import csv
import re
import tomllib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from defusedxml.ElementTree import fromstring
from pyxform.xls2json import parse_file_to_json

from survey_app.definitions.xlsform import ImportResult
from survey_app.definitions.xlsform_languages import language_from_header

# pyxform type -> the types an imported question may have
EXPECTED_TYPES: dict[str, set[str]] = {
    "text": {"text", "longtext"},
    "string": {"text", "longtext"},
    "integer": {"integer"},
    "int": {"integer"},
    "decimal": {"decimal"},
    "date": {"date"},
    "note": {"note"},
    "select one": {"single"},
    "select one external": {"single"},
    "select all that apply": {"multiple"},
    "acknowledge": {"consent", "yesno"},
    "range": {"rating", "integer", "decimal"},
}
_GENERATED = ("generated_table_list_label", "reserved_name_for_field_list_labels")
_TRUE = {"yes", "true", "true()", "1", "y"}
_REFERENCE = re.compile(r"\$\{([^}\s]+)\}")
_CURLY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


@dataclass(frozen=True)
class PyxformQuestion:
    name: str
    groups: tuple[str, ...]  # enclosing groups' names, outermost first
    type: str
    relevant: tuple[str, ...]  # the enclosing groups' conditions, outermost first, then its own
    constraint: str
    required: bool
    choices: tuple[str, ...]
    itemset: str  # a file of choices (`select_one_from_file places.csv`), or a list's name
    parameters: dict[str, str]
    label_languages: frozenset[str]
    # The repeat it is in: ("count", jr:count), ("loop", the options' names), or ("", "")
    repeat: tuple[str, str | tuple[str, ...]] = ("", "")


def pyxform_questions(path: Path) -> tuple[list[PyxformQuestion], str]:
    """The questions as pyxform reads them, and the form's default language as it names it."""
    with warnings.catch_warnings():  # openpyxl: spreadsheet features a form does not use
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        form = parse_file_to_json(str(path))
    return list(_walk(form.get("children", []), ())), str(form.get("default_language", "default"))


def _walk(
    children: list[dict[str, Any]],
    conditions: tuple[str, ...],
    groups: tuple[str, ...] = (),
    repeat: tuple[str, str | tuple[str, ...]] = ("", ""),
) -> Iterator[PyxformQuestion]:
    calculated = {
        f"${{{c.get('name')}}}": str((c.get("bind") or {}).get("calculate", ""))
        for c in children
        if c.get("type") == "calculate"
    }
    counts = {
        str((c.get("control") or {}).get("jr:count", ""))
        for c in children
        if c.get("type") == "repeat"
    }
    for child in children:
        if child.get("type") == "calculate" and f"${{{child.get('name')}}}" in counts:
            continue  # pyxform's own row holding a repeat_count written as a number
        bind = child.get("bind", {}) or {}
        relevant = str(bind.get("relevant", "") or "")
        if str(child.get("name", "")).startswith(_GENERATED):
            continue  # pyxform's own rows showing a group's label or hint: the page shows them
        if child.get("type") in {"group", "repeat", "loop"}:
            if child.get("name") == "meta":
                continue
            name = str(child.get("name", ""))
            inner = repeat
            if child.get("type") == "repeat":
                count = str((child.get("control") or {}).get("jr:count", "") or "")
                inner = ("count", calculated.get(count, count))  # pyxform's own count row
            elif child.get("type") == "loop":
                inner = ("loop", tuple(str(c.get("name")) for c in child.get("columns", [])))
            yield from _walk(
                child.get("children", []), (*conditions, relevant), (*groups, name), inner
            )
            continue
        label = child.get("label", {})
        languages = frozenset(label) if isinstance(label, dict) else frozenset({"default"})
        yield PyxformQuestion(
            name=str(child.get("name", "")),
            groups=groups,
            type=str(child.get("type", "")),
            relevant=(*conditions, relevant),
            constraint=str(bind.get("constraint", "") or ""),
            required=str(bind.get("required", "")).strip().lower() in _TRUE,
            choices=tuple(str(c.get("name")) for c in child.get("choices", []) or []),
            itemset=str(child.get("itemset", "") or ""),
            parameters=_parameters(child.get("parameters")),
            label_languages=languages,
            repeat=repeat,
        )


def differences(path: Path, result: ImportResult) -> list[str]:
    """Every disagreement between pyxform's reading of the form and the imported survey."""
    expected, pyxform_default = pyxform_questions(path)
    survey = tomllib.loads(result.toml_text)
    default = survey["survey"]["default_language"]
    pages = survey["pages"]
    found: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        question["id"]: (page, question) for page in pages for question in page["questions"]
    }
    names = result.names
    problems: list[str] = []
    for question in expected:
        if question.name not in names:
            if _other_text(question, names, found):
                continue
            if question.type == "calculate" and any(
                f"inserts the calculation ${{{question.name}}} (row" in note.message
                for note in result.notes
            ):
                continue  # computed where a label or hint shows it
            named = [
                n for n in result.notes if "dropped" in n.message and _mentions(n.message, question)
            ]
            if not named:
                problems.append(f"{question.name}: not in the survey, and no note says dropped")
            continue
        page, ours = found[names[question.name]]
        rows = {result.name_rows.get(name) for name in (*question.groups, question.name)}
        notes = [note.message for note in result.notes if note.row in rows]
        where = f"{question.name} ({ours['id']})"
        allowed = EXPECTED_TYPES.get(question.type, set())
        if ours["type"] not in allowed:
            problems.append(f"{where}: type {ours['type']!r}, pyxform reads {question.type!r}")
        from_file = _file_values(path.parent, question)
        if (question.choices or from_file) and ours["type"] in {"single", "multiple"}:
            options = survey["choices"][ours["choices"]]["options"]
            values = [option["value"] for option in options] + (
                ["other"] if ours.get("other") else []
            )
            wanted = list(question.choices) or from_file
            if any("as allow_choice_duplicates allows" in note.message for note in result.notes):
                wanted = list(dict.fromkeys(wanted))  # options with one name are one answer
            if values != wanted:
                problems.append(f"{where}: choices {values}, pyxform reads {wanted}")
        wanted_required = question.required and ours["type"] not in {"note", "consent"}
        if bool(ours.get("required")) != wanted_required and not any(
            "is no longer required" in note for note in notes
        ):
            problems.append(
                f"{where}: required {bool(ours.get('required'))}, pyxform reads {question.required}"
            )
        ours_relevant = [c for c in (page.get("relevant", ""), ours.get("relevant", "")) if c]
        theirs = [c for c in question.relevant if c]
        if _normal(" and ".join(ours_relevant), names) != _conjunction(
            theirs, names
        ) and not _rewrite_noted(notes, "relevant"):
            problems.append(f"{where}: relevant {ours_relevant}, pyxform reads {theirs}")
        if _normal(ours.get("constraint", ""), names) != _normal(
            question.constraint, names
        ) and not _rewrite_noted(notes, "constraint"):
            problems.append(
                f"{where}: constraint {ours.get('constraint')!r}, pyxform reads "
                f"{question.constraint!r}"
            )
        problems += _repeat_differences(where, question, page, survey, notes, names)
        theirs_languages = {
            default
            if key == "default" or key == pyxform_default
            else language_from_header(key).code
            for key in question.label_languages
        }
        if set(ours["label"]) != theirs_languages:
            problems.append(
                f"{where}: label in {sorted(ours['label'])}, pyxform reads {sorted(theirs_languages)}"
            )
    return problems


def _repeat_differences(
    where: str,
    question: PyxformQuestion,
    page: dict[str, Any],
    survey: dict[str, Any],
    notes: list[str],
    names: dict[str, str],
) -> list[str]:
    """Whether the question's page is repeated as pyxform repeats it: once per option of a
    loop's list, or its jr:count times; an open-ended repeat only with a note saying how."""
    kind, count = question.repeat
    ours_count, ours_over = page.get("repeat_count"), page.get("repeat_over")
    if kind == "":
        if ours_count is not None or ours_over is not None:
            return [f"{where}: repeated ({ours_count or ours_over}), pyxform reads it once"]
        return []
    if kind == "loop":
        options = survey["choices"].get(ours_over or "", {}).get("options", [])
        values = tuple(option["value"] for option in options)
        if values != count:
            return [f"{where}: repeated over {values}, pyxform loops over {count}"]
        return []
    if not count:
        if isinstance(ours_count, str) and any("has no repeat_count" in n for n in notes):
            return []
        return [f"{where}: repeat_count {ours_count!r} for an open-ended repeat, without a note"]
    assert isinstance(count, str)
    wanted: object = int(count) if count.isdigit() else _normal(count, names)
    if (
        ours_count if isinstance(ours_count, int) else _normal(str(ours_count), names)
    ) != wanted and not _rewrite_noted(notes, "repeat_count"):
        return [f"{where}: repeat_count {ours_count!r}, pyxform reads {count!r}"]
    if "repeat_max" in page and not any("is asked at most" in note for note in notes):
        return [f"{where}: at most {page['repeat_max']} repetitions, without a note"]
    return []


def _parameters(raw: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def _file_values(folder: Path, question: PyxformQuestion) -> list[str]:
    """The values ODK offers for a select from a file next to the form: pyxform names the file
    and the column (`name`, or `value=` in parameters); ODK reads the rows."""
    path = folder / question.itemset
    if Path(question.itemset).suffix not in {".csv", ".xml"} or not path.is_file():
        return []
    column = question.parameters.get("value", "name")
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as file:
            return [row[column] for row in csv.DictReader(file) if row.get(column)]
    root = fromstring(path.read_text(encoding="utf-8"))
    return [text for item in root if (text := item.findtext(column))]


def _other_text(question: PyxformQuestion, names: dict[str, str], found: dict[str, Any]) -> bool:
    """pyxform's own text question for `or_other`, which our select holds as `other`."""
    base = question.name.removesuffix("_other")
    return (
        question.name.endswith("_other")
        and base in names
        and bool(found[names[base]][1].get("other"))
    )


def _mentions(message: str, question: PyxformQuestion) -> bool:
    return f"'{question.name}'" in message or f"'{question.type}'" in message.lower()


def _rewrite_noted(notes: list[str], column: str) -> bool:
    """A documented rewrite: a dropped row read as unanswered, an acknowledgement's 'OK', or a
    calculation written out where it is used."""
    return any(
        (message.startswith(f"{column} ") and "dropped; it now reads" in message)
        or (message.startswith(f"{column} ") and "computed here from the answers" in message)
        or message.startswith(f"{column}: 'OK'")
        for message in notes
    )


def _conjunction(conditions: list[str], names: dict[str, str]) -> str:
    if not conditions:
        return ""
    if len(conditions) == 1:
        return _normal(conditions[0], names)
    outer, *inner = conditions
    inner_text = inner[0] if len(inner) == 1 else " and ".join(f"({c})" for c in inner)
    return _normal(f"{outer} and {inner_text}", names)


def _normal(text: str, names: dict[str, str]) -> str:
    """Whitespace, quote style and question names as the survey file writes them."""
    text = _REFERENCE.sub(lambda m: "${" + names.get(m.group(1), m.group(1)) + "}", text)
    return "".join(text.translate(_CURLY).replace('"', "'").split())
