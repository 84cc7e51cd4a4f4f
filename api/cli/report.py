"""`careplan report RUN_DIR --out DIR`: Excel, GeoPackage, HTML and PDF gap reports of a run."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path

from planner.errors import InputDataError, PlannerError
from planner.io.report_inputs import RunTables, load_run
from planner.io.report_writers import (
    report_layers,
    write_geopackage,
    write_manifest,
    write_report_folder,
    write_workbook,
)
from planner.report import ReportTables, build_report_tables

FORMATS = ("xlsx", "gpkg", "html", "pdf")


def _parse_formats(text: str) -> tuple[str, ...]:
    wanted = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    bad = [f for f in wanted if f not in FORMATS]
    if bad or not wanted:
        msg = f"--formats {text!r}: unknown {', '.join(bad) or 'empty list'}; use {','.join(FORMATS)}"
        raise InputDataError(msg)
    return wanted


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
        from maps.report import render_html, render_pdf

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


def run_report(args: argparse.Namespace) -> int:
    """Handler of ``careplan report``; a :class:`PlannerError` prints one line and returns 1."""
    try:
        out = make_report(args.run_dir, args.out, lang=args.lang,
                          formats=_parse_formats(args.formats), siting_dir=args.siting)
    except PlannerError as exc:
        sys.stderr.write(f"careplan report: {exc}\n")
        return 1
    sys.stdout.write(f"report written to {out}\n")
    return 0


def add_report_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``careplan report RUN_DIR --out DIR [--lang zh|en] [--formats ...]``."""
    rep = subparsers.add_parser("report", help="gap report (Excel, GeoPackage, HTML, PDF) of a run")
    rep.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="folder of a careplan run")
    rep.add_argument("--out", type=Path, required=True, help="report folder to write")
    rep.add_argument("--lang", choices=("zh", "en"), default="zh", help="report language")
    rep.add_argument("--formats", default=",".join(FORMATS),
                     help="comma-separated subset of " + ",".join(FORMATS))
    rep.add_argument("--siting", type=Path, metavar="SITE_DIR",
                     help="output folder of `careplan site` to include proposed sites")
    rep.set_defaults(handler=run_report)
