"""The `careplan` command line: parse arguments, load inputs, run the pipeline, write outputs."""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from planner.errors import DataQualityWarning, PlannerError

logger = logging.getLogger("careplan")
DEFAULT_CACHE = Path.home() / ".cache" / "careplan"


def _add_params_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("walking and coverage parameters")
    g.add_argument("--rules", metavar="NAME|FILE", help="jurisdiction rule profile (default national)")
    g.add_argument("--preset", help="walking-speed preset: older_adult (0.8 m/s), age_65_74, "
                   "age_75_84, age_85_plus, frail, gb50180, general")
    g.add_argument("--speed-m-s", type=float, help="walking speed in m/s (overrides --preset)")
    g.add_argument("--steps-factor", type=float, help="walking-time multiplier on steps (default 2)")
    g.add_argument("--dem", nargs="?", const="synthetic", metavar="FILE.tif",
                   help="terrain model (GeoTIFF, any CRS): slope- and direction-aware walking "
                   "times to the facility; without FILE a synthetic hill (demo)")
    g.add_argument("--max-snap-m", type=float, help="farthest snap distance in metres (default 300)")
    g.add_argument("--target-share", type=float, help="covered share a unit needs (default 0.8)")
    g.add_argument("--lang", choices=("zh", "en"), help="label language (default: the profile's, zh)")
    g.add_argument("--year", type=int, help="evaluate the targets in force in this year (default: "
                   "the profile's last target year); earlier targets are shown as history")
    g.add_argument("--assumptions", action="store_true",
                   help="also evaluate the profile author's assumption rules (off by default)")
    g.add_argument("--basemap", choices=("offline", "osm", "tianditu", "amap"), default="offline",
                   help="care-map tiles above the offline street background (default offline: "
                        "none; tianditu needs CAREPLAN_TIANDITU_KEY)")
    g.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="prepared-network cache")
    g.add_argument("--no-cache", action="store_true", help="do not read or write the cache")


def _version() -> str:
    """The installed distribution's version (``unknown`` when run from a bare source tree)."""
    try:
        return importlib.metadata.version("careplan")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _add_population_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("population grid (issue 19)")
    g.add_argument("--population", type=Path, action="append", metavar="FILE.tif",
                   help="population raster, any CRS (repeatable, summed: e.g. WorldPop 60+ files)")
    g.add_argument("--population-band", type=int, action="append", metavar="N",
                   help="band number read from every --population file (repeatable; default 1)")
    g.add_argument("--older-share", type=float, help="the raster counts everybody: older-adult "
                   "share, e.g. 0.1798 (stated in every output as an assumption)")
    g.add_argument("--population-grid-m", type=int, choices=(250, 1000), default=250,
                   help="aggregation grid without --units, metres (default 250)")


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="careplan", description=(
        "Elderly-care service-circle planner: walking catchments, coverage gaps, siting."))
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("--version", action="version", version=f"careplan {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the whole analysis on the built-in synthetic district")
    demo.add_argument("--out", type=Path, required=True, help="output folder")
    demo.add_argument("--seed", type=int, default=7, help="demo district seed")
    demo.add_argument("--nodes", type=int, default=6000, help="approximate network size")
    demo.add_argument("--older-adults", type=Path, help="older-adult register (CSV/XLSX): "
                      "adds coverage_needs.csv and needs_gaps.csv (suppressed counts)")
    demo.add_argument("--synthetic-population", action="store_true", help="demand from a "
                      "generated population raster (written as population_synthetic.tif)")
    _add_params_args(demo)
    an = sub.add_parser("analyze", help="analyse a real study area")
    src = an.add_mutually_exclusive_group(required=True)
    src.add_argument("--osm", type=Path, help=".osm, .osm.bz2 or .osm.pbf file")
    src.add_argument("--place", help='place name, e.g. "锦江区, 成都市, 四川省, 中国" (needs internet)')
    an.add_argument("--bbox", help="study area W,S,E,N in degrees (default the file's bounds)")
    an.add_argument("--facilities", type=Path, help="facility register (CSV/XLSX/GeoJSON/GPKG)")
    an.add_argument("--units", type=Path, help="communities/villages with older_pop")
    an.add_argument("--residential", type=Path, help="residential areas (GeoJSON/GPKG/SHP: name, "
                    "built_year or 新建, population) for the new-area provision indicators")
    an.add_argument("--coords", default="wgs84", choices=("wgs84", "gcj02", "bd09", "cgcs2000"),
                    help="coordinate system of --facilities")
    an.add_argument("--units-coords", default="wgs84", choices=("wgs84", "gcj02", "bd09", "cgcs2000"),
                    help="coordinate system of --units")
    an.add_argument("--older-adults", type=Path, help="older-adult register (老年人动态管理数据库, "
                    "CSV/XLSX): adds coverage_needs.csv and needs_gaps.csv (suppressed counts)")
    an.add_argument("--out", type=Path, required=True, help="output folder")
    _add_population_args(an)
    _add_params_args(an)
    sv = sub.add_parser("serve", help="start the REST service and care map")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--insecure-open", action="store_true",
                    help="serve off loopback without CAREPLAN_API_KEY (writes open to anyone)")
    _register_optional(sub)
    return parser


def _register_optional(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Subcommands that live in their own modules (rules, site, whatif, report)."""
    import importlib

    for module, func in (("api.cli.rules", "add_rules_commands"),
                         ("api.cli.site", "add_siting_commands"),
                         ("api.cli.report", "add_report_commands"),
                         ("api.cli.finder", "add_finder_commands"),
                         ("api.cli.needs", "add_needs_commands"),
                         ("api.cli.batch", "add_batch_commands")):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        getattr(mod, func)(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``careplan`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.ERROR,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.debug:  # data-quality warnings are counted in the outputs and summarised below
        warnings.simplefilter("ignore", DataQualityWarning)
    handler: Callable[[argparse.Namespace], int] | None = (
        getattr(args, "handler", None) or getattr(args, "func", None))
    if handler is None:
        from api.cli import run as cli_run

        handler = {"demo": cli_run.run_demo, "analyze": cli_run.run_analyze,
                   "serve": cli_run.run_serve}[args.command]
    try:
        return handler(args)
    except PlannerError as exc:
        if args.debug:
            raise
        sys.stderr.write(f"careplan: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("careplan: interrupted; nothing was written\n")
        return 130

