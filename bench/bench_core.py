"""Benchmark of the core engine (issue 2). Not a test: prints timings and ratios against peers.

Cases (each in its own process so peak memory is its own):
  chengdu   real OSM extract: parse, prepare, travel vs the scipy floor, per-facility catchments
            vs the osmnx recipe (ego_graph + buffered edges and nodes) measured in the same run
  synth100k / synth1m   synthetic networks with 3,000 facilities of six types: prepare, cache
            round trip, snapping, travel (ratio to the floor), coverage, gaps, dissolved polygons

  synth1m also writes the district as an .osm.pbf (pyosmium: streets as ways of up to 12
  segments chained through junctions, residential land use, tagged facilities) and times
  `careplan analyze --osm that.pbf` as a subprocess (wall time, peak RSS of the process tree,
  the split parse / prepare / analysis / outputs from the CLI's step seconds) and our parse
  against a bare pyosmium pass over the same file (the floor). --segment-ways also parses a
  file with one way per segment (the old writer) against its floor.

Usage: python bench/bench_core.py [chengdu synth100k synth1m] [--osm PATH] [--work DIR]
       [--no-pbf] [--no-dissolved] [--pbf-only] [--segment-ways]
       python bench/bench_core.py --parse-only [--pbf out/bench/synth1m.osm.pbf]

  --parse-only   the parse figures alone on an existing PBF: the bare pyosmium floor and
                 read_osm_file (the numpy PBF reader), 5 runs each, alternating (best wall and
                 best CPU seconds), the reader's split by step (pbf_parse_split_s), and
                 read_osm_pyosmium, the pyosmium path it replaced (pbf_parse_pyosmium_s, once)

  analysis_from_cache_s      cache load + demand, snapping, travel, coverage and gaps, without
                             polygons (what the issue's 18.8 s baseline measured); best of 2
  analysis_with_polygons_s   the same plus the dissolved catchments of every type (2 workers)
Ends with one JSON line of the figures of the last case run (keys in issue 16).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections import deque
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHENGDU = ROOT.parent / "shared" / "data" / "osm" / "chengdu_center_2018.osm"
WORK = ROOT / "out" / "bench"
OPTS: dict[str, object] = {"osm": CHENGDU, "work": WORK, "pbf": True, "dissolved": True}


def best_of(n: int, fn):  # type: ignore[no-untyped-def]
    """Smallest wall time of ``n`` calls of ``fn`` and its last result."""
    times, out = [], None
    for _ in range(n):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def best_of_cpu(n: int, fn):  # type: ignore[no-untyped-def]
    """Smallest wall time and smallest CPU time (this process and its reaped children) of
    ``n`` calls of ``fn``: on a shared machine the CPU time shows the work done."""
    walls, cpus = [], []
    for _ in range(n):
        c0, start = cpu_s(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(cpu_s() - c0)
    return min(walls), min(cpus)


def load() -> str:
    return " ".join(f"{v:.2f}" for v in __import__("os").getloadavg())


def cpu_s() -> float:
    """CPU seconds of this process and its finished children (forked workers included)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def floor_travel_s(network, fsnap, types) -> float:  # type: ignore[no-untyped-def]
    """Bare scipy multi-source Dijkstra per type from the facilities' nearest nodes."""
    from scipy.sparse.csgraph import dijkstra

    near_node = np.where(fsnap.frac < 0.5, network.edge_u[fsnap.edge], network.edge_v[fsnap.edge])
    start = time.perf_counter()
    for ftype in np.unique(types):
        nodes = np.unique(near_node[(types == ftype) & fsnap.routable])
        dijkstra(network.graph, directed=True, indices=nodes, min_only=True)
    return time.perf_counter() - start


def travel_stage_s(network, fac, fsnap, dsnap):  # type: ignore[no-untyped-def]
    from planner.routing.type_times import type_times_at

    start = time.perf_counter()
    for ftype in fac["type"].unique():
        type_times_at(network, fac, fsnap, dsnap, ftype)
    return time.perf_counter() - start


