"""The gap report as an editable Word document (python-docx): same sections as the PDF.

Real headings (``Heading 1/2``) and Word tables (header rows repeat on every page), map sheets as
print-resolution images on landscape sections, East-Asian fonts set on every style (``w:eastAsia``)
so that Word and WPS show Chinese text in a Chinese font.
"""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt, RGBColor
from docx.table import Table as DocxTable

from maps.report_content import Content, Table
from maps.sheet_frame import PAPER_MM, SHEET_MARGIN_MM

#: East-Asian font of body text and headings (the usual 宋体/黑体 of Chinese planning texts).
EAST_ASIAN_FONTS = {"body": "宋体", "heading": "黑体"}
#: Latin font of body text and headings.
LATIN_FONTS = {"body": "Times New Roman", "heading": "Arial"}
_PORTRAIT_MM = (210.0, 297.0)
#: Relative column widths of long-text columns (numbers 1.25, other text 1.5).
COLUMN_WEIGHTS = {"indicator": 5.0, "action_label": 4.0, "reason_label": 3.0, "value": 4.0,
                  "key": 2.5, "type_label": 2.0}


def _set_fonts(style_font: object, kind: str) -> None:
    font = style_font
    font.name = LATIN_FONTS[kind]  # type: ignore[attr-defined]
    rpr = font.element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONTS[kind])


def _styles(doc: DocumentType) -> None:
    for name in ("Normal", "Table Grid", "List Number", "Caption"):
        if name in [s.name for s in doc.styles]:
            _set_fonts(doc.styles[name].font, "body")
    doc.styles["Normal"].font.size = Pt(10.5)
    for name in ("Title", "Heading 1", "Heading 2"):
        _set_fonts(doc.styles[name].font, "heading")
        doc.styles[name].font.color.rgb = RGBColor(0x1F, 0x4E, 0x9C)


def _page(doc: DocumentType, landscape: bool, size_mm: tuple[float, float], margin_mm: float,
          new: bool = True) -> None:
    section = doc.add_section(WD_SECTION.NEW_PAGE) if new else doc.sections[0]
    width, height = sorted(size_mm, reverse=landscape)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(width), Mm(height)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(margin_mm))


def _repeat_header(table: DocxTable) -> None:
    trpr = table.rows[0]._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    trpr.append(flag)


def add_table(doc: DocumentType, tb: Table, font_pt: float = 9.0) -> DocxTable:
    """A Word table of ``tb``: bold header row repeated on each page, numbers right-aligned."""
    table = doc.add_table(rows=1 + len(tb.rows), cols=len(tb.headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for j, text in enumerate(tb.headers):
        run = table.rows[0].cells[j].paragraphs[0].add_run(text)
        run.bold, run.font.size = True, Pt(font_pt)
    numeric = tb.numeric
    for i, row in enumerate(tb.rows, start=1):
        cells = table.rows[i].cells
        for j, text in enumerate(row):
            para = cells[j].paragraphs[0]
            para.add_run(text).font.size = Pt(font_pt)
            if numeric[j]:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _repeat_header(table)
    _widths(doc, table, tb)
    out: DocxTable = table
    return out


def _widths(doc: DocumentType, table: DocxTable, tb: Table) -> None:
    """Column widths by content (:data:`COLUMN_WEIGHTS`), filling the section's text width."""
    section = doc.sections[-1]
    avail = int(section.page_width or 0) - int(section.left_margin or 0) - int(
        section.right_margin or 0)
    weights = [COLUMN_WEIGHTS.get(k, 1.25 if n else 1.5) for k, n in zip(tb.keys, tb.numeric,
                                                                          strict=True)]
    table.autofit = False
    for j, weight in enumerate(weights):
        width = Emu(int(avail * weight / sum(weights)))
        table.columns[j].width = width
        for cell in table.columns[j].cells:
            cell.width = width


def _summary(doc: DocumentType, c: Content) -> None:
    doc.add_paragraph(c.text["title"], style="Title")
    doc.add_heading(c.text["summary"], level=1)
    for flag in c.flags:
        run = doc.add_paragraph().add_run(f"⚠ {flag}")
        run.bold, run.font.color.rgb = True, RGBColor(0xC0, 0, 0)
    for key, value in c.meta:
        para = doc.add_paragraph()
        para.add_run(f"{key}：" if c.lang == "zh" else f"{key}: ").bold = True
        para.add_run(value)
    doc.add_heading(c.text["headline"], level=2)
    add_table(doc, c.headline)
    doc.add_heading(c.text["plan"], level=2)
    if c.plan is not None:
        add_table(doc, c.plan)
    else:
        doc.add_paragraph(c.indicators_note)
    doc.add_heading(c.text["largest"], level=2)
    doc.add_paragraph(c.gap_sentence).runs[0].bold = True
    for line in c.top_gaps:
        doc.add_paragraph(line, style="List Number")
    if c.siting:
        doc.add_heading(c.text["siting"], level=2)
        doc.add_paragraph(c.siting)


def _sheets(doc: DocumentType, c: Content, paper: str) -> None:
    width_mm = PAPER_MM[paper][0] - 2 * SHEET_MARGIN_MM
    for k, sheet in enumerate(c.sheets):
        _page(doc, True, PAPER_MM[paper], SHEET_MARGIN_MM)
        if k == 0:
            doc.add_heading(c.text["maps"], level=1)
        doc.add_picture(io.BytesIO(sheet.png), width=Mm(width_mm * (0.9 if k == 0 else 0.95)))
        doc.add_paragraph(sheet.title, style="Caption")


def write_docx(c: Content, path: Path, paper: str = "a4") -> None:
    """Write ``report.docx``: summary, map sheets, indicators, per-area tables, gaps, appendix."""
    doc = Document()
    _styles(doc)
    _page(doc, False, _PORTRAIT_MM, 20.0, new=False)
    _summary(doc, c)
    _sheets(doc, c, paper)
    _page(doc, False, _PORTRAIT_MM, 20.0)
    doc.add_heading(c.text["indicators"], level=1)
    if c.indicators is not None:
        add_table(doc, c.indicators)
    else:
        doc.add_paragraph(c.indicators_note)
    doc.add_heading(c.text["units" if c.extra.get("by_unit") else "areas"], level=1)
    for label, tb in c.areas:
        doc.add_heading(label, level=2)
        add_table(doc, tb)
    _page(doc, True, _PORTRAIT_MM, 15.0)
    doc.add_heading(c.text["gaps"], level=1)
    add_table(doc, c.gaps, font_pt=8.0)
    _page(doc, False, _PORTRAIT_MM, 20.0)
    doc.add_heading(c.text["appendix"], level=1)
    add_table(doc, c.parameters)
    if c.warnings:
        doc.add_heading(c.text["warnings"], level=2)
        for line in c.warnings:
            doc.add_paragraph(line, style="List Bullet")
    doc.add_heading(c.text["files"], level=2)
    add_table(doc, c.files, font_pt=7.5)
    doc.save(str(path))
