"""Merged batch outputs: tables, GeoPackage or partitioned GeoParquet, status and summary."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from api.batch.cluster import results_or_local
from api.batch.config import BatchConfig
from planner.batch.merge import (
    Merged,
    RegionTables,
    merge_regions,
    merged_compliance,
    merged_rollup,
)
from planner.batch.regions import Halo
from planner.compliance.rules import RuleProfile
from planner.errors import InputDataError
from planner.io.rounding import EXTRA_DECIMALS, input_decimals, round_populations
from planner.schema import OLDER_POP

STATUS_COLUMNS = ("region", "region_name", "status", "seconds", "peak_memory_mb", "nodes", "units",
                  "facilities", "resumed", "error")
_IDS = {"unit_id": str, "nearest_facility_id": str, "facility_id": str}


def staging_dir(out: str) -> Path:
    """The local folder a run writes to: ``out`` itself, or a cache folder for an fsspec URL."""
    if "://" not in out:
        return Path(out)
    if importlib_missing("fsspec"):
        msg = f"--out {out} is a URL but fsspec is not installed; pip install fsspec (and s3fs …)"
        raise InputDataError(msg)
    name = hashlib.sha256(out.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"careplan-batch-{name}"


def safe_name(region_id: str) -> str:
    """A file-name-safe form of a region id (hash suffix when characters were replaced)."""
    clean = "".join(c if c.isalnum() or c in "-_." else "_" for c in region_id)
    if clean == region_id:
        return clean
    return f"{clean}_{hashlib.sha256(region_id.encode()).hexdigest()[:8]}"


def importlib_missing(module: str) -> bool:
    """True when ``module`` cannot be imported."""
    import importlib.util

    return importlib.util.find_spec(module) is None


def upload(local: Path, url: str) -> None:
    """Copy the finished run folder to an fsspec URL (part files stay in the local cache)."""
    import fsspec

    fs, root = fsspec.core.url_to_fs(url)
    for path in sorted(local.rglob("*")):
        if path.is_file() and "_parts" not in path.relative_to(local).parts:
            target = f"{root.rstrip('/')}/{path.relative_to(local).as_posix()}"
            fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
            fs.put_file(str(path), target)


def _write(path: Path, writer: Callable[[Path], None]) -> None:
    """Write via a temporary file and rename, so no half-written file is left."""
    tmp = path.with_name(f".tmp-{path.name}")
    if tmp.is_dir():
        shutil.rmtree(tmp)
    writer(tmp)
    if path.is_dir():
        shutil.rmtree(path)
    os.replace(tmp, path)


def _csv(frame: pd.DataFrame, decimals: int | None = None) -> Callable[[Path], None]:
    """A CSV writer; ``decimals`` rounds the ``*_pop`` columns as ``careplan analyze`` does."""
    def write(path: Path) -> None:
        rounded = round_populations(frame, decimals) if decimals is not None else frame
        rounded.to_csv(path, index=False, encoding="utf-8-sig")
    return write


def _write_csv(out: Path, name: str, frame: pd.DataFrame, decimals: int | None = None) -> None:
    _write(out / name, _csv(frame, decimals))


def _table_file(out: Path, merged: Merged, attr: str, name: str, decimals: int | None) -> None:
    _write_csv(out, name, getattr(merged, attr), decimals)


def _compliance_files(out: Path, merged: Merged, profile: RuleProfile,
                      hierarchy: pd.DataFrame | None, lang: str) -> None:
    comp = merged_compliance(merged, profile, hierarchy, lang)
    _write_csv(out, "compliance.csv", comp.per_unit)
    _write_csv(out, "indicators.csv", comp.indicators)


def _rollup_file(out: Path, merged: Merged, hierarchy: pd.DataFrame | None) -> None:
    rollup = merged_rollup(merged, hierarchy)
    if rollup is not None:
        _write_csv(out, "coverage_rollup.csv", rollup)  # unrounded, as in `analyze`


def _geo_file(out: Path, merged: Merged, fmt: str) -> None:
    name, writer = _geo_writer({"units": merged.units, "facilities": merged.facilities}, fmt)
    _write(out / name, writer)


def _merged_files(out: Path, merged: Merged, cfg: BatchConfig, hierarchy: pd.DataFrame | None,
                  client: Any) -> None:
    """Compute and write the merged files, as tasks on the cluster when ``client`` is given.

    Compliance, roll-up, the geodata and each large table are independent jobs, so with more
    than one worker they run side by side (the largest first).
    """
    # populations at the inputs' precision, as in the files of one `careplan analyze`
    dec = input_decimals(merged.units[OLDER_POP]) + EXTRA_DECIMALS if len(merged.units) else None
    data: Any = merged if client is None else client.scatter(merged, hash=False)
    jobs: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
    if len(merged.units):
        jobs += [(_compliance_files, (data, cfg.profile, hierarchy, cfg.lang or cfg.profile.lang)),
                 (_geo_file, (data, cfg.fmt)), (_rollup_file, (data, hierarchy))]
    jobs += [(_table_file, (data, attr, f"{name}.csv", dec)) for name, attr in (
        ("coverage_thresholds", "threshold_coverage"), ("coverage", "coverage"),
        ("gaps", "gaps"), ("coverage_by_region", "by_region"))]
    if client is None:
        for fn, args in jobs:
            fn(out, *args)
        return
    futures = [client.submit(fn, out, *args, pure=False, key=f"careplan-merge-{fn.__name__}-{i}-"
                             f"{os.getpid()}-{id(merged)}") for i, (fn, args) in enumerate(jobs)]
    here = [partial(fn, out, *(merged if a is data else a for a in args)) for fn, args in jobs]
    results_or_local(futures, here)
    for future in [*futures, data]:
        future.release()


def _region_tables(folder: Path, region_id: str) -> RegionTables:
    def csv(name: str) -> pd.DataFrame:
        return pd.read_csv(folder / name, dtype=_IDS, encoding="utf-8-sig")

    return RegionTables(region_id, csv("coverage.csv"), csv("coverage_thresholds.csv"),
                        gpd.read_parquet(folder / "units.parquet"),
                        gpd.read_parquet(folder / "facilities.parquet"))


def _geo_writer(layers: dict[str, gpd.GeoDataFrame],
                fmt: str) -> tuple[str, Callable[[Path], None]]:
    if fmt == "gpkg":
        def gpkg(path: Path) -> None:
            for name, frame in layers.items():
                frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
        return "careplan.gpkg", gpkg

    def parquet(path: Path) -> None:  # hive-partitioned by region: <layer>/region_id=<id>/
        for name, frame in layers.items():
            for region_id, rows in frame.groupby("region_id", sort=True):
                target = path / name / f"region_id={region_id}"
                target.mkdir(parents=True, exist_ok=True)
                rows.drop(columns="region_id").to_parquet(target / "part-0.parquet")
    return "careplan_parquet", parquet


def merge_outputs(out: Path, manifest: dict[str, Any], statuses: list[dict[str, Any]],
                  cfg: BatchConfig, halo: Halo, large: list[str],
                  client: Any = None) -> dict[str, Any]:
    """Write the merged outputs of every finished region; return the run summary.

    With a Dask ``client`` the merged files are computed and written on the cluster.
    """
    names = manifest.get("region_names", {})
    by_id = {s["region"]: s for s in statuses}
    ok = [r for r in manifest["regions"] if by_id.get(r, {}).get("status") == "ok"]
    with ThreadPoolExecutor(4) as pool:  # parquet and CSV readers release the GIL
        parts = list(pool.map(lambda r: _region_tables(out / "regions" / safe_name(r), r), ok))
    merged = merge_regions(parts, cfg.params)
    hier_path = out / "_parts" / "hierarchy.csv"
    hierarchy = pd.read_csv(hier_path, dtype=str) if hier_path.is_file() else None
    _merged_files(out, merged, cfg, hierarchy, client)
    rows = [{"region": r, "region_name": names.get(r, r), "resumed": False,
             **by_id.get(r, {"status": "missing", "error": "no result"})}
            for r in manifest["regions"]]
    _write_csv(out, "batch_status.csv", pd.DataFrame(rows).reindex(columns=list(STATUS_COLUMNS)))
    failed = {r["region"]: r.get("error", "") for r in rows if r["status"] != "ok"}
    totals = merged.by_region[merged.by_region["region_id"] == "all"]
    return {
        "regions": len(rows), "ok": len(ok), "failed": len(failed), "missing_regions": failed,
        "complete": not failed, "units": len(merged.units), "facilities": len(merged.facilities),
        "nodes_total": manifest.get("nodes_total"), "crs": manifest.get("crs"),
        "cut_s": manifest.get("cut_s"), "cut_detail_s": manifest.get("cut_detail_s"),
        "large_regions": large,
        "halo": {"halo_m": round(halo.halo_m, 1), "horizon_min": halo.horizon_s / 60,
                 "speed_m_s": halo.speed_m_s, "max_snap_m": halo.max_snap_m,
                 "safety": halo.safety,
                 "note": "times beyond horizon_min are reported as not reached (NaN)"},
        "coverage": {str(t["facility_type"]): {"older_pop": float(t["older_pop"]),
                                               "covered_pop": float(t["covered_pop"]),
                                               "covered_share": float(t["covered_share"])}
                     for _, t in totals.iterrows()},
        "rules_profile": cfg.profile.name, "format": cfg.fmt, "out": cfg.out,
    }
