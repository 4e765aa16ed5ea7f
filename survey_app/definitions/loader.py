"""Read survey files (TOML, format 1) into `Survey` objects, collecting every problem.

A file's version is the hash of its canonical JSON: the parsed content with sorted keys, so
comments, spacing and key order do not make a new version but any change of content does.
The canonical JSON is kept on the Survey so the exact definition can be stored with each
version and rebuilt later with `load_survey_json`, whatever has happened to the file since.
"""

from __future__ import annotations

import datetime
import difflib
import hashlib
import json
import math
import re
import tomllib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError

from survey_app.definitions import repeats
from survey_app.definitions.expressions import Expression, ExpressionError, parse
from survey_app.definitions.media import MediaFile, check_media, media_folder
from survey_app.definitions.schema import (
    Choice,
    ChoiceExtra,
    Direction,
    Indicator,
    Language,
    LocalisedText,
    Page,
    Question,
    QuestionType,
    Survey,
)
from survey_app.definitions.types import QuestionKind, registry
from survey_app.definitions.types.rating import MAX_SCALE, MIN_SCALE
from survey_app.definitions.validation import (
    Outline,
    Problem,
    SurveyDefinitionError,
    check_survey,
    question_location,
)
from survey_app.messages import INTERFACE_LANGUAGES

FORMAT_VERSION = 1
VERSION_LENGTH = 12
SURVEY_FILE_SUFFIX = ".toml"
STORED_DEFINITION = "stored definition"

SURVEY_ID = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")  # question, page and indicator ids
LIST_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")
OPTION_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*\Z")
# A choice value travels in forms and, for multiple choice, in space-separated lists.
FORBIDDEN_IN_VALUE = re.compile(r"[\s'\"\u2018\u2019\u201c\u201d]")
RESERVED_VALUES = frozenset({"_pnts"})
__all__ = ["MAX_SCALE", "MIN_SCALE"]  # the importer reads XLSForm ranges as rating scales

RTL_LANGUAGES = frozenset({"ar", "fa", "ur", "he", "ps", "ckb", "dv", "yi", "sd", "ug"})
LANGUAGE_NAMES: Mapping[str, str] = {
    "am": "አማርኛ", "ar": "العربية", "bg": "Български", "bn": "বাংলা", "ckb": "کوردی",
    "de": "Deutsch", "en": "English", "es": "Español", "fa": "فارسی", "fr": "Français",
    "ha": "Hausa", "he": "עברית", "hi": "हिन्दी", "id": "Bahasa Indonesia", "it": "Italiano",
    "km": "ខ្មែរ", "ku": "Kurdî", "ms": "Bahasa Melayu", "my": "မြန်မာ", "ne": "नेपाली",
    "nl": "Nederlands", "pl": "Polski", "ps": "پښتو", "pt": "Português", "ro": "Română",
    "ru": "Русский", "so": "Soomaali", "sq": "Shqip", "sw": "Kiswahili", "th": "ไทย",
    "ti": "ትግርኛ", "tl": "Tagalog", "tr": "Türkçe", "uk": "Українська", "ur": "اردو",
    "vi": "Tiếng Việt", "yo": "Yorùbá", "zh": "中文",
}  # fmt: skip

TOP_KEYS = ("format", "survey", "choices", "pages", "indicators", "calculations")
SURVEY_KEYS = (
    "id",
    "title",
    "description",
    "default_language",
    "languages",
    "language_names",
    "directions",
    "interface_fallback",
)
PAGE_KEYS = ("id", "title", "intro", "relevant", "questions")
INDICATOR_REQUIRED = ("id", "label", "numerator", "denominator")
INDICATOR_KEYS = (*INDICATOR_REQUIRED, "target")

_TOML_POSITION = re.compile(
    r"(?P<message>.*) \(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)\Z",
    re.DOTALL,
)


@dataclass(frozen=True)
class LoadedSurveys:
    """What a surveys directory holds: the valid surveys by id, and every problem found."""

    surveys: dict[str, Survey]
    problems: list[Problem]
    # what the loaded surveys lack but can be served without (missing translations)
    warnings: list[Problem] = field(default_factory=list)


