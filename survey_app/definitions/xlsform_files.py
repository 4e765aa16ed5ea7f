"""Choice lists kept in files given next to an XLSForm (`select_one_from_file places.csv`,
`search('places')`), read once at import time.

The options become ordinary options of the survey file: the survey served never reads a file
while a respondent answers. A file is read only from the folder it was given in (the form's
own folder, or the one the import names), by its bare name, and is refused with a clear message
when it cannot be read as a list: not UTF-8, no header, a repeated column, a row with more cells
than the header, or too large for a question's options.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

# A list respondents scroll through must stay small enough to send on a slow phone.
MAX_FILE_BYTES = 1_000_000
MAX_OPTIONS = 2000
# Files whose rows become options; `.geojson` holds places and is dropped as identifying.
READABLE_SUFFIXES = (".csv", ".xml")
LOCATION_SUFFIX = ".geojson"


class ChoiceFileError(Exception):
    """The file cannot be read as a choice list; the message names the file and the reason."""


@dataclass(frozen=True)
class FileRow:
    line: int  # as a spreadsheet shows the file: the header is row 1
    cells: dict[str, str]


@dataclass(frozen=True)
class ChoiceFile:
    name: str
    columns: tuple[str, ...]
    rows: tuple[FileRow, ...]


class ChoiceFiles:
    """The files of one import, read from `folder` on first use."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        self._read: dict[str, ChoiceFile] = {}

    def read(self, name: str) -> ChoiceFile:
        """The file `name` (a bare file name) of this import's folder; ChoiceFileError if it
        is missing or cannot be read as a list."""
        if name in self._read:
            return self._read[name]
        if Path(name).name != name or name in {".", ".."} or "\\" in name:
            raise ChoiceFileError(
                f"'{name}' is not a file name: give the file next to the form, without a folder"
            )
        path = self.folder / name
        if not path.is_file():
            raise ChoiceFileError(
                f"the file '{name}' is not in {self.folder}: put it next to the form, or name "
                f"the folder that holds it with --files"
            )
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ChoiceFileError(
                f"'{name}' is {size // 1000} KB; a choice list file may be at most "
                f"{MAX_FILE_BYTES // 1000} KB"
            )
        data = path.read_bytes()
        suffix = Path(name).suffix.lower()
        if suffix == ".csv":
            read = _read_csv(name, data)
        elif suffix == ".xml":
            read = _read_xml(name, data)
        else:
            raise ChoiceFileError(f"'{name}' is not a .csv or .xml file")
        if len(read.rows) > MAX_OPTIONS:
            raise ChoiceFileError(
                f"'{name}' has {len(read.rows)} rows; a question may offer at most "
                f"{MAX_OPTIONS} options"
            )
        self._read[name] = read
        return read


def _text(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ChoiceFileError(
            f"'{name}' is not UTF-8 text (byte {data[error.start]:#04x} at position "
            f"{error.start}); save it as 'CSV UTF-8'"
        ) from None


def _read_csv(name: str, data: bytes) -> ChoiceFile:
    text = _text(name, data)
    if "\x00" in text:
        raise ChoiceFileError(f"'{name}' holds NUL characters: it is not a text file")
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise ChoiceFileError(f"'{name}' cannot be read as CSV: {error}") from None
    if not lines or not any(cell.strip() for cell in lines[0]):
        raise ChoiceFileError(f"'{name}' is empty: its first row must name the columns")
    header = [cell.strip() for cell in lines[0]]
    _check_header(name, header)
    rows: list[FileRow] = []
    for number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
            raise ChoiceFileError(
                f"'{name}' row {number} has {len(cells)} cells but the header names "
                f"{len(header)} columns"
            )
        rows.append(
            FileRow(
                number,
                {column: cell.strip() for column, cell in zip(header, cells, strict=False)},
            )
        )
    return ChoiceFile(name=name, columns=tuple(header), rows=tuple(rows))


def _check_header(name: str, header: list[str]) -> None:
    seen: set[str] = set()
    for position, column in enumerate(header, start=1):
        if not column:
            raise ChoiceFileError(f"'{name}': column {position} of the first row has no name")
        if column in seen:
            raise ChoiceFileError(f"'{name}': the column '{column}' is named twice")
        seen.add(column)


def _read_xml(name: str, data: bytes) -> ChoiceFile:
    """ODK's XML list: `<root><item><name>..</name><label>..</label></item>...</root>`."""
    text = _text(name, data)
    try:
        root = fromstring(text, forbid_dtd=True)
    except DefusedXmlException:
        raise ChoiceFileError(
            f"'{name}' declares a DOCTYPE or entities, which are not read"
        ) from None
    except ParseError as error:
        raise ChoiceFileError(f"'{name}' is not well-formed XML: {error}") from None
    columns: list[str] = []
    rows: list[FileRow] = []
    for number, item in enumerate(root, start=2):
        cells: dict[str, str] = {}
        for field in item:
            if field.tag in cells:
                raise ChoiceFileError(f"'{name}': item {number - 1} has two <{field.tag}> elements")
            cells[field.tag] = (field.text or "").strip()
            if field.tag not in columns:
                columns.append(field.tag)
        if any(cells.values()):
            rows.append(FileRow(number, cells))
    if not rows:
        raise ChoiceFileError(f"'{name}' holds no <item> with values")
    return ChoiceFile(name=name, columns=tuple(columns), rows=tuple(rows))