def osmnx_recipe_s(network, fsnap, which, thresholds_s) -> float:  # type: ignore[no-untyped-def]
    """The osmnx-examples isochrone recipe: ego_graph by time, buffer edges 25 m and nodes 50 m."""
    import geopandas as gpd
    import networkx as nx
    import shapely

    graph = nx.Graph()
    for e in np.flatnonzero(network.edge_in_main):
        graph.add_edge(int(network.edge_u[e]), int(network.edge_v[e]), time=network.edge_walk_s[e])
    start = time.perf_counter()
    for j in which:
        node = int(network.edge_u[fsnap.edge[j]])
        for t_s in thresholds_s:
            sub = nx.ego_graph(graph, node, radius=t_s, distance="time")
            nodes = np.fromiter(sub.nodes, dtype=np.int64)
            pts = gpd.GeoSeries(shapely.points(network.x_m[nodes], network.y_m[nodes])).buffer(50)
            uv = np.array(list(sub.edges), dtype=np.int64).reshape(-1, 2)
            lines = shapely.linestrings(np.stack([
                np.column_stack([network.x_m[uv[:, 0]], network.y_m[uv[:, 0]]]),
                np.column_stack([network.x_m[uv[:, 1]], network.y_m[uv[:, 1]]])], axis=1))
            edges = gpd.GeoSeries(lines).buffer(25)
            shapely.union_all(np.concatenate([pts.to_numpy(), edges.to_numpy()]))
    return time.perf_counter() - start


def case_chengdu() -> dict[str, object]:
    from planner.catchments.polygons import CatchmentParams, build_facility_catchments
    from planner.io.catalogue import read_catalogue
    from planner.io.osm import read_osm_file
    from planner.network.graph import build_walk_network
    from planner.network.snap import EdgeIndex
    from planner.params import WalkProfile
    from planner.routing.travel import compute_source_reach

    t0 = time.perf_counter()
    extract = read_osm_file(Path(str(OPTS["osm"])), read_catalogue())
    t1 = time.perf_counter()
    network = build_walk_network(extract.network, WalkProfile())
    t2 = time.perf_counter()
    rng = np.random.default_rng(1)
    k = 60
    nodes = rng.choice(network.n_nodes, k, replace=False)
    fsnap = EdgeIndex(network).snap(network.x_m[nodes] + 7, network.y_m[nodes] + 7, 300)
    which = np.flatnonzero(fsnap.routable)
    thresholds_s = (300.0, 900.0, 1800.0)
    ours = {}
    for workers in (1, 2):  # best of 3 for both, so a stray pause on this machine counts for none
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            reach = compute_source_reach(network, fsnap, limit_s=max(thresholds_s))
            built = build_facility_catchments(network, reach, fsnap, thresholds_s,
                                              CatchmentParams(workers=workers))
            runs.append(time.perf_counter() - start)
        ours[workers] = min(runs)
    peer = min(osmnx_recipe_s(network, fsnap, which, thresholds_s) for _ in range(3))
    error = area_error(network, fsnap, reach, built)
    return {"case": "chengdu", "nodes": network.n_nodes, "segments": network.n_edges,
            "parse_s": t1 - t0, "prepare_s": t2 - t1, "facilities": int(which.size),
            "catchments_ours_1_process_s": ours[1], "catchments_ours_2_processes_s": ours[2],
            "catchments_osmnx_recipe_s": peer,
            "speedup_vs_osmnx_recipe_1_process": peer / ours[1],
            "speedup_vs_osmnx_recipe_2_processes": peer / ours[2], **error,
            "peak_gb": peak_gb()}


