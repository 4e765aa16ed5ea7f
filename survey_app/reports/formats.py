"""The formats a published report downloads as, declared once each.

Each format says everything a download needs: its name (the file's extension, the ``<format>``
of ``/reports/<survey>/report.<format>`` and ``report export --format``), its media type, the
words of its button on the report page (a catalogue id), the audit event that records it, and
how its bytes are built from the snapshot in one view. The page, the route, the command and the
audited download all read this map, so adding a format is one ``register`` call: its button,
its URL, its choice on the command line and its audit row follow.

These are downloads of the published snapshot only, which needs no key. Microdata, built from
the opened responses with the programme's key, is exported on its own (``audited.microdata``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..messages import N_, DomainError
from . import exports
from .presentation import Labels

# (labels of the snapshot in the reader's language, the view asked for) -> the file's bytes
Builder = Callable[[Labels, str], bytes]

_NAME = re.compile(r"[a-z0-9]{1,10}")


@dataclass(frozen=True)
class ExportFormat:
    name: str
    media_type: str
    label: str  # the button's words, marked with N_
    build: Builder
    audit_action: str = "report.download"

    def filename(self, survey_id: str, published: str, view_id: str) -> str:
        """``<survey>-report-<day published>[-<view>].<name>``."""
        suffix = "" if view_id == "all" else "-" + _file_safe(view_id)
        return f"{survey_id}-report-{published[:10]}{suffix}.{self.name}"


FORMATS: dict[str, ExportFormat] = {}


class UnknownFormat(DomainError, LookupError):
    message_id = N_("There is no download format '%(wanted)s'; choose one of %(known)s.")

    def __init__(self, wanted: str) -> None:
        super().__init__(wanted=wanted, known=", ".join(FORMATS))


def register(export_format: ExportFormat) -> ExportFormat:
    """Add a format to the map; its name must be new and fit a URL and a file extension."""
    if not _NAME.fullmatch(export_format.name):
        raise ValueError(
            f"format name {export_format.name!r}: use 1 to 10 lower-case letters or digits"
        )
    if export_format.name in FORMATS:
        raise ValueError(f"format {export_format.name!r} is registered already")
    FORMATS[export_format.name] = export_format
    return export_format


def find(name: str) -> ExportFormat:
    found = FORMATS.get(name)
    if found is None:
        raise UnknownFormat(name)
    return found


def _file_safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)[:60]


def _csv(labels: Labels, view_id: str) -> bytes:
    # With a byte order mark, spreadsheets read the UTF-8 as UTF-8.
    return exports.to_csv(labels, view_id).encode("utf-8-sig")


def _json(labels: Labels, view_id: str) -> bytes:
    return exports.to_json(labels.document, view_id).encode("utf-8")


register(
    ExportFormat(
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        N_("Excel workbook"),
        exports.to_xlsx,
    )
)
register(ExportFormat("csv", "text/csv; charset=utf-8", N_("CSV (one row per number)"), _csv))
register(ExportFormat("json", "application/json", N_("JSON"), _json))
