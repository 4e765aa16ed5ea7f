"""The `type` column of an XLSForm survey sheet: what each type becomes in a survey file.

Identifying metadata is dropped (with a note) rather than refused, because almost every form
made with KoboToolbox or ODK carries it and the survey loses nothing a respondent answers.
Types that would collect something the format cannot hold, or should not, are refused with
the reason, so the form's author can decide what to ask instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from .types import registry


class Kind(Enum):
    QUESTION = "question"
    BEGIN_GROUP = "begin group"
    END_GROUP = "end group"
    BEGIN_REPEAT = "begin repeat"
    END_REPEAT = "end repeat"
    METADATA = "metadata"  # dropped with a note
    DROPPED = "dropped"  # a question that would identify the respondent: dropped with a note
    CALCULATE = "calculate"  # dropped when nothing uses it, else refused
    UNSUPPORTED = "unsupported"  # refused with a reason


@dataclass(frozen=True)
class ParsedType:
    kind: Kind
    # For questions: our question type, or "range"/"acknowledge"/"select_one"/"select_multiple"
    # which the converter settles from the row's other columns.
    base: str = ""
    list_name: str | None = None
    other: bool = False
    reason: str = ""
    # Where the options are: "" the choices sheet, "file" a file named by list_name given next
    # to the form, "external" the external_choices sheet.
    source: str = ""


# Why each metadata type is dropped: it would tie a response to a person, a phone or a moment.
IDENTIFYING_METADATA: dict[str, str] = {
    "start": "the exact start time could link the response to the person who gave it",
    "end": "the exact end time could link the response to the person who gave it",
    "today": "the exact day could link the response to a person; the app keeps only a coarse "
    "period",
    "deviceid": "a device id identifies the respondent's phone",
    "imei": "a device id identifies the respondent's phone",
    "subscriberid": "a subscriber id identifies the respondent's SIM card",
    "simserial": "a SIM serial number identifies the respondent's SIM card",
    "phonenumber": "a phone number identifies the respondent",
    "username": "a user name identifies the person who filled in the form",
    "email": "an email address identifies the person who filled in the form",
    "audit": "an audit log records when, and possibly where, each answer was given",
    "start-geopoint": "a location would identify the respondent",
    "background-geopoint": "a location would identify the respondent",
    "background-audio": "a recording would identify the respondent",
}
_METADATA_ALIASES = {
    "phone number": "phonenumber",
    "start geopoint": "start-geopoint",
    # pyxform's spellings of the same device properties
    "uri:deviceid": "deviceid",
    "uri:subscriberid": "subscriberid",
    "uri:simserial": "simserial",
    "uri:phonenumber": "phonenumber",
    "uri:username": "username",
    "uri:email": "email",
}

_LOCATION = "a location would identify the respondent; ask for a region with a choice list"
_MEDIA = "photos, recordings and files can identify the respondent and are not collected"
# Questions dropped (with a note) rather than refused: the rest of the form keeps its meaning,
# and every expression that used one of them is rewritten and named in a note.
DROPPED_QUESTIONS: dict[str, str] = {
    "geopoint": _LOCATION,
    "location": _LOCATION,
    "gps": _LOCATION,
    "geotrace": _LOCATION,
    "geoshape": _LOCATION,
    "osm": _LOCATION,
    "image": _MEDIA,
    "photo": _MEDIA,
    "audio": _MEDIA,
    "video": _MEDIA,
    "file": _MEDIA,
    "barcode": "scanning a code needs the phone's camera, and a scanned code can link the "
    "response to a person",
    "time": "an exact time of day can help identify a respondent; ask with a choice list "
    "such as morning/afternoon/evening",
    "datetime": "an exact date and time can help identify a respondent; use a date question",
    "hidden": "a hidden field is filled in by the device, not by the respondent",
    "trigger": "a trigger only asks the respondent to tap; it holds no answer",
}
UNSUPPORTED_TYPES: dict[str, str] = {
    "rank": "ranking questions are not supported; ask a rating question per item",
    "xml-external": "external data files are not supported",
    "csv-external": "external data files are not supported",
}
_FILE_LOCATION = (
    "its options come from a map file (.geojson) of places, and the place picked would "
    "identify the respondent; ask for a region with a choice list"
)

# Types the converter settles from the row's other columns; the others that XLSForm and survey
# files share are each question type's own (`xlsform_types` in definitions/types).
_SETTLED_TYPES: dict[str, str] = {"range": "range", "acknowledge": "acknowledge"}
_STRUCTURE: dict[str, Kind] = {
    "begin group": Kind.BEGIN_GROUP,
    "end group": Kind.END_GROUP,
    "begin repeat": Kind.BEGIN_REPEAT,
    "end repeat": Kind.END_REPEAT,
    "end loop": Kind.END_REPEAT,
}
# `begin loop over <list>`: one repetition per option of the list, as pyxform expands it.
_LOOP = re.compile(r"^begin[ _]loop\s+over\s+(?P<list>\S+)$", re.IGNORECASE)

_SELECT = re.compile(
    r"^(?P<keyword>select_one|select one|select1|select_multiple|select multiple"
    r"|select all that apply)(?:\s+from)?\s+(?P<list>\S+)"
    r"(?:\s+(?P<other>or_other|or specify other))?$",
    re.IGNORECASE,
)
_MULTIPLE_KEYWORDS = frozenset({"select_multiple", "select multiple", "select all that apply"})
_EXTERNAL_SELECT = re.compile(
    r"^select[_ ](?P<count>one|multiple)(?P<how>_from_file|_external|[_ ]from[_ ]file)"
    r"(?:\s+(?P<list>\S+))?$",
    re.IGNORECASE,
)


def parse_type(text: str) -> ParsedType:
    """Classify the text of a `type` cell (already stripped, never empty)."""
    spaced = " ".join(text.split())
    keyword = spaced.lower()
    structural = keyword.replace("_", " ").replace("-", " ")
    if structural in _STRUCTURE:
        return ParsedType(_STRUCTURE[structural])
    loop = _LOOP.match(spaced)
    if loop:
        return ParsedType(Kind.BEGIN_REPEAT, base="loop", list_name=loop.group("list"))
    if structural.startswith("begin loop"):
        return ParsedType(Kind.UNSUPPORTED, reason=f"'{spaced}': write 'begin loop over <list>'")
    metadata = _METADATA_ALIASES.get(keyword, keyword)
    if metadata in IDENTIFYING_METADATA:
        return ParsedType(Kind.METADATA, base=metadata, reason=IDENTIFYING_METADATA[metadata])
    if keyword == "calculate":
        return ParsedType(Kind.CALCULATE, base="calculate")
    simple = {**registry.xlsform_types(), **_SETTLED_TYPES}
    if keyword in simple:
        return ParsedType(Kind.QUESTION, base=simple[keyword])
    external = _EXTERNAL_SELECT.match(spaced)
    if external:
        return _external_select(spaced, external)
    select = _SELECT.match(spaced)
    if select:
        multiple = select.group("keyword").lower() in _MULTIPLE_KEYWORDS
        return ParsedType(
            Kind.QUESTION,
            base="select_multiple" if multiple else "select_one",
            list_name=select.group("list"),
            other=select.group("other") is not None,
        )
    if keyword.split(" ")[0] in {"select_one", "select_multiple", "select1"}:
        return ParsedType(Kind.UNSUPPORTED, reason=f"'{spaced}' does not name a choice list")
    dropped = DROPPED_QUESTIONS.get(keyword) or DROPPED_QUESTIONS.get(keyword.split(" ")[0])
    if dropped is not None:  # `osm building_tags` too
        return ParsedType(Kind.DROPPED, base=keyword.split(" ")[0], reason=dropped)
    reason = (
        UNSUPPORTED_TYPES.get(keyword)
        or UNSUPPORTED_TYPES.get(structural)
        or UNSUPPORTED_TYPES.get(keyword.split(" ")[0])
    )  # `rank fruits`
    if reason is not None:
        return ParsedType(Kind.UNSUPPORTED, reason=f"'{spaced}': {reason}")
    return ParsedType(Kind.UNSUPPORTED, reason=f"unknown question type '{spaced}'")


def _external_select(spaced: str, match: re.Match[str]) -> ParsedType:
    """`select_one_from_file places.csv` (options from a file given next to the form) and
    `select_one_external list` (options from the external_choices sheet)."""
    base = "select_one" if match.group("count").lower() == "one" else "select_multiple"
    list_name = match.group("list")
    if list_name is None:
        return ParsedType(Kind.UNSUPPORTED, reason=f"'{spaced}' does not name a choice list")
    if match.group("how").lower() == "_external":
        if base != "select_one":
            return ParsedType(Kind.UNSUPPORTED, reason=f"unknown question type '{spaced}'")
        return ParsedType(Kind.QUESTION, base=base, list_name=list_name, source="external")
    suffix = list_name[list_name.rfind(".") :].lower() if "." in list_name else ""
    if suffix == ".geojson":
        return ParsedType(Kind.DROPPED, base=base, list_name=list_name, reason=_FILE_LOCATION)
    if suffix not in {".csv", ".xml"}:
        return ParsedType(
            Kind.UNSUPPORTED,
            reason=f"'{spaced}': the file of options must end in .csv or .xml",
        )
    return ParsedType(Kind.QUESTION, base=base, list_name=list_name, source="file")