def area_error(network, fsnap, reach, built) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Our polygons against the exact GEOS buffer (16 segments a quarter circle) of the same
    reached pieces: symmetric difference and signed area difference, as shares of its area."""
    import shapely

    from planner.catchments.polygons import compute_reached_pieces

    reach = reach.tocsr()
    sym, signed = [], []
    for j, t_s, poly, _ in built:
        row = np.full(network.n_nodes, np.inf)
        row[reach.indices[reach.indptr[j]:reach.indptr[j + 1]]] = \
            reach.data[reach.indptr[j]:reach.indptr[j + 1]]
        x0, y0, x1, y1 = compute_reached_pieces(network, row, t_s, fsnap, np.array([j]))
        lines = shapely.linestrings(np.stack([np.column_stack([x0, y0]),
                                              np.column_stack([x1, y1])], axis=1))
        exact = shapely.buffer(shapely.multilinestrings(lines), 50.0, quad_segs=16)
        sym.append(shapely.symmetric_difference(poly, exact).area / exact.area)
        signed.append(poly.area / exact.area - 1.0)
    return {"area_error_mean_pct": 100 * float(np.mean(sym)),
            "area_error_max_pct": 100 * float(np.max(sym)),
            "area_bias_mean_pct": 100 * float(np.mean(signed))}


def case_pbf_only(target_nodes: int) -> dict[str, object]:
    """Only the PBF figures (no in-process stages): one 1M-node run is costly on a shared box."""
    from planner.synthetic.district import build_demo_district

    start = time.perf_counter()
    inputs = build_demo_district(seed=3, target_nodes=target_nodes, n_facilities=3000)
    res: dict[str, object] = {"case": f"synth{target_nodes}", "nodes": inputs.network.n_nodes,
                              "segments": inputs.network.n_edges,
                              "generate_s": time.perf_counter() - start,
                              "load_at_start": load()}
    res.update(pbf_figures(inputs))
    res["peak_gb"] = peak_gb()
    res["load_at_end"] = load()
    return res


def case_synth(target_nodes: int) -> dict[str, object]:
    from planner.catchments.polygons import CatchmentParams
    from planner.io.cache import load_cached, save_cached
    from planner.io.osm import OsmExtract
    from planner.network.graph import build_walk_network
    from planner.params import PlanParams
    from planner.pipeline import run_plan
    from planner.synthetic.district import build_demo_district

    params = PlanParams()
    t0 = time.perf_counter()
    inputs = build_demo_district(seed=3, target_nodes=target_nodes, n_facilities=3000)
    t1 = time.perf_counter()
    network = build_walk_network(inputs.network, params.walk)
    t2 = time.perf_counter()
    runs = []  # best of 2: cache load + run_plan without polygons (the 18.8 s baseline)
    with tempfile.TemporaryDirectory() as tmp:
        extract = OsmExtract(inputs.network, inputs.facilities.iloc[:0], inputs.residential,
                             inputs.study_area)
        save_cached(Path(tmp), "bench", extract, network)
        for _ in range(2):
            t3, c3 = time.perf_counter(), cpu_s()
            _, network = load_cached(Path(tmp), "bench")  # type: ignore[misc]
            t4 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = run_plan(inputs, params, network=network, max_catchment_facilities=0,
                                  build_dissolved=False, compute_access=False,
                                  catchment_params=CatchmentParams(workers=2))  # as the CLI
            t5, c5 = time.perf_counter(), cpu_s()
            catch_s = result.summary["timings_s"]["catchments_s"]
            runs.append((t5 - t3 - catch_s, c5 - c3 - catch_s, t4 - t3, result.summary))
    wall_s, run_cpu_s, cache_s, summary = min(runs, key=lambda r: r[0])
    res = {"case": f"synth{target_nodes}", "nodes": network.n_nodes,
           "segments": network.n_edges, "facilities": len(result.facilities),
           "demand_points": len(result.demand), "generate_s": t1 - t0, "prepare_s": t2 - t1,
           "cache_load_s": cache_s, "load_at_start": load()}
    res.update(stage_figures(network, result, params))
    # analysis_from_cache_s: cache load + demand, snapping, travel, coverage and gaps (no
    # polygons), as the 18.8 s baseline measured it; analysis_with_polygons_s adds the
    # dissolved catchments of every type (2 workers)
    res["analysis_from_cache_s"] = wall_s
    res["analysis_from_cache_cpu_s"] = run_cpu_s
    res["analysis_timings_s"] = summary["timings_s"]
    if OPTS["dissolved"]:
        res.update(dissolved_figures(network, result, params))
        res["analysis_with_polygons_s"] = wall_s + res["dissolved_all_types_s"]
    if target_nodes >= 1_000_000 and OPTS["pbf"]:
        res.update(pbf_figures(inputs))
    res["peak_gb"] = peak_gb()
    res["load_at_end"] = load()
    return res


def stage_figures(network, result, params) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Snapping, travel against its floor, coverage + gaps: each best of 3."""
    from planner.coverage.gaps import find_gaps
    from planner.facilities import count_by_type
    from planner.network.snap import EdgeIndex
    from planner.pipeline import _coverage_tables
    from planner.routing.type_times import type_times_at

    x, y = result.demand.geometry.x.to_numpy(), result.demand.geometry.y.to_numpy()
    snap_s, snap_cpu_s = best_of_cpu(3, lambda: EdgeIndex(network).snap(
        x, y, params.snap.max_snap_m))
    fac = result.facilities
    travel = travel_stage_s(network, fac, result.facility_snap, result.demand_snap)
    floor = floor_travel_s(network, result.facility_snap, fac["type"].to_numpy())
    times = {t: type_times_at(network, fac, result.facility_snap, result.demand_snap, t)[1:]
             for t in result.nearest}
    counts = count_by_type(fac["type"].tolist())

    def coverage_gaps():  # type: ignore[no-untyped-def]
        cov, _ = _coverage_tables(result.demand, fac, times, result.units, params)
        return find_gaps(cov, required_types=params.coverage.required_types,
                         target_share=params.coverage.target_share, facility_counts=counts)

    cov_s, cov_cpu_s = best_of_cpu(3, coverage_gaps)
    return {"snap_s": snap_s, "snap_cpu_s": snap_cpu_s,
            "demand_points_s": result.summary["timings_s"]["demand_s"],
            "travel_s": travel, "floor_s": floor, "travel_over_floor": travel / floor,
            "coverage_gaps_s": cov_s, "coverage_gaps_cpu_s": cov_cpu_s,
            "load_after_stages": load()}


