"""Run a batch on Dask distributed: cut the input into region parts, run them, merge the results."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from api.batch.cluster import open_client
from api.batch.config import BatchConfig
from api.batch.outputs import merge_outputs, safe_name, staging_dir, upload
from api.batch.task import MARKER, RegionJob, run_region
from planner.batch.parts import CutPlan, cut_region, plan_cut
from planner.batch.regions import Halo, large_regions, make_halo
from planner.errors import InputDataError
from planner.io.osm import OsmExtract
from planner.io.osm_split import combine_extracts, read_piece, scan_pbf
from planner.io.region_parts import inputs_digest, read_regions, read_whole_area, write_part

Say = Callable[[str], None]
#: Pieces of the OSM file per worker (more than one evens out pieces of unequal cost).
PIECES_PER_WORKER = 2
OnRegion = Callable[[dict[str, Any], int, int], None]


def _check(cfg: BatchConfig) -> None:
    for flag, path in (("--osm", cfg.osm), ("--regions", cfg.regions),
                       ("--facilities", cfg.facilities), ("--units", cfg.units)):
        if path is not None and not path.is_file():
            msg = f"{flag} {path} not found; give an existing file"
            raise InputDataError(msg)
    if cfg.fmt not in ("gpkg", "parquet"):
        msg = f"--format {cfg.fmt!r} is not gpkg or parquet; give one of them"
        raise InputDataError(msg)
    if cfg.retries < 0:
        msg = f"--retries {cfg.retries} is negative; give 0 or more"
        raise InputDataError(msg)


class Cluster:
    """The run's Dask client, connected (or started) on first use and closed with the run."""

    def __init__(self, cfg: BatchConfig, say: Say, stack: ExitStack) -> None:
        self._cfg, self._say, self._stack = cfg, say, stack
        self.client: Any = None
        self.info: dict[str, Any] = {"cluster": "none (nothing to run)"}

    def get(self) -> Any:
        """The client (connecting on the first call)."""
        if self.client is None:
            self.client, self.info = self._stack.enter_context(
                open_client(self._cfg.scheduler, self._cfg.workers, self._say))
        return self.client


def _workers(client: Any) -> int:
    return len(client.scheduler_info(n_workers=-1)["workers"])


def _read_osm(cfg: BatchConfig, out: Path, cluster: Cluster, say: Say) -> OsmExtract | None:
    """The OSM file read in pieces on the cluster, or ``None`` to read it whole in this process.

    A type-sorted .osm.pbf without relations is split (``planner.io.osm_split``); anything else,
    or a piece without a walkable way, falls back to one read in this process.
    """
    layout = scan_pbf(cfg.osm)
    if layout is None or layout.relations or len(layout.ways) < 2:
        return None
    client = cluster.get()
    workers = _workers(client)
    runs = layout.way_runs(PIECES_PER_WORKER * workers) if workers > 1 else []
    if len(runs) < 2:
        return None
    futures = [client.submit(read_piece, cfg.osm, layout, run, out / "_parts",
                             key=f"careplan-osm-piece-{i}-{time.time_ns()}", pure=False)
               for i, run in enumerate(runs)]
    try:
        pieces = client.gather(futures)
    except InputDataError as exc:
        say(f"parts: reading {cfg.osm.name} in pieces failed ({exc}); reading it whole")
        return None
    finally:
        for future in futures:
            future.release()
    say(f"parts: read {cfg.osm.name} in {len(runs)} pieces on the cluster")
    return combine_extracts(pieces)


def cut_and_write(plan: CutPlan, r: int, folder: Path) -> tuple[str, dict[str, Any]]:
    """Cut the ``r``-th region's part and write it (a task); return its manifest entry."""
    part = cut_region(plan, r)
    name = f"{safe_name(part.region_id)}.pkl"
    digest = write_part(part, folder / name)
    return part.region_id, {"file": name, "sha256": digest, "nodes": part.network.n_nodes,
                            "units": len(part.owned_unit_ids)}


def _cut_regions(plan: CutPlan, folder: Path, cluster: Cluster) -> dict[str, Any]:
    """Every region's part: as tasks when the cluster has 2+ workers, else in this process.

    The plan (the whole area's data) goes to every worker once; each task then cuts and writes
    one region's part.
    """
    client = cluster.get()
    if _workers(client) < 2:
        return dict(cut_and_write(plan, r, folder) for r in range(len(plan.region_ids)))
    data = client.scatter(plan, broadcast=True, hash=False)
    futures = [client.submit(cut_and_write, data, r, folder, pure=False,
                             key=f"careplan-cut-{r}-{time.time_ns()}")
               for r in range(len(plan.region_ids))]
    try:
        return dict(client.gather(futures))
    finally:
        for future in [*futures, data]:
            future.release()


