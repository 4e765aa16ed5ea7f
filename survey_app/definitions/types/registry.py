"""The question types the application knows, by name: one place to add one.

`register` checks a type declares everything (see base.QuestionKind) and refuses it otherwise;
`check_templates` runs when the app starts and refuses a type whose template cannot draw it.
A survey naming a type that is not registered is refused by the loader with the known names.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jinja2

from survey_app.definitions.schema import QuestionType
from survey_app.definitions.types.base import QuestionKind

_KINDS: dict[str, QuestionKind] = {}
WIDGET_MACRO = "widget"
WIDGET_ARGUMENTS = ("q", "view")


class QuestionTypeError(Exception):
    """A question type that cannot be used as declared."""


class IncompleteQuestionType(QuestionTypeError):
    """A question type that leaves out something every type must say."""

    def __init__(self, name: str, missing: list[str]) -> None:
        self.name = name
        self.missing = missing
        super().__init__(
            f"question type {name!r} is incomplete: it does not declare {', '.join(missing)} "
            f"(see docs/question-types.md)"
        )


class DuplicateQuestionType(QuestionTypeError):
    def __init__(self, name: str) -> None:
        super().__init__(f"question type {name!r} is registered twice")


class UnknownQuestionType(QuestionTypeError, KeyError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"unknown question type {name!r} (known: {', '.join(names())})")

    def __str__(self) -> str:
        return str(self.args[0])


def register(kind_class: type[QuestionKind]) -> type[QuestionKind]:
    """Add a question type (usable as a class decorator); refuse it if it is incomplete."""
    name = getattr(kind_class, "name", None) or kind_class.__name__
    missing = missing_declarations(kind_class)
    if missing:
        raise IncompleteQuestionType(name, missing)
    if name in _KINDS:
        raise DuplicateQuestionType(name)
    _KINDS[name] = kind_class()
    return kind_class


def unregister(name: str) -> None:
    """Remove a type (for tests that add one of their own)."""
    _KINDS.pop(name, None)


def missing_declarations(kind_class: type[QuestionKind]) -> list[str]:
    missing = [attr for attr in QuestionKind.REQUIRED if not hasattr(kind_class, attr)]
    for method in QuestionKind.REQUIRED_METHODS:
        given: Callable[..., object] = getattr(kind_class, method)
        if given is getattr(QuestionKind, method):
            missing.append(f"{method}()")
    if hasattr(kind_class, "keys"):
        missing += [
            f"keys: {key!r}" for key in kind_class.required_keys if key not in kind_class.keys
        ]
    return missing


def kind_of(name: str) -> QuestionKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise UnknownQuestionType(name) from None


def is_known(name: object) -> bool:
    return isinstance(name, str) and name in _KINDS


def kinds() -> tuple[QuestionKind, ...]:
    return tuple(_KINDS.values())


def names() -> tuple[str, ...]:
    """Every type's name: the built-in ones in the order of QuestionType, then the others."""
    builtin = [str(name) for name in QuestionType]
    return tuple(
        sorted(_KINDS, key=lambda name: builtin.index(name) if name in builtin else len(builtin))
    )


def all_keys() -> tuple[str, ...]:
    """Every key some question type has, for messages about keys that do not apply."""
    return tuple(dict.fromkeys(key for kind in _KINDS.values() for key in kind.keys))


def xlsform_types() -> dict[str, str]:
    """XLSForm type -> question type, for the types XLSForm has under the same meaning."""
    return {xls: kind.name for kind in _KINDS.values() for xls in kind.xlsform_types}


class TemplateLoader(jinja2.BaseLoader):
    """Finds each registered type's template in the folder the type names."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        for kind in _KINDS.values():
            if kind.template == template:
                path = Path(kind.template_folder) / template
                if path.is_file():
                    return path.read_text(encoding="utf-8"), str(path), _unchanged(path)
        raise jinja2.TemplateNotFound(template)


def _unchanged(path: Path) -> Callable[[], bool]:
    mtime = path.stat().st_mtime
    return lambda: path.exists() and path.stat().st_mtime == mtime


def check_templates(environment: jinja2.Environment) -> None:
    """Refuse to start when a type's template is missing or does not define its widget."""
    for kind in _KINDS.values():
        try:
            module = environment.get_template(kind.template).module
        except jinja2.TemplateNotFound:
            raise IncompleteQuestionType(
                kind.name, [f"its template {kind.template!r} (not found)"]
            ) from None
        except jinja2.TemplateSyntaxError as error:
            raise IncompleteQuestionType(
                kind.name, [f"a usable template {kind.template!r} ({error.message})"]
            ) from None
        macro = getattr(module, WIDGET_MACRO, None)
        if macro is None or tuple(getattr(macro, "arguments", ())) != WIDGET_ARGUMENTS:
            raise IncompleteQuestionType(
                kind.name, [f"a macro {WIDGET_MACRO}(q, view) in {kind.template!r}"]
            )