def dissolved_figures(network, result, params) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """All types x 3 thresholds with 2 workers (best of 3; wall and CPU seconds, the CPU of both
    processes: on a shared machine it is the fairer figure), then every type in this process
    with its wall time per step (street samples, level raster, distance, contour, stitch, GEOS
    repair; other = edge selection and tile bookkeeping)."""
    import shapely

    from planner.catchments.polygons import CatchmentParams, build_dissolved_catchments
    from planner.pipeline import _dissolved

    load_before = load()
    runs = []
    for _ in range(3):
        cpu0, start = cpu_s(), time.perf_counter()
        every = _dissolved(network, result.facilities, result.facility_snap, result.nearest,
                           params, CatchmentParams(workers=2))
        runs.append((time.perf_counter() - start, cpu_s() - cpu0))
    thresholds_s = tuple(t * 60.0 for t in params.coverage.thresholds_min)
    split: dict[str, float] = {}
    cpu0, start = cpu_s(), time.perf_counter()
    for ftype in result.nearest:
        which = np.flatnonzero((result.facilities["type"] == ftype).to_numpy())
        if which.size:
            build_dissolved_catchments(network, result.nearest[ftype].node_time_s,
                                       result.facility_snap, which, thresholds_s,
                                       CatchmentParams(), timer=split)
    one_s, one_cpu_s = time.perf_counter() - start, cpu_s() - cpu0
    repairs = int(split.pop("repairs", 0))
    split["other_s"] = one_s - sum(split.values())  # edge selection, tile bookkeeping
    return {"dissolved_all_types_s": min(r[0] for r in runs),
            "dissolved_all_types_cpu_s": min(r[1] for r in runs),  # both processes
            "dissolved_polygons": len(every),
            "dissolved_repairs": repairs,
            "dissolved_invalid": int((~every.geometry.is_valid).sum()),
            "dissolved_vertices": int(shapely.get_num_coordinates(every.geometry.to_numpy()).sum()),
            "dissolved_all_types_1_process_s": one_s,
            "dissolved_all_types_1_process_cpu_s": one_cpu_s,
            "dissolved_split_s": {k: round(v, 3) for k, v in split.items()},
            "load_before_dissolved": load_before, "load_after_dissolved": load()}


