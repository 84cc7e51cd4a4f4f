"""Write a run's gap report in every format (xlsx, gpkg, html, pdf, docx) plus its manifest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from maps.report import render_content_html, render_pdf
from maps.report_content import Content, build_content
from planner.io.report_inputs import RunTables, load_run
from planner.io.report_writers import (
    report_layers,
    write_geopackage,
    write_manifest,
    write_report_folder,
    write_workbook,
)
from planner.report.tables import ReportTables, build_report_tables

FORMATS = ("xlsx", "gpkg", "html", "pdf", "docx")
PAPERS = ("a4", "a3")


def build_writers(run: RunTables, tables: ReportTables, formats: tuple[str, ...],
                  lang: str, paper: str = "a4") -> dict[str, Callable[[Path], None]]:
    """File name -> writer for each requested format, plus ``manifest.json``."""
    writers: dict[str, Callable[[Path], None]] = {
        "manifest.json": lambda p: write_manifest(tables.manifest, p)}
    if "xlsx" in formats:
        writers["report.xlsx"] = lambda p: write_workbook(tables, p, lang)
    if "gpkg" in formats:
        writers["report.gpkg"] = lambda p: write_geopackage(
            report_layers(tables, run.layers), tables.manifest, p)
    if not {"html", "pdf", "docx"} & set(formats):
        return writers
    content = build_content(tables, run.layers, run.summary, run.type_labels, paper=paper)
    if "html" in formats or "pdf" in formats:
        html = render_content_html(content, paper)
        if "html" in formats:
            writers["report.html"] = lambda p: _write(p, html.encode("utf-8"))
        if "pdf" in formats:
            writers["report.pdf"] = lambda p: _write(p, render_pdf(html))
    if "docx" in formats:
        writers["report.docx"] = lambda p: _write_docx(content, p, paper)
    return writers


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _write_docx(content: Content, path: Path, paper: str) -> None:
    from maps.report_docx import write_docx

    write_docx(content, path, paper)


def make_report(run_dir: Path, out_dir: Path, *, lang: str = "zh",
                formats: tuple[str, ...] = FORMATS, siting_dir: Path | None = None,
                paper: str = "a4") -> Path:
    """Load ``run_dir`` (and a siting output), build the report tables, write every format."""
    run = load_run(run_dir, siting_dir=siting_dir)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    tables = build_report_tables(run.summary, run.tables, run.layers["facilities"],
                                 run.layers["units"], labels=run.type_labels,
                                 checksums=run.checksums, report_time=now, lang=lang)
    return write_report_folder(out_dir, build_writers(run, tables, formats, lang, paper))
