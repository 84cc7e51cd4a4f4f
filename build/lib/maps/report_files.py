"""Write a run's gap report in every format (Excel, GeoPackage, HTML, PDF) plus its manifest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from maps.report import render_html, render_pdf
from planner.io.report_inputs import RunTables, load_run
from planner.io.report_writers import (
    report_layers,
    write_geopackage,
    write_manifest,
    write_report_folder,
    write_workbook,
)
from planner.report.tables import ReportTables, build_report_tables

FORMATS = ("xlsx", "gpkg", "html", "pdf")


def build_writers(run: RunTables, tables: ReportTables, formats: tuple[str, ...],
                  lang: str) -> dict[str, Callable[[Path], None]]:
    """File name -> writer for each requested format, plus ``manifest.json``."""
    writers: dict[str, Callable[[Path], None]] = {
        "manifest.json": lambda p: write_manifest(tables.manifest, p)}
    if "xlsx" in formats:
        writers["report.xlsx"] = lambda p: write_workbook(tables, p, lang)
    if "gpkg" in formats:
        writers["report.gpkg"] = lambda p: write_geopackage(
            report_layers(tables, run.layers), tables.manifest, p)
    if "html" in formats or "pdf" in formats:
        html = render_html(tables, run.layers, run.summary, run.type_labels)

        def write_html(p: Path) -> None:
            p.write_text(html, encoding="utf-8")

        def write_pdf(p: Path) -> None:
            p.write_bytes(render_pdf(html))

        if "html" in formats:
            writers["report.html"] = write_html
        if "pdf" in formats:
            writers["report.pdf"] = write_pdf
    return writers


def make_report(run_dir: Path, out_dir: Path, *, lang: str = "zh",
                formats: tuple[str, ...] = FORMATS, siting_dir: Path | None = None) -> Path:
    """Load ``run_dir`` (and a siting output), build the report tables, write every format."""
    run = load_run(run_dir, siting_dir=siting_dir)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    tables = build_report_tables(run.summary, run.tables, run.layers["facilities"],
                                 run.layers["units"], labels=run.type_labels,
                                 checksums=run.checksums, report_time=now, lang=lang)
    return write_report_folder(out_dir, build_writers(run, tables, formats, lang))