def load_survey_file(path: str | Path) -> Survey:
    """Load and validate one survey file; raise SurveyDefinitionError listing every problem."""
    return load_survey_file_with_warnings(path)[0]


def load_survey_file_with_warnings(path: str | Path) -> tuple[Survey, list[Problem]]:
    """The survey in the file and what it lacks but can be served without (warnings).

    The pictures it names are checked in its media folder (`media/<id>/` beside the file)."""
    path = Path(path)
    survey, warnings = load_survey_text_with_warnings(_read(path), str(path))
    folder = media_folder(path.parent, survey.id)
    found: dict[str, MediaFile] = {}
    problems: list[Problem] = []
    for where, name, kind in _media(survey):
        checked = found.get(name) or check_media(folder, name, kind)
        if isinstance(checked, str):
            problems.append(Problem(str(path), where, checked))
        else:
            found[name] = checked
    if problems:
        raise SurveyDefinitionError(problems)
    return replace(survey, media=found) if found else survey, warnings


def _media(survey: Survey) -> list[tuple[str, str, str]]:
    """(where, file name, "image" or "audio") of every file the survey names, in file order."""
    named: list[tuple[str, str, str]] = []
    for _, question in survey.iter_questions():
        where = question_location(question.repeat_of or question.id)
        listed = f"choices.{question.choice_list}" if question.choice_list else where
        texts = [
            (where, question.image, "image"),
            (where, question.audio, "audio"),
            *((listed, c.image, "image") for c in question.choices),
            *((listed, c.audio, "audio") for c in question.choices),
        ]
        for at, text, kind in texts:
            if text is not None:
                named += [
                    (at, name, kind)
                    for _, name in text.translations
                    if (at, name, kind) not in named
                ]
    return named


def load_survey_text(text: str, filename: str) -> Survey:
    """Load and validate survey TOML; `filename` names the file in problems and gives the
    id the survey must have (its stem)."""
    return load_survey_text_with_warnings(text, filename)[0]


def load_survey_text_with_warnings(text: str, filename: str) -> tuple[Survey, list[Problem]]:
    data = _parse_toml(text, filename)
    return _build(data, filename, stem=Path(filename).stem, check_rules=True)


def load_survey_json(canonical_json: str, source: str = STORED_DEFINITION) -> Survey:
    """Rebuild a stored version from its `canonical_json`, with the same version.

    Only the structure is checked: the survey was valid when it was stored, and a rule added
    since must not make old responses unreadable.
    """
    try:
        data = json.loads(canonical_json)
    except json.JSONDecodeError as error:
        raise SurveyDefinitionError(
            [Problem(source, None, f"not valid JSON: {error.msg} at position {error.pos}")]
        ) from None
    if not isinstance(data, dict):
        raise SurveyDefinitionError([Problem(source, None, "the definition is not a JSON object")])
    return _build(data, source, stem=None, check_rules=False)[0]


def load_directory(path: str | Path) -> LoadedSurveys:
    """Load every `*.toml` in `path`; a broken file is reported and left out, not fatal."""
    directory = Path(path)
    surveys: dict[str, Survey] = {}
    problems: list[Problem] = []
    warnings: list[Problem] = []
    if not directory.is_dir():
        return LoadedSurveys({}, [Problem(str(directory), None, "no such directory")])
    for file in sorted(directory.glob(f"*{SURVEY_FILE_SUFFIX}")):
        if file.name.startswith(".") or not file.is_file():
            continue  # editor lock and backup files
        try:
            survey, found = load_survey_file_with_warnings(file)
        except SurveyDefinitionError as error:
            problems.extend(error.problems)
        else:
            surveys[survey.id] = survey
            warnings.extend(found)
    return LoadedSurveys(surveys, problems, warnings)


def canonical_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def version_of(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:VERSION_LENGTH]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        raise SurveyDefinitionError(
            [Problem(str(path), f"line {line}", "not UTF-8 text; save the file as UTF-8")]
        ) from None
    except OSError as error:
        raise SurveyDefinitionError(
            [Problem(str(path), None, f"cannot read the file: {error.strerror}")]
        ) from None


def _parse_toml(text: str, filename: str) -> dict[str, Any]:
    try:
        # Windows editors often start UTF-8 files with a byte order mark, which TOML refuses.
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as error:
        raise SurveyDefinitionError([_syntax_problem(filename, error)]) from None


