"""Benchmark of the finder's /nearby (issue 14). Not a test: prints timings and a JSON line.

Cases
  chengdu  the real central-Chengdu extract in the service, in-process (FastAPI TestClient):
           200 GET /nearby?minutes=30&route=true at random points near the streets; p50/p95
           against the target of 100 ms, and against the bare scipy floor (one bounded Dijkstra
           from the nearest node, nothing else) measured at the same points in the same run;
           also the handler's work alone (nearby_geojson, no HTTP).
  synth1m  the 1M-node synthetic district: 200 nearby_geojson calls (the handler's work without
           HTTP) with routes; p50/p95 against 300 ms and the same scipy floor.

Usage: python bench/bench_finder.py [--osm FILE] [--points 200] [--repeat 3] [chengdu synth1m]
The machine is shared: every figure is the best of ``--repeat`` runs per point, and the load
average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHENGDU = ROOT.parent / "shared" / "data" / "osm" / "chengdu_center_2018.osm.pbf"


def say(text: str) -> None:
    """One line to stdout."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def random_points(finder: Any, k: int, seed: int = 1) -> list[tuple[float, float]]:
    """Random WGS-84 points within 40 m of random main-part nodes."""
    net = finder.index.network
    rng = np.random.default_rng(seed)
    main = np.flatnonzero(net.node_component == net.main_component)
    nodes = rng.choice(main, size=k)
    x = net.x_m[nodes] + rng.uniform(-40, 40, k)
    y = net.y_m[nodes] + rng.uniform(-40, 40, k)
    lon, lat = finder.to_wgs.transform(x, y)
    return list(zip(lon.tolist(), lat.tolist(), strict=True))


def floor_ms(finder: Any, pts: list[tuple[float, float]], repeat: int) -> list[float]:
    """Bare scipy: one Dijkstra bounded at 30 min from the nearest node of each point."""
    from scipy.sparse.csgraph import dijkstra
    from scipy.spatial import cKDTree

    net = finder.index.network
    main = np.flatnonzero(net.node_component == net.main_component)
    tree = cKDTree(np.column_stack([net.x_m[main], net.y_m[main]]))
    out = []
    for lon, lat in pts:
        x, y = finder.to_net.transform(lon, lat)
        node = int(main[tree.query([x, y])[1]])
        best = np.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            dijkstra(net.graph, directed=True, indices=node, limit=1800.0)
            best = min(best, time.perf_counter() - t0)
        out.append(1000 * best)
    return out


def timed(call: Any, pts: list[tuple[float, float]], repeat: int) -> list[float]:
    out = []
    for lon, lat in pts:
        best = np.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            call(lon, lat)
            best = min(best, time.perf_counter() - t0)
        out.append(1000 * best)
    return out


def stats(name: str, ms: list[float], floor: list[float], target_ms: float) -> dict[str, Any]:
    p50, p95 = float(np.percentile(ms, 50)), float(np.percentile(ms, 95))
    f50, f95 = float(np.percentile(floor, 50)), float(np.percentile(floor, 95))
    say(f"{name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms (target < {target_ms:.0f} ms: "
          f"{'met' if p95 < target_ms else 'NOT met'}); scipy floor p50 {f50:.1f} ms, "
          f"p95 {f95:.1f} ms; ratio p50 {p50 / f50:.1f}x, p95 {p95 / f95:.1f}x")
    return {f"{name}_p50_ms": round(p50, 2), f"{name}_p95_ms": round(p95, 2),
            f"{name}_floor_p50_ms": round(f50, 2), f"{name}_floor_p95_ms": round(f95, 2),
            f"{name}_target_ms": target_ms, f"{name}_met": p95 < target_ms}


