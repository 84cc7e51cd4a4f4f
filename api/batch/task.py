"""One region task (runs on a Dask worker): read its part, run the pipeline, keep its own rows."""

from __future__ import annotations

import contextlib
import ctypes
import json
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import psutil
import shapely

from planner.batch.parts import RegionPart
from planner.batch.pieces import NetworkFacts, with_facts
from planner.catchments.polygons import CatchmentParams
from planner.compliance.evaluate import evaluate_compliance
from planner.compliance.rules import RuleProfile
from planner.coverage.gaps import find_gaps
from planner.errors import DataQualityWarning, InputDataError
from planner.facilities import count_by_type
from planner.io.folder import write_folder_atomically
from planner.io.region_parts import load_own, read_part
from planner.network.graph import build_walk_network
from planner.params import PlanParams
from planner.pipeline import PlanResult, run_plan
from planner.schema import FACILITY_ID, FACILITY_TYPE, UNIT_ID, WGS84, PlanInputs

MARKER = "region.json"


@dataclass(frozen=True, slots=True)
class RegionJob:
    """What a worker needs for one region (all picklable)."""

    region_id: str
    part_path: str
    out_dir: str
    key: str
    params: PlanParams
    profile: RuleProfile
    horizon_s: float
    facts_path: str | None = None


def trim_freed_memory() -> None:
    """Give the heap memory freed by earlier tasks back to the system (glibc's ``malloc_trim``;
    elsewhere nothing), so that a task's peak memory counts its own data.

    The LocalCluster's workers run without Dask's fixed ``MALLOC_TRIM_THRESHOLD_``
    (:data:`api.batch.cluster.DROP_WORKER_ENV`), which keeps freed memory for reuse while a task
    runs; one trim per task returns it between tasks.
    """
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class PeakMemory:
    """Samples this process's resident memory in a thread; ``peak_mb`` is the largest seen."""

    def __init__(self, every_s: float = 0.02) -> None:
        self._proc = psutil.Process()
        self._stop = threading.Event()
        self.peak_mb = self._proc.memory_info().rss / 2**20
        self._thread = threading.Thread(target=self._run, args=(every_s,), daemon=True)

    def _run(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self.peak_mb = max(self.peak_mb, self._proc.memory_info().rss / 2**20)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._proc.memory_info().rss / 2**20)


def _check_streets(part: RegionPart) -> None:
    if part.network.n_edges == 0:
        box = ", ".join(f"{v:.4f}" for v in part.box)
        msg = (f"region {part.region_id}: no walkable street within its box ({box}); "
               "check that the region lies inside the OSM file")
        raise InputDataError(msg)


def _plan(part: RegionPart, job: RegionJob) -> PlanResult:
    network = build_walk_network(part.network, job.params.walk, crs=part.crs,
                                 main_nodes=part.main_nodes)
    inputs = PlanInputs(part.network, part.facilities.drop(columns="owned"), part.units,
                        part.residential, shapely.box(*part.box), label=part.region_id)
    return run_plan(inputs, job.params, network=network,
                    catchment_params=CatchmentParams(workers=1), max_catchment_facilities=0,
                    build_dissolved=False, compute_access=False, horizon_s=job.horizon_s)


def _own_rows(part: RegionPart, result: PlanResult) -> dict[str, pd.DataFrame]:
    owned = set(part.owned_unit_ids)
    own_fac = set(part.facilities.loc[part.facilities["owned"], FACILITY_ID].astype(str))
    units = result.units[result.units[UNIT_ID].astype(str).isin(owned)].to_crs(WGS84)
    fac = result.facilities[result.facilities[FACILITY_ID].astype(str).isin(own_fac)].to_crs(WGS84)
    cov = result.coverage[result.coverage["unit_id"].astype(str).isin(owned)]
    thr = result.threshold_coverage[result.threshold_coverage["unit_id"].astype(str).isin(owned)]
    params = result.params.coverage
    gaps = find_gaps(cov, required_types=params.required_types, target_share=params.target_share,
                     facility_counts=count_by_type(fac[FACILITY_TYPE].tolist()))
    return {"units": units, "facilities": fac, "coverage": cov, "thresholds": thr, "gaps": gaps}


def _no_units(part: RegionPart) -> dict[str, pd.DataFrame]:
    """The kept rows of a region without units: empty tables, its own facilities."""
    fac = part.facilities[part.facilities["owned"]].drop(columns="owned").reset_index(drop=True)
    units = gpd.GeoDataFrame({UNIT_ID: pd.Series(dtype=str)}, geometry=[], crs=WGS84)
    empty = pd.DataFrame({"unit_id": pd.Series(dtype=str)})
    return {"units": units, "facilities": fac, "coverage": empty, "thresholds": empty,
            "gaps": empty}


def _csv(frame: pd.DataFrame) -> Any:
    return lambda path: frame.to_csv(path, index=False, encoding="utf-8-sig")


def _geo(frame: gpd.GeoDataFrame) -> Any:
    return lambda path: frame.to_parquet(path)


def _table(frame: pd.DataFrame) -> Any:
    """A parquet copy of a table for the merge (read back exactly, and faster than CSV)."""
    return lambda path: frame.reset_index(drop=True).to_parquet(path, index=False)


def run_region(job: RegionJob) -> dict[str, Any]:
    """Run one region and write its folder atomically; return its status row.

    Raises
    ------
    Exception
        Whatever the pipeline raises (Dask retries the task, then the run records it failed).
    """
    started = time.perf_counter()
    trim_freed_memory()
    with PeakMemory() as mem, warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # counted in region.json instead
        part = read_part(Path(job.part_path))
        if job.facts_path is not None:  # a part put together from pieces (api.batch.pieces)
            part = with_facts(part, load_own(Path(job.facts_path), NetworkFacts))
        _check_streets(part)
        if part.owned_unit_ids:
            result = _plan(part, job)
            rows, notes = _own_rows(part, result), dict(result.summary)
            notes["warnings"] = list(result.warnings.entries)
        else:  # no unit inside: nothing to measure; its facilities still count in the merge
            rows, notes = _no_units(part), {"note": "no unit inside this region"}
        comp = evaluate_compliance(job.profile, units=rows["units"], facilities=rows["facilities"],
                                   coverage=rows["coverage"], lang=job.profile.lang)
    seconds = time.perf_counter() - started
    status = {"region": job.region_id, "status": "ok", "seconds": round(seconds, 3),
              "peak_memory_mb": round(mem.peak_mb, 1), "nodes": part.network.n_nodes,
              "units": len(rows["units"]), "facilities": len(rows["facilities"]), "error": ""}
    info = {"key": job.key, "status": status, "box": list(part.box), "summary": notes}

    def write_info(path: Path) -> None:
        path.write_text(json.dumps(info, ensure_ascii=False, indent=1, default=str), "utf-8")

    write_folder_atomically(Path(job.out_dir), {
        "coverage.csv": _csv(rows["coverage"]), "coverage_thresholds.csv": _csv(rows["thresholds"]),
        "coverage.parquet": _table(rows["coverage"]),
        "coverage_thresholds.parquet": _table(rows["thresholds"]),
        "gaps.csv": _csv(rows["gaps"]), "compliance.csv": _csv(comp.per_unit),
        "indicators.csv": _csv(comp.indicators), "units.parquet": _geo(rows["units"]),
        "facilities.parquet": _geo(rows["facilities"]), MARKER: write_info}, marker=MARKER,
        what="batch region")
    return status