def pbf_figures(inputs) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Write the district as .osm.pbf, time the bare pyosmium floor, our parse and the CLI run
    (wall, peak RSS of the process tree, and its per-step split from the CLI's report)."""
    import os

    work = Path(str(OPTS["work"]))
    work.mkdir(parents=True, exist_ok=True)
    pbf = work / "synth1m.osm.pbf"
    start = time.perf_counter()
    ways = write_pbf(inputs, pbf)
    res: dict[str, object] = {"pbf_write_s": time.perf_counter() - start,
                              "pbf_mb": pbf.stat().st_size / 1e6, "pbf_street_ways": ways,
                              "pbf_segments_per_way": inputs.network.n_edges / ways}
    res.update(parse_figures(pbf, "", runs=2))
    if OPTS.get("segment_ways"):  # the old writer's file: one way per segment
        single = work / "synth1m_segment_ways.osm.pbf"
        write_pbf(inputs, single, chained=False)
        res.update(parse_figures(single, "segment_ways_", runs=1))
        single.unlink()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "api.cli", "analyze", "--osm", str(pbf), "--out",
           str(work / "synth1m_out"), "--no-cache"]
    wall_s, peak, out, peak_rss = run_measured(cmd, env)
    res.update({"pbf_end_to_end_s": wall_s, "pbf_peak_gb": peak, "pbf_peak_rss_sum_gb": peak_rss,
                "pbf_steps_s": step_seconds(out), "load_after_pbf": load()})
    return res


def parse_figures(pbf: Path, prefix: str, runs: int) -> dict[str, object]:
    """Bare pyosmium pass and our reader, ``runs`` times each, alternating so that the load of a
    shared machine falls on both alike (best wall and best CPU seconds of each; pyosmium
    inflates in threads, so its CPU time can exceed its wall time); our reader's split by step;
    and the pyosmium path of ``read_osm_file`` (once: the reader before the numpy one)."""
    from planner.io.catalogue import read_catalogue
    from planner.io.osm import assemble, read_osm_file, read_osm_pyosmium
    from planner.io.pbf_read import read_pbf

    cat = read_catalogue()
    fig: dict[str, list[float]] = {"floor": [], "floor_cpu": [], "parse": [], "parse_cpu": []}
    refs, extract = 0, None
    for _ in range(max(runs, 3)):
        for name, fn in (("floor", lambda: count_way_refs(pbf)),
                         ("parse", lambda: read_osm_file(pbf, cat))):
            c0, start = cpu_s(), time.perf_counter()
            out = fn()
            fig[name].append(time.perf_counter() - start)
            fig[f"{name}_cpu"].append(cpu_s() - c0)
            refs, extract = (out, extract) if name == "floor" else (refs, out)
    best = {k: min(v) for k, v in fig.items()}
    start = time.perf_counter()
    parts = read_pbf(pbf, cat)
    split = dict(parts.timings_s)
    mid = time.perf_counter()
    assemble(pbf, parts, None)
    split["assemble"] = time.perf_counter() - mid
    split["total"] = time.perf_counter() - start
    old_s, old = best_of(1, lambda: read_osm_pyosmium(pbf, cat))
    same = (old.network.n_edges == extract.network.n_edges and len(old.pois) == len(extract.pois)
            and len(old.residential) == len(extract.residential))
    return {f"{prefix}pbf_way_node_refs": refs, f"{prefix}pbf_facilities_read": len(extract.pois),
            f"{prefix}pbf_residential_read": len(extract.residential),
            f"{prefix}pyosmium_floor_s": best["floor"], f"{prefix}pbf_parse_s": best["parse"],
            f"{prefix}pbf_parse_over_floor": best["parse"] / best["floor"],
            f"{prefix}pyosmium_floor_cpu_s": best["floor_cpu"],
            f"{prefix}pbf_parse_cpu_s": best["parse_cpu"],
            f"{prefix}pbf_parse_over_floor_cpu": best["parse_cpu"] / best["floor_cpu"],
            f"{prefix}pbf_parse_split_s": {k: round(v, 3) for k, v in split.items()},
            f"{prefix}pbf_parse_pyosmium_s": old_s,
            f"{prefix}pbf_parse_speedup": old_s / best["parse"],
            f"{prefix}pbf_parse_same_counts": same}


