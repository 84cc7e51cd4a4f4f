"""Time one incremental what-if add and remove against a full recomputation of the same type.

Full recomputation = the type's multi-source search + demand-point times + unit coverage (the
steps ``run_plan`` runs per type), measured in the same process: ``full`` is the faster of two
ways, the leanest (type-independent demand coding and point legs made once, as ``run_plan``
makes them; numpy coverage columns, no frames) and ``full_frame``, the recomputation as first
benchmarked (pandas, demand coded again per call). Each is timed in a run of its own
repetitions (best of). The incremental run's split per step (``steps_ms``: table, snap,
bookkeeping, search, point_times, unit_coverage) is that of its fastest repetition.

Usage: python bench/bench_whatif.py [--skip-1m] [--osm PATH] [--reps N]
Ends with one JSON line: chengdu_/synth1m_ add_s, add_full_s, add_full_frame_s, add_ratio,
add_ratio_frame, add_steps_ms and the same for remove (best of --reps at Chengdu, 3 at 1M),
state_s (building the what-if state from the analysis, once), add_first_s / remove_first_s
(the first call on the state: an add builds the segment grid that snaps it), load_at_end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner.coverage.measure import compute_unit_coverage, coverage_columns
from planner.coverage.patch import UNIT_COLUMNS
from planner.coverage.tables import DemandIndex, index_demand
from planner.errors import DataQualityWarning
from planner.network.snap import SnapResult
from planner.params import PlanParams
from planner.pipeline import PlanResult, run_plan
from planner.routing.travel import PointLegs, compute_nearest_times, compute_point_times, point_legs
from planner.schema import FACILITY_TYPE, WGS84, PlanInputs
from planner.whatif import FacilityChange, Scenario, WhatIfState, apply_scenario, state_from_result
from planner.whatif.clock import StepClock

OSM = ROOT.parent / "shared" / "data" / "osm" / "chengdu_center_2018.osm"


def _full_frame(result: PlanResult, ftype: str) -> float:
    """The type's recomputation as first benchmarked: pandas type mask, search, point times
    and ``compute_unit_coverage`` (which codes the demand against the units again)."""
    start = time.perf_counter()
    mask = (result.facilities[FACILITY_TYPE] == ftype).to_numpy()
    s = result.facility_snap
    sub = SnapResult(s.edge[mask], s.frac[mask], s.access_m[mask], s.status[mask])
    near = compute_nearest_times(result.network, near_src := sub)
    t_s, _ = compute_point_times(result.network, near, result.demand_snap, near_src)
    d = result.demand.drop(columns="geometry").assign(time_s=t_s, facility_id=None)
    compute_unit_coverage(d, result.units, ftype, result.params.coverage)
    return time.perf_counter() - start


@dataclass(frozen=True)
class FullPrep:
    """What a full recomputation of one type reuses across types (made once per analysis, as
    ``run_plan`` makes it): facility types and ids as arrays, the demand points' legs and
    their coding against the units."""

    types: np.ndarray
    ids: np.ndarray
    legs: PointLegs
    index: DemandIndex
    units: dict[str, np.ndarray]


def _prep(result: PlanResult) -> FullPrep:
    fac = result.facilities
    return FullPrep(fac[FACILITY_TYPE].to_numpy(dtype=object),
                    fac["facility_id"].astype(str).to_numpy(dtype=object),
                    point_legs(result.network, result.demand_snap),
                    index_demand(result.demand, result.units),
                    {c: result.units[c].to_numpy() for c in UNIT_COLUMNS})


def _full_best(result: PlanResult, prep: FullPrep, ftype: str) -> float:
    """The fastest full recomputation of one type: multi-source search, point times (shared
    legs) and the numpy coverage columns (shared coding), no frames; seconds."""
    start = time.perf_counter()
    pos = np.flatnonzero(prep.types == ftype)
    sub = result.facility_snap.take(pos)
    near = compute_nearest_times(result.network, sub)
    t_s, src = compute_point_times(result.network, near, result.demand_snap, sub, prep.legs)
    ids, rank = np.unique(prep.ids[pos], return_inverse=True)
    code = np.where(src >= 0, np.append(rank.ravel(), -1)[src], -1)
    coverage_columns(prep.index, prep.units, ftype, result.params.coverage, t_s, code, ids)
    return time.perf_counter() - start


def _time_case(state: WhatIfState, result: PlanResult, prep: FullPrep, sc: Scenario,
               ftype: str, reps: int) -> dict[str, Any]:
    """Best-of-``reps`` incremental (with its per-step split) and full times, each measured in
    a run of its own (so neither evicts the other's data from the caches between calls)."""
    inc, steps, searched, first = np.inf, {}, 0, np.nan
    for rep in range(reps):
        clock = StepClock()
        clock.start()
        start = time.perf_counter()
        r = apply_scenario(state, sc, clock)
        took = time.perf_counter() - start
        first = took if rep == 0 else first
        if took < inc:
            inc, steps, searched = took, dict(clock.ns), r.searched_nodes
    best_full = min(_full_best(result, prep, ftype) for _ in range(reps))
    frame = min(_full_frame(result, ftype) for _ in range(reps))
    return {"s": inc, "full_s": min(best_full, frame), "full_frame_s": frame, "first_s": first,
            "searched": searched,
            "steps_ms": {k: round(v / 1e6, 4) for k, v in steps.items()}}


def _bench(label: str, result: PlanResult, rng: np.random.Generator,
           reps: int) -> dict[str, Any]:
    start = time.perf_counter()
    state = state_from_result(result)
    state_s = time.perf_counter() - start
    print(f"{label}: what-if state from the analysis {state_s * 1e3:.1f} ms (once per analysis)")
    prep = _prep(result)
    ftype = "day_care"
    fac = result.facilities[result.facilities[FACILITY_TYPE] == ftype]
    net = result.network
    node = int(rng.integers(net.n_nodes))
    pt = gpd.GeoSeries(gpd.points_from_xy([net.x_m[node]], [net.y_m[node]]), crs=net.crs)
    lon, lat = pt.to_crs(WGS84).iloc[0].coords[0]
    cases = {"add": Scenario("add", add=(FacilityChange("bench_new", lon, lat, ftype),)),
             "remove": Scenario("rm", remove=(str(fac["facility_id"].iat[0]),))}
    out: dict[str, Any] = {"state_s": state_s}
    for name, sc in cases.items():
        got = _time_case(state, result, prep, sc, ftype, reps)
        inc, full, frame = got["s"], got["full_s"], got["full_frame_s"]
        print(f"{label}: {name}: incremental {inc * 1e3:.3f} ms ({got['searched']} nodes "
              f"searched) | full {full * 1e3:.3f} ms ({full / inc:.1f}x) | full as first "
              f"benchmarked {frame * 1e3:.3f} ms ({frame / inc:.1f}x) | best of {reps}, load "
              f"{os.getloadavg()[0]:.2f}")
        print(f"  steps (ms): {got['steps_ms']}")
        print(f"  first call {got['first_s'] * 1e3:.3f} ms (builds the segment grid on an add)")
        out.update({f"{name}_s": inc, f"{name}_full_s": full, f"{name}_full_frame_s": frame,
                    f"{name}_first_s": got["first_s"],
                    f"{name}_ratio": full / inc, f"{name}_ratio_frame": frame / inc,
                    f"{name}_steps_ms": got["steps_ms"]})
    return out


def _grid_units(net: object, n: int = 6) -> gpd.GeoDataFrame:
    """n x n square units over the network (1000 older adults each); the extract's residential
    polygons are not used (some are invalid once projected and break demand.py)."""
    import shapely

    xs = np.linspace(net.x_m.min(), net.x_m.max(), n + 1)  # type: ignore[attr-defined]
    ys = np.linspace(net.y_m.min(), net.y_m.max(), n + 1)  # type: ignore[attr-defined]
    boxes = [shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for i in range(n) for j in range(n)]
    frame = gpd.GeoDataFrame({"unit_id": [f"u{i}" for i in range(n * n)],
                              "name": [f"u{i}" for i in range(n * n)], "older_pop": 1000.0,
                              "settlement": "urban"}, geometry=boxes, crs=net.crs)  # type: ignore[attr-defined]
    return frame.to_crs(WGS84)


def _chengdu(rng: np.random.Generator, osm: Path) -> PlanResult:
    from planner.io.catalogue import read_catalogue
    from planner.io.osm import read_osm_file
    from planner.network.graph import build_walk_network

    params = PlanParams()
    ext = read_osm_file(osm, read_catalogue())
    net = build_walk_network(ext.network, params.walk)
    main = np.flatnonzero(net.node_component == net.main_component)
    pick = rng.choice(main, 200, replace=False)
    pts = gpd.GeoSeries(gpd.points_from_xy(net.x_m[pick], net.y_m[pick]), crs=net.crs)
    fac = gpd.GeoDataFrame({"facility_id": [f"b{i}" for i in range(200)],
                            "name": [f"b{i}" for i in range(200)],
                            "type": ["day_care", "meal_point"] * 100, "capacity": np.nan},
                           geometry=pts.to_crs(WGS84).to_numpy(), crs=WGS84)
    inputs = PlanInputs(ext.network, fac, _grid_units(net), None, ext.study_area, "chengdu")
    return run_plan(inputs, params, network=net, max_catchment_facilities=0)


def main() -> None:
    """Run the benchmark and print timings, then one JSON line."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-1m", action="store_true")
    ap.add_argument("--osm", type=Path, default=OSM, help="the Chengdu OSM extract")
    ap.add_argument("--reps", type=int, default=200,
                    help="repetitions at Chengdu (best of; the 1M district takes best of 3)")
    args = ap.parse_args()
    warnings.simplefilter("ignore", DataQualityWarning)
    rng = np.random.default_rng(1)
    start = time.perf_counter()
    res = _chengdu(rng, args.osm)
    print(f"chengdu: {res.network.n_nodes} nodes, setup {time.perf_counter() - start:.1f} s")
    figures = {f"chengdu_{k}": v for k, v in _bench("chengdu", res, rng, args.reps).items()}
    if not args.skip_1m:
        from planner.synthetic.district import build_demo_district

        start = time.perf_counter()
        res = run_plan(build_demo_district(target_nodes=1_000_000, n_facilities=3000),
                       PlanParams(), max_catchment_facilities=0, build_dissolved=False)
        print(f"synthetic: {res.network.n_nodes} nodes, setup {time.perf_counter() - start:.1f} s")
        figures.update({f"synth1m_{k}": v
                        for k, v in _bench("synthetic 1M", res, rng, 3).items()})
    figures["load_at_end"] = os.getloadavg()[0]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
