"""`careplan site` and `careplan whatif`: reuse a run folder, propose sites or apply scenarios.

A run folder holds tables, not the network, so both commands rebuild the analysis from the inputs
recorded in the run's ``summary.json``: demo runs from ``sources["synthetic"]``
(``planner.synthetic.district seed=S target_nodes=N``); analyze runs from ``analyze_args`` (OSM file,
--bbox, facilities and --coords, units and --units-coords, --rules), refusing when a recorded
input file changed (sha256 differs from ``sources``). Older runs without ``analyze_args`` fall
back to the ``sources`` keys (OSM, facilities, units; WGS-84, no bbox). Parameters come from the
recorded rule profile (incl. zone_settlement), walking speed, steps factor, snap distance and
target share. Generated candidates prefer nodes on residential streets. What was used is written to
``run_inputs.json`` in the output folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import re
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.errors import DataQualityWarning, InputDataError
from planner.io.scenarios import (
    prepare_out_dir,
    read_json,
    read_scenario,
    write_geojson,
    write_json,
    write_table,
)
from planner.params import PlanParams, SnapParams
from planner.pipeline import PlanResult, run_plan
from planner.schema import PlanInputs, PopulationInput

if TYPE_CHECKING:
    from planner.compliance.rules import RuleProfile
    from planner.whatif import FacilityChange, Scenario


def _rules(summary: dict[str, Any]) -> str:
    """The rule profile (name or file) the run used: ``analyze_args.rules``, else its name."""
    args = summary.get("analyze_args") or {}
    origin = str(summary.get("rules_origin") or "")
    if not args.get("rules") and origin and Path(origin).is_file():
        return origin
    return str(args.get("rules") or summary.get("rules_profile") or summary.get("profile")
               or "national")


def _params(summary: dict[str, Any], profile: RuleProfile) -> PlanParams:
    params = profile.plan_params()
    walk = dataclasses.replace(params.walk, speed_m_s=float(summary["walk_speed_m_s"]),
                               steps_factor=float(summary["steps_factor"]),
                               name=str(summary.get("walk_preset", params.walk.name)))
    coverage = dataclasses.replace(params.coverage, target_share=float(summary["target_share"]))
    return dataclasses.replace(params, walk=walk, coverage=coverage,
                               snap=SnapParams(max_snap_m=float(summary["max_snap_m"])))


def _demo_inputs(text: str) -> tuple[PlanInputs, dict[str, Any]]:
    from planner.synthetic.district import build_demo_district

    m = re.search(r"seed=(\d+)\s+target_nodes=(\d+)", text)
    if not m:
        raise InputDataError(f"cannot read demo sources {text!r}; rerun careplan demo")
    seed, nodes = int(m.group(1)), int(m.group(2))
    return build_demo_district(seed=seed, target_nodes=nodes), {"demo": {"seed": seed,
                                                                         "nodes": nodes}}


def check_sources(sources: dict[str, str]) -> None:
    """Refuse when a recorded input file is missing or its sha256 differs from the run's."""
    from planner.io.folder import hash_file

    for key, digest in sources.items():
        path = Path(key)
        if not path.is_file():
            raise InputDataError(f"recorded input {key} not found; restore it or rerun "
                                 "careplan analyze")
        if digest and hash_file(path) != digest:
            raise InputDataError(f"recorded input {key} changed since the run (sha256 differs "
                                 "from summary.json); rerun careplan analyze")


def _analyze_inputs(args: argparse.Namespace, summary: dict[str, Any], params: PlanParams,
                    profile: RuleProfile) -> tuple[PlanInputs, dict[str, Any], Any]:
    from api.cli.rasters import load_dem
    from api.cli.run import _parse_bbox, load_network
    from planner.io.catalogue import read_catalogue
    from planner.io.registers import read_facility_register
    from planner.io.units import read_units

    sources = dict(summary.get("sources", {}))
    recorded = summary.get("analyze_args")
    keys = list(sources)
    if recorded is not None:
        if recorded.get("place") and not recorded.get("osm"):
            raise InputDataError(f"run {args.run} used --place {recorded['place']!r}; rerun "
                                 "careplan analyze with --osm FILE to site or compare on it")
        opt = {k: (Path(recorded[k]) if recorded.get(k) else None)
               for k in ("osm", "facilities", "units")}
        osm, fac, units = opt["osm"], opt["facilities"], opt["units"]
        bbox, coords = recorded.get("bbox"), recorded.get("coords") or "wgs84"
        units_coords = recorded.get("units_coords") or "wgs84"
    else:  # runs written before analyze_args were recorded: WGS-84, no bbox
        osm = Path(keys[0])
        fac = args.facilities or (Path(keys[1]) if len(keys) == 3 else None)
        units = args.units or (Path(keys[2]) if len(keys) == 3 else None)
        if len(keys) == 2 and not (args.facilities or args.units):
            raise InputDataError(f"run used {keys[1]} as facilities or units; pass --facilities "
                                 "or --units")
        bbox, coords, units_coords = None, "wgs84", "wgs84"
    check_sources(sources)
    assert osm is not None
    extract, network, _ = load_network(osm, params, _parse_bbox(bbox), None)
    facilities = extract.pois.drop(columns=["osm_tags"], errors="ignore")
    if fac is not None:
        facilities = read_facility_register(fac, catalogue=read_catalogue(), coords=coords,
                                            study_area=extract.study_area).facilities
    unit_frame = (read_units(units, coords=units_coords,
                             zone_settlement=profile.zone_settlement).units
                  if units is not None else None)
    inputs = PlanInputs(extract.network, facilities, unit_frame, extract.residential,
                        extract.study_area, label=osm.name, sources=sources,
                        population=_population(recorded or {}, extract.study_area),
                        dem=load_dem(str((recorded or {}).get("dem") or ""),
                                     extract.study_area)[0])
    used = {"osm": str(osm), "facilities": str(fac) if fac else None,
            "units": str(units) if units else None, "bbox": bbox, "coords": coords,
            "units_coords": units_coords}
    return inputs, used, network