def case_parse_only(pbf: Path) -> dict[str, object]:
    """Only the parse figures, on an existing PBF (written by a synth1m run)."""
    if not pbf.is_file():
        raise SystemExit(f"{pbf} not found; write it first with: python bench/bench_core.py "
                         "synth1m --pbf-only (or give --pbf PATH)")
    res: dict[str, object] = {"case": f"parse {pbf.name}", "pbf_mb": pbf.stat().st_size / 1e6,
                              "load_at_start": load()}
    res.update(parse_figures(pbf, "", runs=5))
    res["peak_gb"] = peak_gb()
    res["load_at_end"] = load()
    return res


def step_seconds(out: str) -> dict[str, float]:
    """The CLI's ``step seconds:`` line, grouped as parse, prepare, analysis, outputs."""
    line = next((x for x in out.splitlines() if "step seconds:" in x), "")
    steps = {k: float(v) for k, v in (p.rsplit(" ", 1) for p in
                                      line.split("step seconds:", 1)[-1].strip().split(", ")
                                      if p)}
    group = {"load": "parse", "prepare": "prepare", "background": "outputs", "write": "outputs"}
    split: dict[str, float] = {}
    for name, sec in steps.items():
        key = group.get(name, "analysis")
        split[key] = round(split.get(key, 0.0) + sec, 2)
    return {**split, **{f"step_{k}": v for k, v in steps.items()}}


def count_way_refs(path: Path) -> int:
    import osmium

    class Count(osmium.SimpleHandler):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.refs = 0

        def way(self, w) -> None:  # type: ignore[no-untyped-def]
            self.refs += len(w.nodes)

    h = Count()
    h.apply_file(str(path))
    return h.refs


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str, float]:
    """Wall time, peak memory of the process tree (GB), stdout, and the peak summed RSS (GB).

    The memory figure sums PSS (each shared page split among the processes sharing it): the
    forked catchment workers share the parent's network copy-on-write, which summed RSS counts
    once per process. Summed RSS is returned too (an upper bound)."""
    import psutil

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    peak = peak_rss = 0
    ps = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            procs = [ps, *ps.children(recursive=True)]
            infos = [p.memory_full_info() for p in procs if p.is_running()]
            peak = max(peak, sum(getattr(i, "pss", i.rss) for i in infos))
            peak_rss = max(peak_rss, sum(i.rss for i in infos))
        except psutil.Error:
            pass
        time.sleep(0.2)
    wall = time.perf_counter() - start
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        raise RuntimeError(f"careplan analyze failed ({proc.returncode}): {out[-2000:]}")
    return wall, peak / 1024**3, out, peak_rss / 1024**3


