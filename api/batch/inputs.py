"""The batch's inputs: cut the area into region parts — all as tasks from the OSM file's pieces
when it can (``api.batch.pieces``), else read the whole area (in pieces on the cluster when it
can) and cut it in this process."""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from api.batch.cluster import Cluster, lost, results_or_local
from api.batch.config import BatchConfig
from api.batch.outputs import safe_name
from api.batch.pieces import FACTS_FILE, collect_cut, submit_cut
from planner.batch.parts import CutPlan, cut_region, plan_cut
from planner.errors import InputDataError
from planner.io.catalogue import read_catalogue
from planner.io.osm import file_bounds, read_osm_file
from planner.io.osm_split import PbfLayout, combine_extracts, read_piece, scan_pbf
from planner.io.region_parts import (
    SideInputs,
    WholeArea,
    read_side_inputs,
    read_whole_area,
    whole_area,
    write_part,
)

Say = Callable[[str], None]
#: Pieces of the OSM file per worker when the pieces are put together in this process (more
#: than one evens out pieces of unequal cost).
PIECES_PER_WORKER = 2
#: Pieces per worker when the cut is all tasks (``api.batch.pieces``): each piece reads every
#: node block again (about 1 CPU-s per 3 M nodes); each worker reads one of the register and
#: units file and then one piece of equal cost (``PbfLayout.way_runs`` weighs blocks with areas).
TASK_PIECES_PER_WORKER = 1
#: Cut the parts as tasks from this many workers on: with 2, sending the plan (0.5 GB at 3.2 M
#: nodes) to both cost more than it saved (14.0 s against 9.6 s in this process; scaling.md).
CUT_TASK_WORKERS = 4


def _side_options(cfg: BatchConfig) -> dict[str, Any]:
    return {"facilities": cfg.facilities, "coords": cfg.coords, "units": cfg.units,
            "units_coords": cfg.units_coords, "zone_settlement": cfg.profile.zone_settlement}


def side_inputs_task(box: Any, options: dict[str, Any]) -> tuple[SideInputs, list[Any]]:
    """Read the register and units file (a task); also return the warnings raised meanwhile."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        side = read_side_inputs(box, **options)
    return side, [(w.message, w.category) for w in seen]


def _side_result(future: Any, box: Any, options: dict[str, Any]) -> SideInputs:
    """The side inputs of the task, its warnings raised again here (as a local read raises them)."""
    side: SideInputs
    side, seen = results_or_local([future], [lambda: side_inputs_task(box, options)])[0]
    for message, category in seen:
        warnings.warn(message, category, stacklevel=2)
    return side


def _splittable(cfg: BatchConfig, cluster: Cluster,
                min_runs: int = 2) -> tuple[PbfLayout, Any] | None:
    """The OSM file's layout and box when it can be read in pieces on this cluster, else None."""
    layout = scan_pbf(cfg.osm)
    box = file_bounds(cfg.osm) if layout is not None else None
    if (layout is None or box is None or layout.relations or len(layout.ways) < min_runs
            or cluster.workers() < 2):
        return None
    return layout, box


def _runs(layout: PbfLayout, cluster: Cluster) -> list[Any]:
    return layout.way_runs(PIECES_PER_WORKER * cluster.workers())


def read_area(cfg: BatchConfig, out: Path, cluster: Cluster, say: Say) -> WholeArea:
    """The whole area, read as tasks on a cluster of 2+ workers when the OSM file allows it.

    A type-sorted .osm.pbf with a header box and without relations is read in pieces
    (``planner.io.osm_split``) while the register and units file are read beside them; anything
    else is read in this process (as is everything when a piece holds no walkable way).
    """
    split = _splittable(cfg, cluster)
    if split is None:
        return read_whole_area(cfg.osm, cfg.params, **_side_options(cfg))
    layout, box = split
    client = cluster.get()
    stamp = time.time_ns()
    side = client.submit(side_inputs_task, box, _side_options(cfg), pure=False,
                         key=f"careplan-side-inputs-{stamp}")
    runs = _runs(layout, cluster)
    futures = [client.submit(read_piece, cfg.osm, layout, run, out / "_parts", pure=False,
                             key=f"careplan-osm-piece-{i}-{stamp}") for i, run in enumerate(runs)]
    try:
        done = results_or_local(futures, [lambda: None] * len(futures))
        if any(piece is None for piece in done):  # a worker was lost: read here instead
            raise InputDataError("a piece was lost with its worker")
        extract = combine_extracts(done)
        say(f"parts: read {cfg.osm.name} in {len(runs)} pieces on the cluster")
    except InputDataError as exc:
        say(f"parts: reading {cfg.osm.name} in pieces failed ({exc}); reading it whole")
        extract = read_osm_file(cfg.osm, read_catalogue())
    area = whole_area(extract, _side_result(side, box, _side_options(cfg)), cfg.params)
    for future in [*futures, side]:
        future.release()
    return area


