"""Benchmark of population-grid demand (issue 19). Not a test: prints timings and one JSON line.

A 1,000 x 1,000-cell population raster (GeoTIFF, EPSG:4326, every cell populated) over the
synthetic district of about 1M nodes: reading the raster, generating one demand point per cell and
snapping them to the network; target under 10 s. The peer measured in the same run is today's
demand path: points spread over the units' residential land (build_demand_points) and snapped.

Usage: python bench/bench_population.py [--nodes 1000000] [--cells 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from planner.coverage.demand import build_demand_points
    from planner.coverage.population import population_cells
    from planner.coverage.population_demand import build_population_demand
    from planner.io.population import read_population, write_population_raster
    from planner.network.graph import build_walk_network
    from planner.network.snap import EdgeIndex
    from planner.params import PlanParams
    from planner.synthetic.district import build_demo_district

    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=1_000_000)
    ap.add_argument("--cells", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    params = PlanParams()
    inputs = build_demo_district(seed=3, target_nodes=a.nodes, n_facilities=3000)
    network = build_walk_network(inputs.network, params.walk)
    assert inputs.study_area is not None
    w, s, e, n = inputs.study_area.bounds
    cell = max(e - w, n - s) / a.cells
    counts = np.random.default_rng(1).uniform(0.0, 5.0, (a.cells, a.cells))
    index = EdgeIndex(network)
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pop.tif"
        write_population_raster(path, counts, (cell, 0.0, w, 0.0, -cell, n), "EPSG:4326")
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            grids = read_population([path], (1,), inputs.study_area)
            t1 = time.perf_counter()
            cells = population_cells(grids, inputs.study_area, network.crs)
            built = build_population_demand(cells, None, None, params.demand, network.crs)
            t2 = time.perf_counter()
            pts = built.demand.points
            snap = index.snap(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy(), 300.0)
            t3 = time.perf_counter()
            peer = build_demand_points(inputs.units, inputs.residential, params.demand,
                                       network.crs).points
            index.snap(peer.geometry.x.to_numpy(), peer.geometry.y.to_numpy(), 300.0)
            t4 = time.perf_counter()
            for key, value in (("read_s", t1 - t0), ("points_s", t2 - t1), ("snap_s", t3 - t2),
                               ("total_s", t3 - t0), ("peer_units_demand_and_snap_s", t4 - t3)):
                best[key] = min(best.get(key, np.inf), value)
    res = {"nodes": network.n_nodes, "raster_cells": a.cells * a.cells,
           "demand_points": len(pts), "snapped_ok": int((snap.status == "ok").sum()),
           "peer_demand_points": len(peer), **{k: round(v, 3) for k, v in best.items()},
           "total_over_peer": round(best["total_s"] / best["peer_units_demand_and_snap_s"], 3),
           "target_total_s": 10.0, "met": best["total_s"] < 10.0,
           "load_avg_1m": os.getloadavg()[0], "repeat": a.repeat}
    for key, value in res.items():
        sys.stdout.write(f"  {key:32s} {value}\n")
    sys.stdout.write(json.dumps(res) + "\n")


if __name__ == "__main__":
    main()