def _syntax_problem(filename: str, error: tomllib.TOMLDecodeError) -> Problem:
    text = str(error)
    match = _TOML_POSITION.match(text)
    if match is None:
        return Problem(filename, None, f"TOML syntax: {text}")
    message = match["message"]
    message = message[:1].lower() + message[1:]
    if match["line"] is None:
        return Problem(filename, "end of file", f"TOML syntax: {message}")
    return Problem(
        filename, f"line {match['line']}, column {match['col']}", f"TOML syntax: {message}"
    )


def _plain(value: Any, problems: list[str], where: str = "") -> Any:
    """The TOML data as JSON values: dates become ISO text, infinities are refused."""
    if isinstance(value, dict):
        return {
            key: _plain(item, problems, f"{where}.{key}" if where else key)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_plain(item, problems, where) for item in value]
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        problems.append(f"{where}: numbers must be finite, not {value}")
        return None
    return value


def _build(
    data: dict[str, Any], file: str, *, stem: str | None, check_rules: bool
) -> tuple[Survey, list[Problem]]:
    value_problems: list[str] = []
    plain = _plain(data, value_problems)
    builder = _Builder(file)
    for message in value_problems:
        builder.report(None, message)
    canonical = canonical_json(plain)
    survey, outline = builder.survey(plain, canonical, stem)
    problems = builder.problems
    if check_rules:
        problems += check_survey(survey, file, outline)
    problems = _once_per_written_id(problems, survey)
    if any(not problem.warning for problem in problems):
        raise SurveyDefinitionError(problems)
    return survey, problems


_LOCATION = re.compile(r"(question|page) '(.+)'\Z")
_REPEATED_NAME = re.compile(r"\b([a-z_][a-z0-9_]*?)__\d+\b")


def _once_per_written_id(problems: list[Problem], survey: Survey) -> list[Problem]:
    """A problem of a repeated page's question is one problem of the question as the file
    writes it (`question 'why'`, `${score}`), not one per repetition."""
    pages = {p.id: p.repetition.group for p in survey.pages if p.repetition is not None}
    if not pages:
        return problems
    questions = {q.id: q.repeat_of for q in survey.questions() if q.repeat_of is not None}
    bases = set(questions.values())
    told: list[Problem] = []
    for problem in problems:
        match = _LOCATION.match(problem.location or "")
        written = questions.get(match.group(2)) or pages.get(match.group(2)) if match else None
        if match and written:
            message = _REPEATED_NAME.sub(
                lambda name: name.group(1) if name.group(1) in bases else name.group(0),
                problem.message,
            )
            problem = replace(problem, location=f"{match.group(1)} '{written}'", message=message)
        if problem not in told:
            told.append(problem)
    return told


def _own_name(code: str) -> str:
    """The language named in itself, as Babel (CLDR) knows it (`om` is "Oromoo", `rw`
    "Ikinyarwanda"); the code itself for a language CLDR does not know."""
    base = code.split("-")[0].lower()
    try:
        name = Locale.parse(base).get_display_name(base)
    except (ValueError, TypeError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:] if name else code


def _show(value: object) -> str:
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= 40 else shown[:37] + "..."


@dataclass
class _Head:
    id: str = ""
    title: LocalisedText = field(default_factory=lambda: LocalisedText(()))
    description: LocalisedText | None = None
    interface_fallback: str | None = None
    default_language: str = "en"
    languages: tuple[Language, ...] = ()


@dataclass
class _OutlineBuilder:
    position: dict[str, int] = field(default_factory=dict)
    page_index: dict[str, int] = field(default_factory=dict)
    notes: set[str] = field(default_factory=set)

    def add(self, key: str, page_index: int) -> None:
        self.position.setdefault(key, len(self.position))
        self.page_index.setdefault(key, page_index)

    def outline(self) -> Outline:
        return Outline(self.position, self.page_index, frozenset(self.notes))


