"""The policy brief as a Word document (DOCX), for partners who edit or forward it.

It holds what the printed brief holds, already in the reader's language: the caller (the web
page) writes every word, this module only lays it out. Right-to-left languages get paragraphs
and table marked right-to-left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph


@dataclass(frozen=True)
class IndicatorLine:
    label: str
    latest: str
    target: str
    words: str


@dataclass(frozen=True)
class QuoteLine:
    text: str
    caption: str


@dataclass(frozen=True)
class BriefDocument:
    """Every word of the brief, in one language."""

    language: str
    right_to_left: bool
    title: str
    kind: str  # "Policy brief"
    programme: str
    facts: str
    headings: dict[str, str]  # findings, indicators, quotes, method
    columns: tuple[str, str, str, str]  # indicator, latest, target, in words
    findings: list[str]
    indicators: list[IndicatorLine] = field(default_factory=list)
    quotes: list[QuoteLine] = field(default_factory=list)
    method: str = ""


def _right_to_left(paragraph: Paragraph) -> None:
    properties = paragraph._p.get_or_add_pPr()
    properties.append(OxmlElement("w:bidi"))


def build(brief: BriefDocument) -> bytes:
    document = Document()
    document.core_properties.title = f"{brief.kind}: {brief.title}"
    document.core_properties.language = brief.language
    normal = document.styles["Normal"]
    normal.font.size = Pt(10)
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), brief.language)
    language.set(qn("w:bidi"), brief.language)
    normal.element.get_or_add_rPr().append(language)
    paragraphs: list[Paragraph] = []

    if brief.programme:
        paragraphs.append(document.add_paragraph(brief.programme))
    paragraphs.append(document.add_heading(brief.title, level=0))
    paragraphs.append(document.add_paragraph(brief.kind, style="Subtitle"))
    paragraphs.append(document.add_paragraph(brief.facts))

    paragraphs.append(document.add_heading(brief.headings["findings"], level=1))
    for finding in brief.findings:
        paragraphs.append(document.add_paragraph(finding, style="List Number"))

    if brief.indicators:
        paragraphs.append(document.add_heading(brief.headings["indicators"], level=1))
        table = document.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, brief.columns, strict=True):
            cell.text = text
            for run in cell.paragraphs[0].runs:
                run.bold = True
            paragraphs.extend(cell.paragraphs)
        for line in brief.indicators:
            cells = table.add_row().cells
            for cell, text in zip(
                cells, (line.label, line.latest, line.target, line.words), strict=True
            ):
                cell.text = text
                paragraphs.extend(cell.paragraphs)
        if brief.right_to_left:
            table_properties = table._tbl.tblPr
            table_properties.append(OxmlElement("w:bidiVisual"))

    if brief.quotes:
        paragraphs.append(document.add_heading(brief.headings["quotes"], level=1))
        for quote in brief.quotes:
            said = document.add_paragraph(style="Quote")
            said.add_run(quote.text)
            paragraphs.append(said)
            if quote.caption:
                paragraphs.append(document.add_paragraph(quote.caption))

    paragraphs.append(document.add_heading(brief.headings["method"], level=1))
    paragraphs.append(document.add_paragraph(brief.method))

    if brief.right_to_left:
        for paragraph in paragraphs:
            _right_to_left(paragraph)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()
