"""Time one incremental what-if add and remove against a full recomputation of the same type.

Full recomputation = the type's multi-source search + demand-point times + unit coverage (the
steps ``run_plan`` runs per type), measured in the same process.

Usage: python bench/bench_whatif.py [--skip-1m] [--osm PATH]
Ends with one JSON line: chengdu_/synth1m_ add_s, add_full_s, remove_s, remove_full_s (best of 3).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner.coverage.measure import compute_unit_coverage
from planner.errors import DataQualityWarning
from planner.network.snap import SnapResult
from planner.params import PlanParams
from planner.pipeline import PlanResult, run_plan
from planner.routing.travel import compute_nearest_times, compute_point_times
from planner.schema import FACILITY_TYPE, WGS84, PlanInputs
from planner.whatif import FacilityChange, Scenario, apply_scenario, state_from_result

OSM = ROOT.parent / "shared" / "data" / "osm" / "chengdu_center_2018.osm"


def _full_type(result: PlanResult, ftype: str) -> float:
    start = time.perf_counter()
    mask = (result.facilities[FACILITY_TYPE] == ftype).to_numpy()
    s = result.facility_snap
    sub = SnapResult(s.edge[mask], s.frac[mask], s.access_m[mask], s.status[mask])
    near = compute_nearest_times(result.network, near_src := sub)
    t_s, _ = compute_point_times(result.network, near, result.demand_snap, near_src)
    d = result.demand.drop(columns="geometry").assign(time_s=t_s, facility_id=None)
    compute_unit_coverage(d, result.units, ftype, result.params.coverage)
    return time.perf_counter() - start


def _bench(label: str, result: PlanResult, rng: np.random.Generator) -> dict[str, float]:
    state = state_from_result(result)
    ftype = "day_care"
    fac = result.facilities[result.facilities[FACILITY_TYPE] == ftype]
    net = result.network
    node = int(rng.integers(net.n_nodes))
    pt = gpd.GeoSeries(gpd.points_from_xy([net.x_m[node]], [net.y_m[node]]), crs=net.crs)
    lon, lat = pt.to_crs(WGS84).iloc[0].coords[0]
    cases = {"add": Scenario("add", add=(FacilityChange("bench_new", lon, lat, ftype),)),
             "remove": Scenario("rm", remove=(str(fac["facility_id"].iat[0]),))}
    out: dict[str, float] = {}
    for name, sc in cases.items():
        times, fulls = [], []
        for _ in range(3):
            start = time.perf_counter()
            r = apply_scenario(state, sc)
            times.append(time.perf_counter() - start)
            fulls.append(_full_type(result, ftype))
        inc, full = min(times), min(fulls)
        print(f"{label}: {name}: {inc:.3f} s incremental ({r.searched_nodes} nodes searched), "
              f"full {full:.3f} s, full / incremental {full / inc:.1f}x, load "
              f"{os.getloadavg()[0]:.2f}")
        out[f"{name}_s"], out[f"{name}_full_s"] = inc, full
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
    args = ap.parse_args()
    warnings.simplefilter("ignore", DataQualityWarning)
    rng = np.random.default_rng(1)
    start = time.perf_counter()
    res = _chengdu(rng, args.osm)
    print(f"chengdu: {res.network.n_nodes} nodes, setup {time.perf_counter() - start:.1f} s")
    figures = {f"chengdu_{k}": v for k, v in _bench("chengdu", res, rng).items()}
    if not args.skip_1m:
        from planner.synthetic.district import build_demo_district

        start = time.perf_counter()
        res = run_plan(build_demo_district(target_nodes=1_000_000, n_facilities=3000),
                       PlanParams(), max_catchment_facilities=0, build_dissolved=False)
        print(f"synthetic: {res.network.n_nodes} nodes, setup {time.perf_counter() - start:.1f} s")
        figures.update({f"synth1m_{k}": v for k, v in _bench("synthetic 1M", res, rng).items()})
    figures["load_at_end"] = os.getloadavg()[0]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
