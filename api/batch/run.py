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

from api.batch.cluster import Cluster
from api.batch.config import BatchConfig
from api.batch.inputs import cut_area
from api.batch.outputs import merge_outputs, safe_name, staging_dir, upload
from api.batch.task import MARKER, RegionJob, run_region
from planner.batch.regions import Halo, large_regions, make_halo
from planner.errors import InputDataError
from planner.io.region_parts import inputs_digest, read_regions

Say = Callable[[str], None]
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
    cut = cut_area(cfg, regions, out / "_parts", halo.halo_m, cluster, say)
    if cut.hierarchy is not None:
        cut.hierarchy.to_csv(out / "_parts" / "hierarchy.csv", index=False)
    cut_s = time.perf_counter() - started
    detail = {"read": round(cut.read_s, 3), "parts": round(cut_s - cut.read_s, 3)}
    names = dict(zip(regions["region_id"], regions["region_name"], strict=True))
    manifest = {"key": key, "regions": cut.entries, "cut_s": round(cut_s, 3),
                "cut_detail_s": detail, "nodes_total": cut.nodes_total, "crs": cut.crs,
                "network_facts": cut.facts_file,
                "region_names": names}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
    say(f"parts: cut {cut.nodes_total} nodes into {len(cut.entries)} region parts "
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
    # largest first (Dask runs tasks in submission order): the last tasks are short ones, so
    # workers finish together instead of one running a big region alone at the end
    by_size = sorted(manifest["regions"].items(), key=lambda item: -int(item[1]["nodes"]))
    for region_id, entry in by_size:
        region_key = hashlib.sha256(f"{key}:{entry['sha256']}".encode()).hexdigest()
        region_dir = out / "regions" / safe_name(region_id)
        done = _is_done(region_dir, region_key) if cfg.resume else None
        if done is not None:
            skipped.append({**done, "status": "ok", "resumed": True})
            continue
        facts = manifest.get("network_facts")
        jobs.append(RegionJob(region_id, str(out / "_parts" / entry["file"]), str(region_dir),
                              region_key, cfg.params, cfg.profile, halo.horizon_s,
                              str(out / "_parts" / facts) if facts else None))
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
        cluster = Cluster(cfg.scheduler, cfg.workers, say, stack)
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