def street_chains(net, max_segments: int = 12) -> list[list[int]]:  # type: ignore[no-untyped-def]
    """Node positions of OSM-like ways: segments of one highway tag chained on through junctions
    (the straightest unused continuation turning by under 120 degrees, never back to a node of
    the chain), at most ``max_segments`` each, so a way is a stretch of street, not a single
    segment as before."""
    u, v, hw = net.edge_u, net.edge_v, net.edge_highway
    x, y = net.lon * np.cos(np.radians(net.lat.mean())), net.lat
    m = len(u)
    ends = np.concatenate([u, v])
    order = np.argsort(ends, kind="stable")
    ptr = np.searchsorted(ends[order], np.arange(len(net.lon) + 1))
    inc = np.concatenate([np.arange(m), np.arange(m)])[order].tolist()
    ptr, ul, vl, hwl = ptr.tolist(), u.tolist(), v.tolist(), hw.tolist()
    xl, yl = x.tolist(), y.tolist()
    used = bytearray(m)

    def step(a: int, b: int, tag: str, seen: set[int]) -> int:
        best, best_cos = -1, -0.5
        dx, dy = xl[b] - xl[a], yl[b] - yl[a]
        for t in inc[ptr[b]:ptr[b + 1]]:
            if used[t] or hwl[t] != tag:
                continue
            c = vl[t] if ul[t] == b else ul[t]
            if c in seen:
                continue
            ex, ey = xl[c] - xl[b], yl[c] - yl[b]
            norm = ((dx * dx + dy * dy) * (ex * ex + ey * ey)) ** 0.5
            cos = (dx * ex + dy * ey) / norm if norm > 0 else -1.0
            if cos > best_cos:
                best, best_cos = t, cos
        return best

    chains = []
    for s in range(m):
        if used[s]:
            continue
        used[s] = 1
        chain = deque([ul[s], vl[s]])
        seen = {ul[s], vl[s]}
        for forward in (True, False):
            while len(chain) <= max_segments:
                a, b = (chain[-2], chain[-1]) if forward else (chain[1], chain[0])
                t = step(a, b, hwl[s], seen)
                if t < 0:
                    break
                used[t] = 1
                c = vl[t] if ul[t] == b else ul[t]
                seen.add(c)
                chain.append(c) if forward else chain.appendleft(c)
        chains.append(list(chain))
    return chains


def write_pbf(inputs, path: Path, *, chained: bool = True) -> int:  # type: ignore[no-untyped-def]
    """The synthetic district as OSM: walkable streets as ways (:func:`street_chains`, or one
    way per segment when not ``chained``, as before), residential land use as closed ways,
    facilities as nodes tagged as the catalogue reads them. Returns the number of street ways."""
    import osmium
    import shapely

    from planner.io.catalogue import read_catalogue

    if path.exists():
        path.unlink()
    net = inputs.network
    cat = read_catalogue()
    tags_of = {t.key: (dict(t.osm_tags[0]) if t.osm_tags else {"amenity": "social_facility"})
               for t in cat.types}
    chains = street_chains(net) if chained else [[int(a), int(b)] for a, b in
                                                  zip(net.edge_u, net.edge_v, strict=True)]
    w = osmium.SimpleWriter(str(path))
    try:
        for i in range(len(net.node_id)):
            w.add_node(osmium.osm.mutable.Node(id=int(net.node_id[i]),
                                               location=(float(net.lon[i]), float(net.lat[i]))))
        next_id = int(net.node_id.max()) + 1
        fac = inputs.facilities
        for j in range(len(fac)):
            pt = fac.geometry.iat[j]
            tags = {**tags_of[fac["type"].iat[j]], "name": str(fac["name"].iat[j])}
            w.add_node(osmium.osm.mutable.Node(id=next_id, location=(pt.x, pt.y), tags=tags))
            next_id += 1
        ring_nodes = []
        for geom in inputs.residential.geometry:
            poly = geom if geom.geom_type == "Polygon" else max(geom.geoms, key=lambda g: g.area)
            coords = shapely.get_coordinates(poly.exterior)[:-1]
            ids = list(range(next_id, next_id + len(coords)))
            for nid, (x, y) in zip(ids, coords, strict=True):
                w.add_node(osmium.osm.mutable.Node(id=nid, location=(float(x), float(y))))
            next_id += len(coords)
            ring_nodes.append(ids)
        # the first segment of a chain gives its way's tag (a chain keeps one tag)
        first_edge = {}
        for k, (a, b) in enumerate(zip(net.edge_u.tolist(), net.edge_v.tolist(), strict=True)):
            first_edge.setdefault((a, b), k)
            first_edge.setdefault((b, a), k)
        for k, chain in enumerate(chains):
            tag = str(net.edge_highway[first_edge[(chain[0], chain[1])]])
            w.add_way(osmium.osm.mutable.Way(id=k + 1, nodes=net.node_id[chain].tolist(),
                                             tags={"highway": tag}))
        for k, ids in enumerate(ring_nodes):
            w.add_way(osmium.osm.mutable.Way(id=len(chains) + k + 1, nodes=[*ids, ids[0]],
                                             tags={"landuse": "residential"}))
    finally:
        w.close()
    return len(chains)