def _cut(cfg: BatchConfig, regions: Any, out: Path, halo: Halo, key: str,
         say: Say, cluster: Cluster) -> dict[str, Any]:
    """Read the whole area once and write one part file per region; return the parts manifest."""
    manifest_path = out / "_parts" / "manifest.json"
    if manifest_path.is_file():
        manifest: dict[str, Any] = json.loads(manifest_path.read_text("utf-8"))
        if manifest.get("key") == key and all(
                (out / "_parts" / r["file"]).is_file() for r in manifest["regions"].values()):
            say(f"parts: {len(manifest['regions'])} region parts unchanged (inputs and parameters "
                "have the same hashes)")
            return manifest
    started = time.perf_counter()
    extract = _read_osm(cfg, out, cluster, say)
    osm_s = time.perf_counter() - started
    whole = read_whole_area(cfg.osm, cfg.params, facilities=cfg.facilities, coords=cfg.coords,
                            units=cfg.units, units_coords=cfg.units_coords,
                            zone_settlement=cfg.profile.zone_settlement, extract=extract)
    read_s = time.perf_counter() - started
    plan = plan_cut(whole.network, regions, whole.facilities, whole.units, whole.residential,
                    halo_m=halo.halo_m, crs=whole.crs, units_given=whole.units_given)
    entries = _cut_regions(plan, out / "_parts", cluster)
    if whole.hierarchy is not None:
        whole.hierarchy.to_csv(out / "_parts" / "hierarchy.csv", index=False)
    manifest = {"key": key, "regions": entries, "cut_s": round(time.perf_counter() - started, 3),
                "cut_detail_s": {"osm": round(osm_s, 3), "inputs": round(read_s - osm_s, 3),
                                 "parts": round(time.perf_counter() - started - read_s, 3)},
                "nodes_total": whole.network.n_nodes, "crs": whole.crs,
                "region_names": dict(zip(regions["region_id"], regions["region_name"], strict=True))}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
    say(f"parts: cut {whole.network.n_nodes} nodes into {len(entries)} region parts "
        f"(halo {halo.halo_m:.0f} m) in {manifest['cut_s']:.1f} s")
    return manifest


def _is_done(region_dir: Path, key: str) -> dict[str, Any] | None:
    marker = region_dir / MARKER
    if not marker.is_file():
        return None
    info: dict[str, Any] = json.loads(marker.read_text("utf-8"))
    return dict(info["status"]) if info.get("key") == key else None


def _jobs(cfg: BatchConfig, out: Path, manifest: dict[str, Any], halo: Halo,
          key: str) -> tuple[list[RegionJob], list[dict[str, Any]]]:
    jobs, skipped = [], []
    for region_id, entry in manifest["regions"].items():
        region_key = hashlib.sha256(f"{key}:{entry['sha256']}".encode()).hexdigest()
        region_dir = out / "regions" / safe_name(region_id)
        done = _is_done(region_dir, region_key) if cfg.resume else None
        if done is not None:
            skipped.append({**done, "status": "ok", "resumed": True})
            continue
        jobs.append(RegionJob(region_id, str(out / "_parts" / entry["file"]), str(region_dir),
                              region_key, cfg.params, cfg.profile, halo.horizon_s))
    return jobs, skipped


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else 'no message'}"[:300]


def _execute(cfg: BatchConfig, jobs: list[RegionJob], cluster: Cluster,
             on_region: OnRegion | None) -> list[dict[str, Any]]:
    import distributed

    as_completed: Any = distributed.as_completed  # distributed is only partly typed

    if not jobs:
        return []
    client = cluster.get()
    futures = {client.submit(run_region, job, key=f"careplan-region-{job.region_id}-"
                             f"{job.key[:12]}", retries=cfg.retries, pure=False): job
               for job in jobs}
    statuses = []
    for done, future in enumerate(as_completed(futures), start=1):
        job = futures[future]
        if future.status == "finished":
            status = dict(future.result())
        else:
            exc = future.exception()
            status = {"region": job.region_id, "status": "failed", "seconds": None,
                      "peak_memory_mb": None, "error": _one_line(exc) if exc else "cancelled"}
        statuses.append(status)
        if on_region is not None:
            on_region(status, done, len(jobs))
    return statuses


def run_batch(cfg: BatchConfig, *, say: Say = lambda text: None,
              on_region: OnRegion | None = None) -> dict[str, Any]:
    """Run (or resume) a batch; return its summary (also written as ``summary.json``).

    Raises
    ------
    InputDataError
        Bad inputs or options (a one-line message naming the value and the fix).
    """
    started = time.perf_counter()
    _check(cfg)
    try:
        halo = make_halo(cfg.params, cfg.horizon_min)
    except ValueError as exc:
        raise InputDataError(str(exc)) from exc
    regions = read_regions(cfg.regions, cfg.region_id_column)  # bad regions fail before writing
    out = staging_dir(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    key = inputs_digest({"osm": cfg.osm, "regions": cfg.regions, "facilities": cfg.facilities,
                         "units": cfg.units},
                        {"params": repr(cfg.params), "rules": repr(cfg.profile),
                         "horizon_s": halo.horizon_s, "halo_m": halo.halo_m, "coords": cfg.coords,
                         "units_coords": cfg.units_coords, "id_column": cfg.region_id_column})
    with ExitStack() as stack:
        cluster = Cluster(cfg, say, stack)
        manifest = _cut(cfg, regions, out, halo, key, say, cluster)
        big = large_regions({r: e["nodes"] for r, e in manifest["regions"].items()})
        if big:
            say(f"large regions (> 4x the median node count; split them for even load): {big}")
        jobs, skipped = _jobs(cfg, out, manifest, halo, key)
        say(f"regions: {len(jobs)} to run, {len(skipped)} complete and unchanged (skipped)")
        clock = time.perf_counter()
        ran = _execute(cfg, jobs, cluster, on_region)
        regions_s = time.perf_counter() - clock
        summary = merge_outputs(out, manifest, ran + skipped, cfg, halo, big, cluster.client)
        merge_s = time.perf_counter() - clock - regions_s
    summary.update({"cluster": cluster.info, "wall_s": round(time.perf_counter() - started, 3),
                    "timings_s": {"prepare": round(clock - started, 3),
                                  "regions": round(regions_s, 3), "merge": round(merge_s, 3)},
                    "ran": len(ran), "skipped": len(skipped), **cfg.extra})
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1,
                                                 default=str), "utf-8")
    if out != Path(cfg.out):
        upload(out, cfg.out)
    return summary


def default_scheduler() -> str | None:
    """The scheduler address in ``CAREPLAN_DASK_SCHEDULER``, or ``None`` for a LocalCluster."""
    return os.environ.get("CAREPLAN_DASK_SCHEDULER") or None
