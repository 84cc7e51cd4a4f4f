"""`careplan report RUN_DIR --out DIR`: Excel, GeoPackage, HTML and PDF gap reports of a run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from maps.report_files import FORMATS, make_report
from planner.errors import InputDataError, PlannerError


def _parse_formats(text: str) -> tuple[str, ...]:
    wanted = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    bad = [f for f in wanted if f not in FORMATS]
    if bad or not wanted:
        msg = f"--formats {text!r}: unknown {', '.join(bad) or 'empty list'}; use {','.join(FORMATS)}"
        raise InputDataError(msg)
    return wanted


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