def _population(recorded: dict[str, Any], area: Any) -> PopulationInput | None:
    """The run's --population rasters again (issue 19), or None."""
    from planner.io.population import read_population

    paths = [Path(p) for p in recorded.get("population") or []]
    if not paths:
        return None
    bands = tuple(int(b) for b in recorded.get("population_band") or [1])
    share = recorded.get("older_share")
    return PopulationInput(tuple(read_population(paths, bands, area)),
                           None if share is None else float(share),
                           int(recorded.get("population_grid_m") or 250), {}, bands)


def rebuild_inputs(args: argparse.Namespace) -> tuple[PlanResult, PlanInputs, dict[str, Any]]:
    """Re-run the analysis in ``args.run``/summary.json; return it, its inputs and what was used."""
    from planner.io.rules import read_profile

    summary = read_json(Path(args.run) / "summary.json")
    rules = _rules(summary)
    profile = read_profile(rules)
    params = _params(summary, profile)
    sources = dict(summary.get("sources", {}))
    network = None
    if "synthetic" in sources:
        inputs, used = _demo_inputs(sources["synthetic"])
    elif sources:
        inputs, used, network = _analyze_inputs(args, summary, params, profile)
    else:
        raise InputDataError(f"{args.run}/summary.json records no sources; rerun careplan analyze")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        result = run_plan(inputs, params, network=network, max_catchment_facilities=0)
    return result, inputs, {"run": str(args.run), "inputs": used, "rules": rules,
                            "profile": params.profile_name}


def rebuild_result(args: argparse.Namespace) -> tuple[PlanResult, dict[str, Any]]:
    """Re-run the analysis recorded in ``args.run``/summary.json; return it and the inputs used."""
    result, _, used = rebuild_inputs(args)
    return result, used


def street_candidates(result: PlanResult, inputs: PlanInputs,
                      facility_type: str) -> Any:
    """Generated candidates in the gap units of the type, preferring residential-street nodes."""
    from planner.siting.candidates import generate_candidates, street_node_mask
    from planner.siting.propose import candidate_unit_ids

    gaps = candidate_unit_ids(result, facility_type)
    raw = inputs.network
    pref = street_node_mask(result.network.x_m.size, raw.edge_u, raw.edge_v, raw.edge_highway)
    cands = generate_candidates(result.network, result.units, unit_ids=list(gaps),
                                preferred=pref)
    return cands


def _check_type(result: PlanResult, facility_type: str) -> None:
    known = sorted(set(result.coverage["facility_type"].astype(str)))
    if facility_type not in known:
        raise InputDataError(f"--type {facility_type!r} is not a facility type of this run; "
                             f"use one of {', '.join(known)}")


def _write_map(result: PlanResult, sites: Any, target: Path, basemap: str = "offline") -> bool:
    try:
        from maps.assets import save_page
        from maps.compose import build_care_map
    except ImportError:
        return False
    frame = sites.rename(columns={"candidate_id": "site_id", "gain_pop": "covered_gain"})
    save_page(build_care_map(result, sites=frame, basemap=basemap), target)  # type: ignore[arg-type]
    return True


