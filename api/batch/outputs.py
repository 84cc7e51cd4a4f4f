"""Merged batch outputs: tables, GeoPackage or partitioned GeoParquet, status and summary."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from api.batch.config import BatchConfig
from api.batch.merged import merge_here, merge_on, write_csv
from planner.batch.regions import Halo
from planner.errors import InputDataError

STATUS_COLUMNS = ("region", "region_name", "status", "seconds", "peak_memory_mb", "nodes", "units",
                  "facilities", "resumed", "error")


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


def merge_outputs(out: Path, manifest: dict[str, Any], statuses: list[dict[str, Any]],
                  cfg: BatchConfig, halo: Halo, large: list[str],
                  client: Any = None) -> dict[str, Any]:
    """Write the merged outputs of every finished region; return the run summary.

    With a Dask ``client`` the merged tables are built and written on the cluster
    (``api.batch.merged``); this process gets only the counts and per-region totals.
    """
    names = manifest.get("region_names", {})
    by_id = {s["region"]: s for s in statuses}
    ok = [r for r in manifest["regions"] if by_id.get(r, {}).get("status") == "ok"]
    hier_path = out / "_parts" / "hierarchy.csv"
    hierarchy = pd.read_csv(hier_path, dtype=str) if hier_path.is_file() else None
    folders = [(out / "regions" / safe_name(r), r) for r in ok]
    merged = (merge_here(out, folders, cfg, hierarchy) if client is None
              else merge_on(client, out, folders, cfg, hierarchy))
    rows = [{"region": r, "region_name": names.get(r, r), "resumed": False,
             **by_id.get(r, {"status": "missing", "error": "no result"})}
            for r in manifest["regions"]]
    write_csv(out, "batch_status.csv", pd.DataFrame(rows).reindex(columns=list(STATUS_COLUMNS)))
    failed = {r["region"]: r.get("error", "") for r in rows if r["status"] != "ok"}
    totals = merged.by_region[merged.by_region["region_id"] == "all"]
    return {
        "regions": len(rows), "ok": len(ok), "failed": len(failed), "missing_regions": failed,
        "complete": not failed, "units": merged.units, "facilities": merged.facilities,
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
