"""Benchmark of slope-aware walking (issue 17). Not a test: prints timings and one JSON line.

On the synthetic district of about 1M nodes with 3,000 facilities, measures today's analysis
(run_plan from a prepared network: snapping, demand, nearest times, coverage, gaps; no polygons,
as bench_core's ``analysis_from_cache_s``) against the same analysis with the synthetic hill DEM
(elevation sampling every ~20 m, directed reversed-arc searches, and the flat-ground comparison
columns). Target: with DEM <= 1.5 x today. Best of ``--repeat`` runs each, same process.

Usage: python bench/bench_terrain.py [--nodes 1000000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from planner.network.graph import build_walk_network
    from planner.network.terrain import apply_terrain
    from planner.params import PlanParams
    from planner.pipeline import run_plan
    from planner.schema import DemInput
    from planner.synthetic.district import build_demo_district
    from planner.synthetic.terrain import synthetic_hill_dem

    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    params = PlanParams()
    inputs = build_demo_district(seed=3, target_nodes=a.nodes, n_facilities=3000)
    network = build_walk_network(inputs.network, params.walk)
    assert inputs.study_area is not None
    dem = DemInput(synthetic_hill_dem(inputs.study_area), "synthetic_hill", "")
    kw = {"network": network, "max_catchment_facilities": 0, "build_dissolved": False,
          "compute_access": False}
    best = {"today_s": float("inf"), "with_dem_s": float("inf"), "sampling_s": float("inf")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            run_plan(inputs, params, **kw)  # type: ignore[arg-type]
            t1 = time.perf_counter()
            with_dem = dataclasses.replace(inputs, dem=dem)
            hill = run_plan(with_dem, params, **kw)  # type: ignore[arg-type]
            t2 = time.perf_counter()
            apply_terrain(network, dem.window, params.walk)
            t3 = time.perf_counter()
            for key, value in (("today_s", t1 - t0), ("with_dem_s", t2 - t1),
                               ("sampling_s", t3 - t2)):
                best[key] = min(best[key], value)
    res = {"nodes": network.n_nodes, "segments": network.n_edges,
           "facilities": len(inputs.facilities), "elevation_samples": hill.summary["terrain"]
           ["samples"], "mean_abs_grade": hill.summary["terrain"]["mean_abs_grade"],
           **{k: round(v, 3) for k, v in best.items()},
           "ratio_with_dem_over_today": round(best["with_dem_s"] / best["today_s"], 3),
           "target_ratio": 1.5, "met": best["with_dem_s"] / best["today_s"] <= 1.5,
           "load_avg_1m": os.getloadavg()[0], "repeat": a.repeat}
    for key, value in res.items():
        sys.stdout.write(f"  {key:28s} {value}\n")
    sys.stdout.write(json.dumps(res) + "\n")


if __name__ == "__main__":
    main()