class _Builder:
    """Builds the Survey from plain data, recording a Problem for each thing out of shape."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.default_language = "en"
        self.choice_lists: dict[str, tuple[Choice, ...]] = {}

    def report(self, location: str | None, message: str) -> None:
        self.problems.append(Problem(self.file, location, message))

    # ------------------------------------------------------------------ survey

    def survey(
        self, data: dict[str, Any], canonical: str, stem: str | None
    ) -> tuple[Survey, Outline]:
        self.keys(data, None, TOP_KEYS, required=("format", "survey", "pages"))
        version = data.get("format")
        if "format" in data and version != FORMAT_VERSION:
            self.report(
                None,
                f"format: this file says format {_show(version)}; "
                f"this version of survey-app reads format {FORMAT_VERSION}",
            )
        head = self.head(data.get("survey"), stem)
        self.choice_lists = self.shared_choice_lists(data.get("choices"))
        outline = _OutlineBuilder()
        pages = self.pages(data.get("pages"), outline)
        indicators = self.indicators(data.get("indicators"))
        calculations = self.calculations(data.get("calculations"))
        survey = Survey(
            id=head.id,
            version=version_of(canonical),
            canonical_json=canonical,
            title=head.title,
            description=head.description,
            interface_fallback=head.interface_fallback,
            default_language=head.default_language,
            languages=head.languages,
            pages=pages,
            choice_lists=self.choice_lists,
            indicators=indicators,
            calculations=calculations,
        )
        return survey, outline.outline()

    def head(self, raw: Any, stem: str | None) -> _Head:
        head = _Head()
        table = self.table(raw, None, "survey")
        if table is None:
            return head
        where = "survey"
        self.keys(table, where, SURVEY_KEYS, required=("id", "title", "default_language"))
        survey_id = self.string(table, "id", where)
        if survey_id is not None:
            if SURVEY_ID.match(survey_id) is None:
                self.report(
                    where,
                    f"id {_show(survey_id)} is not valid: use lowercase letters, digits, "
                    "'-' and '_', starting with a letter or digit",
                )
            elif stem is not None and survey_id != stem:
                self.report(
                    where,
                    f"id '{survey_id}' does not match the file name '{stem}.toml'; "
                    "rename the file or change the id",
                )
            head.id = survey_id
        default = self.string(table, "default_language", where)
        if default is not None:
            if LANGUAGE_CODE.match(default) is None:
                self.report(where, f"default_language {_show(default)} is not a language code")
            else:
                head.default_language = self.default_language = default
        codes = self.language_codes(table, where, head.default_language)
        head.languages = self.language_settings(table, where, codes)
        head.title = self.localised(table, "title", where) or head.title
        head.description = self.localised(table, "description", where)
        fallback = self.string(table, "interface_fallback", where)
        if fallback is not None:
            if fallback in INTERFACE_LANGUAGES:
                head.interface_fallback = fallback
            else:
                self.report(
                    where,
                    f"interface_fallback {_show(fallback)} is not a language the app's buttons "
                    f"and messages are translated into ({', '.join(INTERFACE_LANGUAGES)})",
                )
        return head

    def language_codes(self, table: dict[str, Any], where: str, default: str) -> list[str]:
        if "languages" not in table:
            return [default]
        raw = table["languages"]
        if not isinstance(raw, list) or not all(isinstance(code, str) for code in raw):
            self.report(where, 'languages must be a list of codes like ["en", "fr", "ar"]')
            return [default]
        codes: list[str] = []
        for code in raw:
            if LANGUAGE_CODE.match(code) is None:
                self.report(where, f"languages: {_show(code)} is not a language code like 'fr'")
            elif code in codes:
                self.report(where, f"languages: '{code}' is listed twice")
            else:
                codes.append(code)
        if "default_language" in table and default not in codes:
            self.report(where, f"default_language '{default}' is not in languages")
            codes.insert(0, default)
        return codes

    def language_settings(
        self, table: dict[str, Any], where: str, codes: list[str]
    ) -> tuple[Language, ...]:
        names = self.code_table(table, "language_names", where, codes) or {}
        directions = self.code_table(table, "directions", where, codes) or {}
        languages: list[Language] = []
        for code in codes:
            direction = directions.get(code)
            if direction is not None and direction not in tuple(Direction):
                self.report(
                    where, f'directions: \'{code}\' must be "ltr" or "rtl", not {_show(direction)}'
                )
                direction = None
            if direction is None:
                base = code.split("-")[0]
                direction = Direction.RTL if base in RTL_LANGUAGES else Direction.LTR
            name = names.get(code) or LANGUAGE_NAMES.get(code.split("-")[0]) or _own_name(code)
            languages.append(Language(code, name, Direction(direction)))
        return tuple(languages)

    def code_table(
        self, table: dict[str, Any], key: str, where: str, codes: list[str]
    ) -> dict[str, str] | None:
        if key not in table:
            return None
        raw = table[key]
        if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
            self.report(where, f"{key} must be a table of text by language code")
            return None
        for code in raw:
            if code not in codes:
                self.report(where, f"{key}: '{code}' is not in languages")
        return dict(raw)

    # ------------------------------------------------------------------ choices

    def shared_choice_lists(self, raw: Any) -> dict[str, tuple[Choice, ...]]:
        lists: dict[str, tuple[Choice, ...]] = {}
        if raw is None:
            return lists
        table = self.table(raw, None, "choices")
        if table is None:
            return lists
        for name, list_table in table.items():
            where = f"choices '{name}'"
            if LIST_NAME.match(name) is None:
                self.report(
                    where,
                    "a choice list name uses letters, digits, '_', '-' and '.', "
                    "starting with a letter or '_'",
                )
            body = self.table(list_table, where, "a choice list")
            if body is None:
                continue
            self.keys(body, where, ("options",), required=("options",))
            if "options" in body:
                lists[name] = self.options(body["options"], where, "options")
        return lists

    def options(self, raw: Any, where: str, key: str) -> tuple[Choice, ...]:
        """The options of a shared list (key 'options') or of one question (key 'choices')."""
        if not isinstance(raw, list) or not raw or not all(isinstance(o, dict) for o in raw):
            also = " or the name of a [choices.*] list" if key == "choices" else ""
            self.report(
                where, f'{key} must be a list of {{ value = "...", label = ... }} tables{also}'
            )
            return ()
        choices: list[Choice] = []
        seen: set[str] = set()
        for index, option in enumerate(raw, start=1):
            at = f"{where} option {index}"
            self.keys(option, at, (), required=("value", "label"), open_ended=True)
            value = self.string(option, "value", at)
            label = self.localised(option, "label", at)
            extras: list[tuple[str, ChoiceExtra]] = []
            image = self.localised(option, "image", at)
            audio = self.localised(option, "audio", at)
            for key, extra in option.items():
                if key in ("value", "label", "image", "audio"):
                    continue
                if OPTION_KEY.match(key) is None:
                    self.report(at, f"'{key}' is not a usable key: use letters, digits and '_'")
                elif not isinstance(extra, str | int | float | bool):
                    self.report(at, f"'{key}' must be text, a number or true/false")
                else:
                    extras.append((key, extra))
            if value is None or label is None:
                continue
            if not value or FORBIDDEN_IN_VALUE.search(value) or value in RESERVED_VALUES:
                self.report(
                    at,
                    f"value {_show(value)} cannot be used: a value needs at least one "
                    "character, no spaces or quotes, and '_pnts' is reserved",
                )
            elif value in seen:
                self.report(where, f"duplicate option value '{value}'")
            seen.add(value)
            choices.append(Choice(value, label, tuple(sorted(extras)), image, audio))
        return tuple(choices)

    # ------------------------------------------------------------------ pages

    def pages(self, raw: Any, outline: _OutlineBuilder) -> tuple[Page, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list) or not raw or not all(isinstance(p, dict) for p in raw):
            self.report(None, "pages: write each page as a [[pages]] table; at least one is needed")
            return ()
        pages: list[Page] = []
        earlier: dict[str, dict[str, Any]] = {}
        for table in raw:
            if not repeats.is_repeated(table):
                pages.append(self.page(table, len(pages), outline))
            else:
                where = f"page '{table.get('id')}'"
                for copy, repetition in repeats.expand(
                    table,
                    where,
                    self.report,
                    earlier,
                    self.choice_lists,
                    self.default_language,
                ):
                    page = self.page(copy, len(pages), outline)
                    if repetition.count:
                        questions = tuple(self.repeated(q, table, where) for q in page.questions)
                        page = replace(page, questions=questions, repetition=repetition)
                    pages.append(page)
                continue
            for question in table.get("questions") or ():
                if isinstance(question, dict) and isinstance(question.get("id"), str):
                    earlier[question["id"]] = question
        self.written_ids_unique(pages)
        return tuple(pages)

    def written_ids_unique(self, pages: list[Page]) -> None:
        """A repeated page's question names its answers in every repetition: no other
        question may have its id."""
        ids = {q.id for page in pages for q in page.questions}
        reported: set[str] = set()
        for page in pages:
            for question in page.questions:
                base = question.repeat_of
                if base is not None and base in ids and base not in reported:
                    reported.add(base)
                    self.report(
                        question_location(base),
                        f"duplicate question id '{base}' (also a question of the repeated "
                        f"page '{page.repetition.group if page.repetition else page.id}')",
                    )

    def repeated(self, question: Question, page: dict[str, Any], where: str) -> Question:
        """A question of a repeated page, knowing the id and label written in the file."""
        base = question.id.rsplit(repeats.SEPARATOR, 1)[0]
        written = next(
            (q for q in page.get("questions") or () if isinstance(q, dict) and q.get("id") == base),
            {},
        )
        label = written.get("label")
        if isinstance(label, str):
            label = {self.default_language: label}
        if isinstance(label, dict):
            label = {
                code: text.replace(repeats.CHOICE_LABEL, "…") if isinstance(text, str) else text
                for code, text in label.items()
            }
        if question.disaggregate and question.id.endswith(f"{repeats.SEPARATOR}1"):
            self.report(
                where,
                f"question '{base}': disaggregate does not apply on a repeated page "
                "(one person gives an answer in each repetition)",
            )
        return replace(
            question,
            repeat_of=base,
            repeat_label=self.localised({"label": label}, "label", where),
        )

    def page(self, table: dict[str, Any], index: int, outline: _OutlineBuilder) -> Page:
        page_id = table.get("id")
        valid_id = isinstance(page_id, str) and NAME.match(page_id) is not None
        where = f"page '{page_id}'" if valid_id else f"page {index + 1}"
        self.keys(table, where, PAGE_KEYS, required=("id", "questions"))
        if "id" in table and not valid_id:
            self.report(where, f"id {_show(page_id)} is not valid: {_NAME_RULE}")
        questions = self.questions(table.get("questions"), where, index, outline)
        return Page(
            id=page_id if isinstance(page_id, str) else "",
            questions=questions,
            title=self.localised(table, "title", where),
            intro=self.localised(table, "intro", where),
            relevant=self.expression(table, "relevant", where),
        )

    def questions(
        self, raw: Any, page_where: str, page_index: int, outline: _OutlineBuilder
    ) -> tuple[Question, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list) or not raw or not all(isinstance(q, dict) for q in raw):
            self.report(page_where, "questions: write each question as a [[pages.questions]] table")
            return ()
        questions: list[Question] = []
        for index, table in enumerate(raw, start=1):
            question_id = table.get("id")
            if isinstance(question_id, str):
                outline.add(question_id, page_index)
                if table.get("other") is True:
                    outline.add(f"{question_id}_other", page_index)
                kind_name = table.get("type")
                if registry.is_known(kind_name) and not registry.kind_of(kind_name).answered:
                    outline.notes.add(question_id)
            question = self.question(table, f"{page_where} question {index}")
            if question is not None:
                questions.append(question)
        return tuple(questions)

    def question(self, table: dict[str, Any], fallback_where: str) -> Question | None:
        question_id = table.get("id")
        valid_id = isinstance(question_id, str) and NAME.match(question_id) is not None
        where = (
            question_location(question_id)
            if isinstance(question_id, str) and valid_id
            else fallback_where
        )
        if "id" in table and not valid_id:
            self.report(where, f"id {_show(question_id)} is not valid: {_NAME_RULE}")
        kind = self.question_type(table, where)
        allowed = kind.keys if kind else registry.all_keys()
        required = kind.required_keys if kind else ("id", "type", "label")
        self.keys(table, where, allowed, required=required, type_name=kind.name if kind else None)
        label = self.localised(table, "label", where)
        common: dict[str, Any] = {
            "hint": self.localised(table, "hint", where),
            "required": self.flag(table, "required", where),
            "prefer_not_to_say": self.flag(table, "prefer_not_to_say", where),
            "disaggregate": self.flag(table, "disaggregate", where),
            "relevant": self.expression(table, "relevant", where),
            "constraint": self.expression(table, "constraint", where),
            "constraint_message": self.localised(table, "constraint_message", where),
            "image": self.localised(table, "image", where),
            "audio": self.localised(table, "audio", where),
        }
        if kind is None:
            return None
        specific = kind.load(self, table, where)
        if not valid_id or label is None or specific is None:
            return None
        assert isinstance(question_id, str)
        # The built-in types keep their QuestionType, so `question.type is QuestionType.X` holds.
        name = QuestionType(kind.name) if kind.name in tuple(QuestionType) else kind.name
        return Question(id=question_id, type=name, label=label, **common, **specific)

    def question_type(self, table: dict[str, Any], where: str) -> QuestionKind | None:
        raw = table.get("type")
        if raw is None:
            return None
        if not registry.is_known(raw):
            known = ", ".join(registry.names())
            self.report(where, f"type: unsupported type {_show(raw)} (use one of: {known})")
            return None
        return registry.kind_of(raw)

    def question_choices(
        self, table: dict[str, Any], where: str
    ) -> tuple[tuple[Choice, ...], str | None] | None:
        raw = table.get("choices")
        if raw is None:
            return None  # reported as a missing key
        if isinstance(raw, str):
            if raw not in self.choice_lists:
                known = ", ".join(sorted(self.choice_lists)) or "none defined"
                self.report(where, f"choices: no choice list named '{raw}' (lists: {known})")
                return None
            return self.choice_lists[raw], raw
        choices = self.options(raw, where, "choices")
        return (choices, None) if choices else None

    # ---------------------------------------------------------------- calculations

    def calculations(self, raw: Any) -> dict[str, Expression]:
        """`[calculations]`: name = "expression over answers", inserted into text as ${name}."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.report(
                None, 'calculations: write them as a table, [calculations] name = "expression"'
            )
            return {}
        calculations: dict[str, Expression] = {}
        for name in raw:
            where = f"calculation '{name}'"
            if not NAME.match(name):
                self.report(where, f"calculation name {_show(name)}: {_NAME_RULE}")
                continue
            expression = self.expression(raw, name, where)
            if expression is not None:
                calculations[name] = expression
        return calculations

    # ------------------------------------------------------------------ indicators

    def indicators(self, raw: Any) -> tuple[Indicator, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list) or not all(isinstance(i, dict) for i in raw):
            self.report(None, "indicators: write each indicator as an [[indicators]] table")
            return ()
        indicators: list[Indicator] = []
        for index, table in enumerate(raw, start=1):
            indicator_id = table.get("id")
            valid_id = isinstance(indicator_id, str) and NAME.match(indicator_id) is not None
            where = f"indicator '{indicator_id}'" if valid_id else f"indicator {index}"
            self.keys(table, where, INDICATOR_KEYS, required=INDICATOR_REQUIRED)
            if "id" in table and not valid_id:
                self.report(where, f"id {_show(indicator_id)} is not valid: {_NAME_RULE}")
            label = self.localised(table, "label", where)
            numerator = self.expression(table, "numerator", where)
            denominator = self.expression(table, "denominator", where)
            for key, expression in (("numerator", numerator), ("denominator", denominator)):
                if expression is not None and expression.uses_today():
                    # Reports are built long after answers: the day would change the result.
                    self.report(
                        where,
                        f"{key}: today() cannot be used in an indicator (it is the day a page "
                        f"is answered, and reports are made later)",
                    )
            target = self.target(table, where)
            if valid_id and label and numerator and denominator:
                assert isinstance(indicator_id, str)
                indicators.append(Indicator(indicator_id, label, numerator, denominator, target))
        return tuple(indicators)

    def target(self, table: dict[str, Any], where: str) -> float | None:
        raw = table.get("target")
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 1:
            self.report(
                where, f"target must be a proportion from 0 to 1 (0.8 for 80%), not {_show(raw)}"
            )
            return None
        return float(raw)

    # ------------------------------------------------------------------ values

    def keys(
        self,
        table: Mapping[str, Any],
        where: str | None,
        allowed: Collection[str],
        *,
        required: Sequence[str],
        type_name: str | None = None,
        open_ended: bool = False,
    ) -> None:
        if not open_ended:
            for key in table:
                if key in allowed:
                    continue
                if type_name is not None and key in registry.all_keys():
                    self.report(
                        where, f"'{key}' does not apply to a question of type '{type_name}'"
                    )
                else:
                    vocabulary = registry.all_keys() if type_name is not None else allowed
                    self.report(where, f"unknown key '{key}'{_suggestion(key, vocabulary)}")
        for key in required:
            if key not in table:
                self.report(where, f"missing required key '{key}'")

    def table(self, raw: Any, where: str | None, what: str) -> dict[str, Any] | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.report(where, f"{what} must be a table, not {_show(raw)}")
            return None
        return raw

    def string(self, table: Mapping[str, Any], key: str, where: str | None) -> str | None:
        raw = table.get(key)
        if raw is None:
            return None
        if not isinstance(raw, str):
            self.report(where, f"{key} must be text in quotes, not {_show(raw)}")
            return None
        return raw

    def flag(self, table: Mapping[str, Any], key: str, where: str) -> bool:
        raw = table.get(key, False)
        if not isinstance(raw, bool):
            self.report(where, f"{key} must be true or false, not {_show(raw)}")
            return False
        return raw

    def whole(
        self, table: Mapping[str, Any], key: str, where: str, low: int, high: int
    ) -> int | None:
        raw = table.get(key)
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
            self.report(
                where, f"{key} must be a whole number from {low} to {high}, not {_show(raw)}"
            )
            return None
        return raw

    def number(
        self, table: Mapping[str, Any], key: str, where: str, *, whole: bool
    ) -> int | float | None:
        raw = table.get(key)
        if raw is None:
            return None
        wanted: tuple[type, ...] = (int,) if whole else (int, float)
        if isinstance(raw, bool) or not isinstance(raw, wanted):
            kind = "a whole number" if whole else "a number"
            self.report(where, f"{key} must be {kind}, not {_show(raw)}")
            return None
        assert isinstance(raw, int | float)
        return raw

    def iso_date(self, table: Mapping[str, Any], key: str, where: str) -> str | None:
        raw = table.get(key)
        if raw is None:
            return None
        if not isinstance(raw, str) or not is_iso_date(raw):
            self.report(
                where,
                f'{key} must be a date like "2026-11-28", "2026-11" or "2026", not {_show(raw)}',
            )
            return None
        return raw

    def localised(
        self, table: Mapping[str, Any], key: str, where: str | None, prefix: str = ""
    ) -> LocalisedText | None:
        raw = table.get(key)
        if raw is None:
            return None
        if isinstance(raw, str):
            return LocalisedText(((self.default_language, raw),))
        if (
            isinstance(raw, dict)
            and raw
            and all(isinstance(code, str) and isinstance(text, str) for code, text in raw.items())
        ):
            return LocalisedText.of(raw)
        self.report(
            where, f'{prefix}{key} must be text, or translations like {{ en = "...", fr = "..." }}'
        )
        return None

    def expression(
        self, table: Mapping[str, Any], key: str, where: str, *, bare_names: bool = False
    ) -> Expression | None:
        raw = table.get(key)
        if raw is None:
            return None
        if not isinstance(raw, str):
            self.report(where, f"{key} must be an expression in quotes, not {_show(raw)}")
            return None
        try:
            return parse(raw, allow_bare_names=bare_names)
        except ExpressionError as error:
            self.report(where, f"{key}: {error.message} at position {error.position}")
            return None


_NAME_RULE = "use lowercase letters, digits and '_', starting with a letter or '_'"


def _suggestion(key: str, vocabulary: Collection[str]) -> str:
    close = difflib.get_close_matches(key, list(vocabulary), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def is_iso_date(text: str) -> bool:
    """Whether `text` is a real date written 2026-11-28, 2026-11 or 2026."""
    match = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", text)
    if match is None:
        return False
    year, month, day = match.groups()
    try:
        datetime.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return False
    return True
