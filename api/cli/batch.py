"""`careplan batch`: every region of a province on Dask distributed, merged as one run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from api.cli.run import build_params, load_profile


def add_batch_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `careplan batch`."""
    from api.cli.main import _add_params_args

    bp = sub.add_parser("batch", help="run every region (county, street/town) on a Dask cluster "
                        "and merge the results")
    bp.add_argument("--osm", type=Path, required=True, help=".osm.pbf (or .osm) of the whole area")
    bp.add_argument("--regions", type=Path, required=True,
                    help="region polygons with codes (GeoPackage/GeoJSON/Shapefile)")
    bp.add_argument("--region-id-column", help="column of region codes (default region_id/code/id)")
    bp.add_argument("--facilities", type=Path, help="facility register (CSV/XLSX/GeoJSON/GPKG)")
    bp.add_argument("--coords", default="wgs84", choices=("wgs84", "gcj02", "bd09", "cgcs2000"),
                    help="coordinate system of --facilities")
    bp.add_argument("--units", type=Path, help="communities/villages with older_pop")
    bp.add_argument("--units-coords", default="wgs84",
                    choices=("wgs84", "gcj02", "bd09", "cgcs2000"), help="coordinate system of --units")
    bp.add_argument("--out", required=True, help="output folder or fsspec URL (e.g. s3://bucket/run)")
    where = bp.add_mutually_exclusive_group()
    where.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 "
                       "(default CAREPLAN_DASK_SCHEDULER, else a local cluster)")
    where.add_argument("--workers", type=int, help="local cluster workers (default: CPU count)")
    bp.add_argument("--resume", action="store_true",
                    help="skip regions whose outputs are complete and whose inputs are unchanged")
    bp.add_argument("--format", dest="fmt", default="gpkg", choices=("gpkg", "parquet"),
                    help="merged geodata: one GeoPackage or GeoParquet partitioned by region")
    bp.add_argument("--retries", type=int, default=2, help="retries of a failed region (default 2)")
    bp.add_argument("--horizon-min", type=float,
                    help="exact times up to this (default: the largest threshold); sets the halo")
    bp.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_params_args(bp)
    bp.set_defaults(handler=run_batch_command)


def run_batch_command(args: argparse.Namespace) -> int:
    """Handler of `careplan batch`: exit 0 when every region finished, 1 when some failed."""
    from tqdm import tqdm

    from api.batch.config import BatchConfig
    from api.batch.run import default_scheduler, run_batch

    profile = load_profile(args)
    cfg = BatchConfig(osm=args.osm, regions=args.regions, out=str(args.out),
                      params=build_params(args, profile), profile=profile,
                      region_id_column=args.region_id_column, facilities=args.facilities,
                      coords=args.coords, units=args.units, units_coords=args.units_coords,
                      scheduler=args.scheduler or (None if args.workers else default_scheduler()),
                      workers=args.workers, resume=args.resume, fmt=args.fmt,
                      retries=args.retries, horizon_min=args.horizon_min, lang=args.lang)
    bar: Any = None

    def say(text: str) -> None:
        (bar.write if bar is not None else lambda t: sys.stdout.write(t + "\n"))(f"careplan: {text}")

    def on_region(status: dict[str, Any], done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="regions", unit="region", disable=args.no_progress,
                       file=sys.stderr)
        bar.update(1)
        bar.set_postfix_str(f"{status['region']} {status['status']}")
        if status["status"] != "ok":
            say(f"region {status['region']} failed: {status['error']}")

    try:
        summary = run_batch(cfg, say=say, on_region=on_region)
    finally:
        if bar is not None:
            bar.close()
    sys.stdout.write(f"careplan: {summary['ok']}/{summary['regions']} regions ok "
                     f"({summary['ran']} run, {summary['skipped']} resumed), "
                     f"{summary['units']} units, {summary['wall_s']:.1f} s; outputs: {args.out}\n")
    for ftype, cov in summary["coverage"].items():
        sys.stdout.write(f"  {ftype}: {cov['covered_share']:.1%} of older adults within their circle\n")
    if summary["failed"]:
        sys.stdout.write(f"  FAILED regions (see batch_status.csv): {summary['missing_regions']}\n")
    return 0 if not summary["failed"] else 1