def main(argv: list[str]) -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="*", default=["chengdu", "synth100k", "synth1m"])
    ap.add_argument("--osm", type=Path, default=CHENGDU, help="OSM extract for the chengdu case")
    ap.add_argument("--work", type=Path, default=WORK, help="folder for the PBF and its run")
    ap.add_argument("--no-pbf", action="store_true", help="skip the PBF end-to-end run")
    ap.add_argument("--no-dissolved", action="store_true",
                    help="skip the dissolved catchments (and analysis_with_polygons_s)")
    ap.add_argument("--pbf-only", action="store_true",
                    help="synth cases: only the PBF figures (parse, floor, end-to-end run)")
    ap.add_argument("--segment-ways", action="store_true",
                    help="also parse a PBF written with one way per segment (the old writer)")
    ap.add_argument("--parse-only", action="store_true",
                    help="only the parse figures (floor, our reader and its split, the pyosmium "
                         "path) on an existing PBF (--pbf)")
    ap.add_argument("--pbf", type=Path, default=WORK / "synth1m.osm.pbf",
                    help="the PBF for --parse-only")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.parse_only:
        res = case_parse_only(args.pbf)
        for key, value in res.items():
            sys.stdout.write(f"  {key:36s} {value:.3f}\n" if isinstance(value, float)
                             else f"  {key:36s} {value}\n")
        sys.stdout.write(json.dumps(res, default=str) + "\n")
        return
    OPTS.update(osm=args.osm, work=args.work, pbf=not args.no_pbf,
                dissolved=not args.no_dissolved, segment_ways=args.segment_ways)
    if args.one:
        size = {"synth100k": 100_000, "synth1m": 1_000_000}.get(args.one, 0)
        res = case_chengdu() if args.one == "chengdu" else (
            case_pbf_only(size) if args.pbf_only else case_synth(size))
        sys.stdout.write(json.dumps(res, default=str) + "\n")
        return
    last: dict[str, object] = {}
    for name in args.cases:
        extra = ["--osm", str(args.osm), "--work", str(args.work)] + [
            flag for flag, on in (("--no-pbf", args.no_pbf), ("--no-dissolved", args.no_dissolved),
                                  ("--pbf-only", args.pbf_only),
                                  ("--segment-ways", args.segment_ways)) if on]
        out = subprocess.run([sys.executable, __file__, f"--one={name}", *extra],
                             capture_output=True, text=True, check=True)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        sys.stdout.write(f"\n== {name}\n")
        for key, value in res.items():
            sys.stdout.write(f"  {key:36s} {value:.3f}\n" if isinstance(value, float)
                             else f"  {key:36s} {value}\n")
        last = res
    sys.stdout.write(json.dumps(last, default=str) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
