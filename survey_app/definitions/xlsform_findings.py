"""What the XLSForm importer tells its user: notes about changes, and problems that stop it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass


@dataclass(frozen=True)
class ConversionNote:
    """Something the import changed, dropped or assumed; the survey was still converted."""

    row: int | None
    sheet: str
    message: str

    def __str__(self) -> str:
        where = self.sheet if self.row is None else f"{self.sheet} row {self.row}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ConversionProblem:
    """A row (or a whole sheet) that cannot be converted, and why."""

    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.sheet if self.row is None else f"{self.sheet} row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class Findings:
    """Collects notes and problems while a form is converted, in the order they are found."""

    def __init__(self) -> None:
        self.notes: list[ConversionNote] = []
        self.problems: list[ConversionProblem] = []
        # language code -> sheet -> rows with text that lacks that language
        self._untranslated: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))

    def note(self, sheet: str, row: int | None, message: str) -> None:
        self.notes.append(ConversionNote(row=row, sheet=sheet, message=message))

    def problem(self, sheet: str, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(ConversionProblem(sheet, row, column, message))

    def sorted_notes(self) -> tuple[ConversionNote, ...]:
        """Notes by sheet (survey, choices, settings, others) and row; sheet-wide ones first."""
        return tuple(sorted(self.notes, key=lambda note: _place(note.sheet, note.row)))

    def sorted_problems(self) -> tuple[ConversionProblem, ...]:
        """Problems in the same order as notes: row by row, as the form's author reads it."""
        return tuple(sorted(self.problems, key=lambda problem: _place(problem.sheet, problem.row)))

    def untranslated(self, language: str, sheet: str, row: int) -> None:
        rows = self._untranslated[language][sheet]
        if row not in rows:
            rows.append(row)

    def note_untranslated(self) -> None:
        """One note per language and sheet listing the rows whose text it lacks."""
        for language, sheets in self._untranslated.items():
            for sheet, rows in sheets.items():
                self.note(
                    sheet,
                    None,
                    f"no '{language}' text on {_rows(rows)}; left missing "
                    f"(shown in the default language; `surveys check` warns of it)",
                )
        self._untranslated.clear()


def _place(sheet: str, row: int | None) -> tuple[int, int]:
    rank = {"survey": 0, "choices": 1, "settings": 2}
    return rank.get(sheet, 3), row or 0


def _rows(rows: list[int]) -> str:
    shown = ", ".join(str(row) for row in rows[:12])
    more = f" and {len(rows) - 12} more" if len(rows) > 12 else ""
    return f"row{'s' if len(rows) > 1 else ''} {shown}{more}"