@contextmanager
def solver_log(path: Path) -> Iterator[None]:
    """Write the HiGHS log (``planner.siting.solver`` logger) to ``path`` while the block runs."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("planner.siting.solver")
    previous = log.level, log.propagate
    log.setLevel(logging.INFO)
    log.propagate = False  # the file only, not the console
    log.addHandler(handler)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(previous[0])
        log.propagate = previous[1]
        handler.close()


def run_site(args: argparse.Namespace) -> int:
    """`careplan site`: propose new sites of one type (MCLP with --k, set cover with --cover)."""
    from planner.io.candidates import read_candidates
    from planner.params import check_siting
    from planner.siting.propose import propose_sites

    if not args.cover and args.k is None:
        raise InputDataError("give --k N (maximal coverage) or --cover (set cover); e.g. --k 5")
    check_siting(None if args.cover else args.k, args.time_limit_s)
    given = read_candidates(Path(args.candidates)) if args.candidates else None
    if given is not None:
        check_siting(None, args.time_limit_s, len(given))
    out = prepare_out_dir(Path(args.out))
    result, inputs, used = rebuild_inputs(args)
    _check_type(result, args.type)
    cands = given if given is not None else street_candidates(result, inputs, args.type)
    with solver_log(out / "solver.log"):
        p = propose_sites(result, facility_type=args.type, k=args.k, cover=args.cover,
                          candidates=cands, method=args.method, time_limit_s=args.time_limit_s)
    cost = p.candidates.set_index("candidate_id")["cost"]
    p.sites["cost"] = p.sites["candidate_id"].map(cost).to_numpy(dtype=float)
    table = p.sites.drop(columns="geometry").astype(object)
    sites = table.where(table.notna(), None).to_dict(orient="records")
    write_json({"facility_type": p.facility_type, "model": p.model, "method": p.method,
                "status": p.status, "optimality_gap": p.gap, "covered_gain": p.covered_gain_pop,
                "objective": p.siting.objective, "bound": p.siting.bound,
                "candidates": len(p.candidates), "sites": sites}, out / "siting.json")
    write_geojson(p.sites, out / "sites.geojson")
    write_table(p.per_unit, out / "before_after.csv")
    write_table(p.per_street, out / "before_after_streets.csv")
    write_json(used, out / "run_inputs.json")
    has_map = _write_map(result, p.sites, out / "siting_map.html", args.basemap)
    sys.stdout.write(f"careplan site: {p.model} ({p.method}, {p.status}, gap {p.gap:.2%}): "
                     f"{len(p.sites)} sites, +{p.covered_gain_pop:.0f} older adults"
                     f"{'' if has_map else ' (no map: maps package missing)'}; outputs: {out}\n")
    return 0


def _cli_scenario(args: argparse.Namespace) -> Scenario:
    from planner.whatif import Scenario

    adds: tuple[FacilityChange, ...] = ()
    moves: tuple[FacilityChange, ...] = ()
    name = "cli"
    if args.add:
        sc = read_scenario(Path(args.add))
        adds, moves, name = sc.add, sc.move, sc.name
        removes = (*sc.remove, *(args.remove or ()))
    else:
        removes = tuple(args.remove or ())
    return Scenario(name, adds, moves, tuple(removes))


def run_whatif(args: argparse.Namespace) -> int:
    """`careplan whatif`: apply --add FILE / --remove ID / --scenario FILE... and compare."""
    from planner.whatif import apply_scenario, compare_scenarios, state_from_result

    out = prepare_out_dir(Path(args.out))
    result, used = rebuild_result(args)
    state = state_from_result(result)
    scenarios = [read_scenario(Path(f)) for f in args.scenario or ()]
    if args.add or args.remove:
        scenarios.insert(0, _cli_scenario(args))
    if not scenarios:
        raise InputDataError("nothing to change; give --add FILE, --remove ID or --scenario FILE")
    results = [apply_scenario(state, sc) for sc in scenarios]
    for r in results:
        write_table(r.change, out / f"change_{re.sub(r'[^0-9A-Za-z_.-]+', '_', r.name)}.csv")
    write_table(compare_scenarios(results, state), out / "compare.csv")
    write_json({"scenarios": [{"name": r.name, "searched_nodes": r.searched_nodes,
                               "delta_pop": float(r.change["delta_pop"].sum())} for r in results],
                **used}, out / "whatif.json")
    for r in results:
        sys.stdout.write(f"careplan whatif: {r.name}: {r.change['delta_pop'].sum():+.0f} "
                         f"older adults covered\n")
    return 0


def _rebuild_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run", type=Path, required=True, help="a careplan demo/analyze output folder")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--facilities", type=Path, help="facility register of an analyze run")
    p.add_argument("--units", type=Path, help="units file of an analyze run")


def add_siting_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `careplan site` and `careplan whatif`."""
    site = sub.add_parser("site", help="propose new facility sites (MCLP or set cover)")
    _rebuild_args(site)
    site.add_argument("--type", required=True, help="facility type, e.g. day_care, meal_point")
    site.add_argument("--k", type=int, help="number of new sites (maximal coverage)")
    site.add_argument("--cover", action="store_true", help="fewest sites to bring units to target")
    site.add_argument("--candidates", type=Path, help="candidate sites (CSV lon/lat, GeoJSON, GPKG)")
    site.add_argument("--method", choices=("auto", "exact", "greedy"), default="auto")
    site.add_argument("--basemap", choices=("offline", "osm", "tianditu", "amap"),
                      default="offline", help="siting-map tiles (default offline: none)")
    site.add_argument("--time-limit-s", type=float, default=60.0, help="solver time limit (s)")
    site.set_defaults(handler=run_site)
    wi = sub.add_parser("whatif", help="add/move/remove facilities and see the coverage change")
    _rebuild_args(wi)
    wi.add_argument("--add", type=Path, help="scenario file (TOML/JSON) with add/move entries")
    wi.add_argument("--remove", nargs="+", metavar="ID", help="facility ids to remove")
    wi.add_argument("--scenario", nargs="+", type=Path, help="named scenario files to compare")
    wi.set_defaults(handler=run_whatif)