@dataclass(frozen=True, slots=True)
class Cut:
    """What the cut leaves for the run: the part entries and the whole area's facts."""

    entries: dict[str, Any]
    nodes_total: int
    crs: str
    hierarchy: pd.DataFrame | None
    read_s: float
    facts_file: str | None = None


def _cut_whole(cfg: BatchConfig, regions: gpd.GeoDataFrame, folder: Path, halo_m: float,
               cluster: Cluster, say: Say) -> Cut:
    """Read the whole area (in pieces or here), decide the whole-area facts here, cut the parts."""
    started = time.perf_counter()
    whole = read_area(cfg, folder.parent, cluster, say)
    read_s = time.perf_counter() - started
    plan = plan_cut(whole.network, regions, whole.facilities, whole.units, whole.residential,
                    halo_m=halo_m, crs=whole.crs, units_given=whole.units_given)
    return Cut(cut_regions(plan, folder, cluster), whole.network.n_nodes, whole.crs,
               whole.hierarchy, read_s)


def cut_area(cfg: BatchConfig, regions: gpd.GeoDataFrame, folder: Path, halo_m: float,
             cluster: Cluster, say: Say) -> Cut:
    """Write every region's part file into ``folder``; return the entries and whole-area facts.

    With a units file and an OSM file that can be read in pieces on 2+ workers, everything is a
    task and the whole area is never put together (``api.batch.pieces``); otherwise the whole
    area is read (in pieces or here) and cut as before.
    """
    split = _splittable(cfg, cluster, min_runs=1) if cfg.units is not None else None
    if split is None:
        return _cut_whole(cfg, regions, folder, halo_m, cluster, say)
    layout, box = split
    started = time.perf_counter()
    runs = layout.way_runs(TASK_PIECES_PER_WORKER * cluster.workers())
    futures = submit_cut(cluster.get(), cfg.osm, layout, runs, box, _side_options(cfg), regions,
                         halo_m, folder)
    try:
        for ready in futures["all"]:  # the side plan and the pieces: "read" ends here
            ready.result()
        read_s = time.perf_counter() - started
        hierarchy, (crs, nodes), entries = collect_cut(futures, folder)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - cancellation is a BaseException
        if not (isinstance(exc, InputDataError) or lost(exc)):
            raise
        say(f"parts: cutting {cfg.osm.name} in pieces failed ({exc}); reading it whole")
        shutil.rmtree(folder / "pieces", ignore_errors=True)
        return _cut_whole(cfg, regions, folder, halo_m, cluster, say)
    say(f"parts: read {cfg.osm.name} in {len(runs)} pieces and cut them on the cluster")
    return Cut(entries, nodes, crs, hierarchy, read_s, FACTS_FILE)


def cut_and_write(plan: CutPlan, r: int, folder: Path) -> tuple[str, dict[str, Any]]:
    """Cut the ``r``-th region's part and write it (a task); return its manifest entry."""
    part = cut_region(plan, r)
    name = f"{safe_name(part.region_id)}.pkl"
    digest = write_part(part, folder / name)
    return part.region_id, {"file": name, "sha256": digest, "nodes": part.network.n_nodes,
                            "units": len(part.owned_unit_ids)}


def cut_regions(plan: CutPlan, folder: Path, cluster: Cluster) -> dict[str, Any]:
    """Every region's part: as tasks on a cluster of ``CUT_TASK_WORKERS``+ workers, else here.

    The plan (the whole area's data) goes to every worker once; each task then cuts and writes
    one region's part.
    """
    if cluster.workers() < CUT_TASK_WORKERS:
        return dict(cut_and_write(plan, r, folder) for r in range(len(plan.region_ids)))
    client = cluster.get()
    data = client.scatter(plan, broadcast=True, hash=False)
    futures = [client.submit(cut_and_write, data, r, folder, pure=False,
                             key=f"careplan-cut-{r}-{time.time_ns()}")
               for r in range(len(plan.region_ids))]
    local = [partial(cut_and_write, plan, r, folder) for r in range(len(plan.region_ids))]
    entries = dict(results_or_local(futures, local))
    for future in [*futures, data]:
        future.release()
    return entries