def case_chengdu(osm: Path, k: int, repeat: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from api.service.main import create_app
    from api.service.routers.finder import finder_of
    from api.service.settings import ApiSettings, get_settings
    from planner.finder.model import nearby_geojson

    with tempfile.TemporaryDirectory() as tmp:
        settings = ApiSettings(data_dir=Path(tmp), api_key=None)
        app = create_app()
        app.dependency_overrides[get_settings] = lambda: settings
        with TestClient(app) as client:
            with osm.open("rb") as handle:
                pid = client.post("/projects", files={"osm": (osm.name, handle)}).json()["id"]
            job = client.post("/processes/coverage/execution",
                              json={"inputs": {"project": pid}}).json()
            while (state := client.get(f"/jobs/{job['jobID']}").json())["status"] in (
                    "accepted", "running"):
                time.sleep(0.5)
            assert state["status"] == "successful", state
            t0 = time.perf_counter()
            client.get(f"/projects/{pid}/search", params={"q": "a"})
            prep_s = time.perf_counter() - t0
            services = app.state.services
            finder, _ = finder_of(services, services.project(pid))
            pts = random_points(finder, k)

            def call(lon: float, lat: float) -> None:
                r = client.get(f"/projects/{pid}/nearby",
                               params={"lon": lon, "lat": lat, "minutes": 30, "route": "true"})
                assert r.status_code == 200, r.text

            ms = timed(call, pts, repeat)
            floor = floor_ms(finder, pts, repeat)
            direct = timed(lambda lo, la: nearby_geojson(finder, lo, la, 30.0, None, True), pts,
                           repeat)
            hits = [len(client.get(f"/projects/{pid}/nearby", params={
                "lon": lo, "lat": la}).json()["features"]) for lo, la in pts[:20]]
    net = finder.index.network
    say(f"chengdu: {net.n_nodes} nodes, {net.n_edges} segments, {len(finder.places)} places; "
          f"finder prepared in {prep_s:.2f} s; mean {np.mean(hits):.1f} places within 30 min")
    return {"chengdu_nodes": net.n_nodes, "chengdu_places": len(finder.places),
            "chengdu_prepare_s": round(prep_s, 2), **stats("chengdu_http", ms, floor, 100.0),
            **stats("chengdu_handler", direct, floor, 100.0)}


def case_synth(k: int, repeat: int, nodes: int = 1_000_000) -> dict[str, Any]:
    from planner.finder.model import nearby_geojson
    from planner.io.finder_inputs import load_finder
    from planner.params import PlanParams
    from planner.pipeline import run_plan
    from planner.synthetic.district import build_demo_district

    inputs = build_demo_district(seed=3, target_nodes=nodes, n_facilities=3000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = run_plan(inputs, PlanParams(), max_catchment_facilities=0, build_dissolved=False,
                        compute_access=False)
    t0 = time.perf_counter()
    finder = load_finder(plan)
    prep_s = time.perf_counter() - t0
    pts = random_points(finder, k)
    ms = timed(lambda lo, la: nearby_geojson(finder, lo, la, 30.0, None, True), pts, repeat)
    floor = floor_ms(finder, pts, repeat)
    say(f"synth1m: {finder.index.network.n_nodes} nodes, {len(finder.places)} places; "
          f"finder prepared in {prep_s:.1f} s")
    return {"synth_nodes": finder.index.network.n_nodes, "synth_prepare_s": round(prep_s, 2),
            **stats("synth1m_inprocess", ms, floor, 300.0)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="*", default=["chengdu", "synth1m"])
    ap.add_argument("--osm", type=Path, default=CHENGDU)
    ap.add_argument("--points", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    figures: dict[str, Any] = {"load_avg_start": os.getloadavg()[0], "cpus": os.cpu_count()}
    if "chengdu" in args.cases:
        figures.update(case_chengdu(args.osm, args.points, args.repeat))
    if "synth1m" in args.cases:
        figures.update(case_synth(args.points, args.repeat))
    figures["load_avg_end"] = os.getloadavg()[0]
    say(f"load average {figures['load_avg_start']:.2f} -> {figures['load_avg_end']:.2f} on "
          f"{figures['cpus']} CPUs (shared machine)")
    say(json.dumps(figures))


if __name__ == "__main__":
    main()
