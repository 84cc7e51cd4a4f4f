"""Merged batch outputs: tables, GeoPackage or partitioned GeoParquet, status and summary."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from api.batch.config import BatchConfig
from planner.batch.merge import RegionTables, merge_regions, merged_compliance, merged_rollup
from planner.batch.regions import Halo
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
    if decimals is not None:
        frame = round_populations(frame, decimals)
    return lambda path: frame.to_csv(path, index=False, encoding="utf-8-sig")


def _region_tables(folder: Path, region_id: str) -> RegionTables:
    def csv(name: str) -> pd.DataFrame:
        return pd.read_csv(folder / name, dtype=_IDS, encoding="utf-8-sig")

    return RegionTables(region_id, csv("coverage.csv"), csv("coverage_thresholds.csv"),
                        gpd.read_parquet(folder / "units.parquet"),
                        gpd.read_parquet(folder / "facilities.parquet"))


def _geo_writer(layers: dict[str, gpd.GeoDataFrame], fmt: str) -> tuple[str, Callable[[Path], None]]:
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
                  cfg: BatchConfig, halo: Halo, large: list[str]) -> dict[str, Any]:
    """Write the merged outputs of every finished region; return the run summary."""
    names = manifest.get("region_names", {})
    by_id = {s["region"]: s for s in statuses}
    ok = [r for r in manifest["regions"] if by_id.get(r, {}).get("status") == "ok"]
    parts = [_region_tables(out / "regions" / safe_name(r), r) for r in ok]
    merged = merge_regions(parts, cfg.params)
    hier_path = out / "_parts" / "hierarchy.csv"
    hierarchy = pd.read_csv(hier_path, dtype=str) if hier_path.is_file() else None
    lang = cfg.lang or cfg.profile.lang
    # populations at the inputs' precision, as in the files of one `careplan analyze`
    dec = input_decimals(merged.units[OLDER_POP]) + EXTRA_DECIMALS if len(merged.units) else None
    files: dict[str, Callable[[Path], None]] = {
        "coverage.csv": _csv(merged.coverage, dec),
        "coverage_thresholds.csv": _csv(merged.threshold_coverage, dec),
        "gaps.csv": _csv(merged.gaps, dec), "coverage_by_region.csv": _csv(merged.by_region, dec)}
    if len(merged.units):
        comp = merged_compliance(merged, cfg.profile, hierarchy, lang)
        files["compliance.csv"] = _csv(comp.per_unit)
        files["indicators.csv"] = _csv(comp.indicators)
        rollup = merged_rollup(merged, hierarchy)
        if rollup is not None:
            files["coverage_rollup.csv"] = _csv(rollup)  # unrounded, as in `analyze`
        name, writer = _geo_writer({"units": merged.units, "facilities": merged.facilities}, cfg.fmt)
        files[name] = writer
    rows = [{"region": r, "region_name": names.get(r, r), "resumed": False,
             **by_id.get(r, {"status": "missing", "error": "no result"})} for r in manifest["regions"]]
    files["batch_status.csv"] = _csv(pd.DataFrame(rows).reindex(columns=list(STATUS_COLUMNS)))
    for name, writer in files.items():
        _write(out / name, writer)
    failed = {r["region"]: r.get("error", "") for r in rows if r["status"] != "ok"}
    totals = merged.by_region[merged.by_region["region_id"] == "all"]
    return {
        "regions": len(rows), "ok": len(ok), "failed": len(failed), "missing_regions": failed,
        "complete": not failed, "units": len(merged.units), "facilities": len(merged.facilities),
        "nodes_total": manifest.get("nodes_total"), "crs": manifest.get("crs"),
        "cut_s": manifest.get("cut_s"), "large_regions": large,
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
