"""Handlers of `careplan demo`, `careplan analyze` and `careplan serve` (load, run, write)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely

from api.cli.analyze_outputs import write_outputs as _write
from api.cli.progress import StepBar
from api.cli.rasters import (
    bytes_writer,
    check_population_args,
    demo_population,
    load_dem,
    read_population_args,
)
from planner.catchments.polygons import CatchmentParams
from planner.compliance.rules import RuleProfile
from planner.errors import InputDataError
from planner.io.cache import cache_key, load_cached, save_cached
from planner.io.catalogue import read_catalogue
from planner.io.folder import hash_file
from planner.io.osm import OsmExtract, download_place, read_osm_file
from planner.io.osm_background import read_background_areas
from planner.io.rules import read_profile
from planner.network.graph import WalkNetwork, build_walk_network
from planner.params import CoverageParams, PlanParams, SnapParams, WalkProfile
from planner.pipeline import PlanResult, run_plan
from planner.routing.forkpool import Started
from planner.schema import PlanInputs

if TYPE_CHECKING:
    import geopandas as gpd



def load_profile(args: argparse.Namespace) -> RuleProfile:
    """The rule profile named by ``--rules`` (default ``national``)."""
    return read_profile(getattr(args, "rules", None) or "national")


def build_params(args: argparse.Namespace, profile: RuleProfile) -> PlanParams:
    """PlanParams from the rule profile and the command-line overrides."""
    params = profile.plan_params()
    walk = params.walk
    if args.preset:
        walk = WalkProfile.from_preset(args.preset, steps_factor=walk.steps_factor)
    if args.speed_m_s is not None:
        walk = dataclasses.replace(walk, speed_m_s=args.speed_m_s, name="custom")
    if args.steps_factor is not None:
        walk = dataclasses.replace(walk, steps_factor=args.steps_factor)
    coverage: CoverageParams = params.coverage
    if args.target_share is not None:
        coverage = dataclasses.replace(coverage, target_share=args.target_share)
    snap = params.snap if args.max_snap_m is None else SnapParams(max_snap_m=args.max_snap_m)
    walk = dataclasses.replace(walk, dem=getattr(args, "dem", None) or params.walk.dem)
    return dataclasses.replace(params, walk=walk, coverage=coverage, snap=snap)


def _parse_bbox(text: str | None) -> shapely.Geometry | None:
    if not text:
        return None
    try:
        w, s, e, n = (float(v) for v in text.split(","))
    except ValueError as exc:
        msg = f"--bbox {text!r} is not W,S,E,N in degrees; e.g. --bbox 104.04,30.65,104.13,30.73"
        raise InputDataError(msg) from exc
    if not (w < e and s < n and -180 <= w <= 180 and -90 <= s <= 90):
        msg = f"--bbox {text!r} is empty or out of range; give W,S,E,N with W<E and S<N"
        raise InputDataError(msg)
    return shapely.box(w, s, e, n)


def load_network(path: Path, params: PlanParams, area: shapely.Geometry | None,
                 cache_dir: Path | None, progress: Callable[[str], None] | None = None
                 ) -> tuple[OsmExtract, WalkNetwork, str]:
    """Parse (or load from cache) an OSM file and its prepared network; return the file hash too.

    ``progress`` is told ``prepare`` between parsing and preparing the network."""
    digest = hash_file(path) if path.is_file() else ""
    key = cache_key(digest, params.walk, area)
    if cache_dir is not None and digest:
        cached = load_cached(cache_dir, key)
        if cached is not None:
            return cached[0], cached[1], digest
    extract = read_osm_file(path, read_catalogue(), study_area=area)
    if progress is not None:
        progress("prepare")
    network = build_walk_network(extract.network, params.walk)
    if cache_dir is not None:
        save_cached(cache_dir, key, extract, network)
    return extract, network, digest


def _report(result: PlanResult, out: Path, seconds: dict[str, float] | None = None,
            files_s: dict[str, float] | None = None) -> None:
    s = result.summary
    lines = [f"careplan: {s['label']}: {s['units']} units, {s['older_pop']:.0f} older adults"]
    for ftype in s["required_types"]:
        share = s["coverage"].get(ftype, {}).get("covered_share", 0.0)
        lines.append(f"  {ftype}: {share:.1%} of older adults within their circle")
    lines.append(f"  gaps: {s['gaps']} (in {s['gap_units']} units)")
    lines.extend(f"  warning: {w['message']}" for w in result.warnings.entries)
    if s.get("terrain"):
        lines.append(f"  terrain: {s['terrain']['file']} (walking times TO the facility, "
                     f"slope-aware; {s['terrain']['nodata_segments']} segments over nodata)")
    if s.get("population"):
        p = s["population"]
        lines.append(f"  demand: population raster ({p['method']}, {p['cells']} cells, "
                     f"{p['raster_older_pop']:.0f} older adults in the study area)")
    if s.get("synthetic"):
        lines.append("  NOTE: synthetic demo district, not real data")
    lines.append(f"  outputs: {out}")
    if seconds:  # where the wall time went (load = reading the OSM file, or the cache)
        lines.append("  step seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
    if files_s:  # each output file (the GeoPackage is written meanwhile by a forked child)
        lines.append("  write seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in files_s.items()))
    sys.stdout.write("\n".join(lines) + "\n")


def run_demo(args: argparse.Namespace) -> int:
    """`careplan demo`: the whole analysis on the synthetic district."""
    from planner.synthetic.district import build_demo_district

    started = time.perf_counter()
    profile = load_profile(args)
    params = build_params(args, profile)
    bar = StepBar()
    inputs = build_demo_district(seed=args.seed, target_nodes=args.nodes)
    files: dict[str, Callable[[Path], None]] = {}
    if getattr(args, "synthetic_population", False):
        inputs, files = demo_population(inputs)
    dem, dem_files = load_dem(params.walk.dem, inputs.study_area)
    inputs = dataclasses.replace(inputs, dem=dem)
    files.update({name: bytes_writer(data) for name, data in dem_files.items()})
    result = run_plan(inputs, params, catchment_params=CatchmentParams(workers=2), progress=bar)
    bar("write")
    _write(result, args.out, args, profile, started, more_files=files)
    bar.close()
    _report(result, args.out)
    return 0


@dataclasses.dataclass(frozen=True)
class _Loaded:
    """What `careplan analyze` loaded besides the OSM file."""

    inputs: PlanInputs
    hierarchy: pd.DataFrame | None
    problems: pd.DataFrame
    files: dict[str, dict[str, object]]
    residential: gpd.GeoDataFrame | None = None


def _read_inputs(args: argparse.Namespace, extract: OsmExtract, digest: str,
                 profile: RuleProfile) -> _Loaded:
    from planner.io.registers import read_facility_register
    from planner.io.units import read_units

    sources = {str(args.osm or args.place): digest}
    facilities = extract.pois.drop(columns=["osm_tags"], errors="ignore")
    units = hierarchy = None
    problems: list[pd.DataFrame] = []
    files: dict[str, dict[str, object]] = {}
    if args.facilities:
        reg = read_facility_register(args.facilities, catalogue=read_catalogue(),
                                     coords=args.coords, study_area=extract.study_area)
        facilities = reg.facilities
        sources[str(args.facilities)] = hash_file(args.facilities)
        problems.append(reg.problems.assign(file=str(args.facilities)))
        files["facilities"] = {"path": str(args.facilities), "encoding": reg.encoding,
                               "coords": reg.coords, "rows_used": len(facilities),
                               "rows_with_problems": len(reg.problems)}
    if args.units:
        read = read_units(args.units, coords=args.units_coords,
                          zone_settlement=profile.zone_settlement,
                          villages_follow_zones=profile.villages_follow_zones,
                          profile_name=profile.name)
        units, hierarchy = read.units, read.hierarchy
        sources[str(args.units)] = hash_file(args.units)
        problems.append(read.problems.assign(file=str(args.units)))
        files["units"] = {"path": str(args.units), "encoding": read.encoding,
                          "coords": args.units_coords, "rows_used": len(units),
                          "rows_with_problems": len(read.problems)}
    label = args.place or (args.osm.name if args.osm else "study area")
    population = read_population_args(args, extract.study_area, sources)
    dem = load_dem(getattr(args, "dem", None) or profile.walk.dem, extract.study_area)[0]
    if dem is not None:
        sources[dem.path] = dem.sha256
    inputs = PlanInputs(extract.network, facilities, units, extract.residential,
                        extract.study_area, label=label, sources=sources, population=population,
                        dem=dem)
    frame = pd.concat(problems, ignore_index=True) if problems else pd.DataFrame(
        columns=["file", "row", "problem", "value"])
    residential = None
    if getattr(args, "residential", None):
        from planner.io.residential import read_residential_areas

        residential = read_residential_areas(args.residential)
        sources[str(args.residential)] = hash_file(args.residential)
    return _Loaded(inputs, hierarchy, frame, files, residential)


def _warn_unknown_zones(result: PlanResult, problems: pd.DataFrame, profile: RuleProfile) -> None:
    """One warning naming the zone names the profile does not know (the units were kept)."""
    if "problem" not in problems.columns:
        return
    hit = problems.loc[problems["problem"].astype(str).str.contains("unknown to profile")]
    if len(hit):
        names = ", ".join(sorted(set(hit["value"].astype(str))))
        result.warnings.add("unknown_zone", len(hit), (
            f"{len(hit)} unit(s) have zone/settlement names unknown to profile {profile.name} "
            f"({names}); their level decided the class (see input_problems.csv)"))


def run_analyze(args: argparse.Namespace) -> int:
    """`careplan analyze`: a real study area from an OSM file or a place name."""
    started = time.perf_counter()
    profile = load_profile(args)
    params = build_params(args, profile)
    for flag, path in (("--facilities", args.facilities), ("--units", args.units),
                       ("--residential", getattr(args, "residential", None)),
                       ("--older-adults", args.older_adults)):
        if path is not None and not path.is_file():
            msg = f"{flag} {path} not found; give an existing file"
            raise InputDataError(msg)
    check_population_args(args)
    cache_dir = None if args.no_cache else args.cache_dir
    osm = args.osm or download_place(args.place, read_catalogue(), args.cache_dir)
    bar = StepBar()
    bar("load")
    extract, network, digest = load_network(osm, params, _parse_bbox(args.bbox), cache_dir, bar)
    # the care map's light base is read from the OSM file again by a forked child meanwhile
    areas = Started(_background, osm, {"study_area": extract.study_area})
    bar("inputs")
    try:
        loaded = _read_inputs(args, extract, digest, profile)
        result = run_plan(loaded.inputs, params, network=network,
                          catchment_params=CatchmentParams(workers=2), progress=bar)
        _warn_unknown_zones(result, loaded.problems, profile)
        bar("background")  # what is left of it once the analysis is done
        background = areas.result()
    finally:
        areas.cancel()
    bar("write")
    files_s: dict[str, float] = {}
    _write(result, args.out, args, profile, started, loaded, background, seconds=files_s)
    for what, info in loaded.files.items():
        sys.stdout.write(f"  {what}: {info['path']} ({info['encoding'] or 'binary'}, "
                         f"{info['coords']}): {info['rows_used']} rows used, "
                         f"{info['rows_with_problems']} rows with problems (input_problems.csv)\n")
    bar.close()
    _report(result, args.out, bar.seconds(), files_s)
    return 0


def _background(state: Mapping[str, Any], osm: Path) -> gpd.GeoDataFrame:
    """Water, green and built-up areas of the OSM file (run in a forked child)."""
    return read_background_areas(osm, state["study_area"])


def run_serve(args: argparse.Namespace) -> int:
    """`careplan serve`: the REST service."""
    from api.cli.serve import serve

    serve(args.host, args.port, insecure_open=args.insecure_open)
    return 0
