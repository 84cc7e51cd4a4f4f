"""Merged batch files: the regions' tables merged and written as tasks on the cluster.

One task reads the finished regions' tables from their folders and merges them
(:func:`read_merged`); the merged tables stay on that worker (and are copied worker to worker
where needed), never sent to the starting process, which gets only the counts and per-region
totals (:class:`MergedFacts`). Each merged file (compliance and indicators, the geodata, the
roll-up, each large table) is then its own task, side by side, the largest first.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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
from planner.compliance.rules import RuleProfile
from planner.io.rounding import EXTRA_DECIMALS, input_decimals, round_populations
from planner.params import PlanParams
from planner.schema import OLDER_POP

_IDS = {"unit_id": str, "nearest_facility_id": str, "facility_id": str}
Folders = list[tuple[Path, str]]
Job = tuple[Callable[..., None], tuple[Any, ...]]


def write_atomically(path: Path, writer: Callable[[Path], None]) -> None:
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


def write_csv(out: Path, name: str, frame: pd.DataFrame, decimals: int | None = None) -> None:
    write_atomically(out / name, _csv(frame, decimals))


def _table_file(out: Path, merged: Merged, attr: str, name: str) -> None:
    """One merged table, populations at the inputs' precision (as ``careplan analyze``)."""
    units = merged.units
    dec = input_decimals(units[OLDER_POP]) + EXTRA_DECIMALS if len(units) else None
    write_csv(out, name, getattr(merged, attr), dec)


def _compliance_files(out: Path, merged: Merged, profile: RuleProfile,
                      hierarchy: pd.DataFrame | None, lang: str) -> None:
    comp = merged_compliance(merged, profile, hierarchy, lang)
    write_csv(out, "compliance.csv", comp.per_unit)
    write_csv(out, "indicators.csv", comp.indicators)


def _rollup_file(out: Path, merged: Merged, hierarchy: pd.DataFrame | None) -> None:
    rollup = merged_rollup(merged, hierarchy)
    if rollup is not None:
        write_csv(out, "coverage_rollup.csv", rollup)  # unrounded, as in `analyze`


def _geo_file(out: Path, merged: Merged, fmt: str) -> None:
    name, writer = _geo_writer({"units": merged.units, "facilities": merged.facilities}, fmt)
    write_atomically(out / name, writer)


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


def _region_tables(folder: Path, region_id: str) -> RegionTables:
    def table(name: str) -> pd.DataFrame:
        if not (folder / f"{name}.parquet").is_file():  # region folders of earlier versions
            return pd.read_csv(folder / f"{name}.csv", dtype=_IDS, encoding="utf-8-sig")
        frame = pd.read_parquet(folder / f"{name}.parquet")
        for column in set(_IDS).intersection(frame.columns):  # ids as text, as from the CSV
            frame[column] = frame[column].where(frame[column].isna(), frame[column].astype(str))
        return frame

    return RegionTables(region_id, table("coverage"), table("coverage_thresholds"),
                        gpd.read_parquet(folder / "units.parquet"),
                        gpd.read_parquet(folder / "facilities.parquet"))


def read_merged(folders: Folders, params: PlanParams) -> Merged:
    """Read the finished regions' tables (4 threads) and merge them."""
    with ThreadPoolExecutor(4) as pool:  # parquet and CSV readers release the GIL
        parts = list(pool.map(lambda item: _region_tables(*item), folders))
    return merge_regions(parts, params)


@dataclass(frozen=True, slots=True)
class MergedFacts:
    """What the run summary needs of the merged tables (small)."""

    units: int
    facilities: int
    by_region: pd.DataFrame


def merged_facts(merged: Merged) -> MergedFacts:
    """The counts and per-region totals of the merged tables."""
    return MergedFacts(len(merged.units), len(merged.facilities), merged.by_region)


def _jobs(merged: Any, cfg: BatchConfig, hierarchy: pd.DataFrame | None,
          has_units: bool) -> list[Job]:
    """The merged files' jobs, the largest first."""
    jobs: list[Job] = [(_table_file, (merged, "threshold_coverage", "coverage_thresholds.csv"))]
    if has_units:
        lang = cfg.lang or cfg.profile.lang
        jobs += [(_compliance_files, (merged, cfg.profile, hierarchy, lang)),
                 (_geo_file, (merged, cfg.fmt)), (_rollup_file, (merged, hierarchy))]
    return jobs + [(_table_file, (merged, attr, f"{name}.csv")) for name, attr in (
        ("coverage", "coverage"), ("gaps", "gaps"), ("coverage_by_region", "by_region"))]


def merge_here(out: Path, folders: Folders, cfg: BatchConfig,
               hierarchy: pd.DataFrame | None) -> MergedFacts:
    """Merge and write every merged file in this process."""
    merged = read_merged(folders, cfg.params)
    for fn, args in _jobs(merged, cfg, hierarchy, len(merged.units) > 0):
        fn(out, *args)
    return merged_facts(merged)


def merge_on(client: Any, out: Path, folders: Folders, cfg: BatchConfig,
             hierarchy: pd.DataFrame | None) -> MergedFacts:
    """Merge and write every merged file as tasks; a task lost with its worker runs here."""
    stamp = f"{os.getpid()}-{time.time_ns()}"
    cache: list[Merged] = []

    def local() -> Merged:
        if not cache:
            cache.append(read_merged(folders, cfg.params))
        return cache[0]

    merged = client.submit(read_merged, folders, cfg.params, pure=False,
                           key=f"careplan-merge-read-{stamp}")
    facts_task = client.submit(merged_facts, merged, pure=False,
                               key=f"careplan-merge-facts-{stamp}")
    facts: MergedFacts = results_or_local([facts_task], [lambda: merged_facts(local())])[0]
    jobs = _jobs(merged, cfg, hierarchy, facts.units > 0)
    futures = [client.submit(fn, out, *args, pure=False,
                             key=f"careplan-merge-{fn.__name__}-{i}-{stamp}")
               for i, (fn, args) in enumerate(jobs)]

    def here(fn: Callable[..., None], args: tuple[Any, ...]) -> Callable[[], None]:
        return lambda: fn(out, *(local() if a is merged else a for a in args))

    results_or_local(futures, [here(fn, args) for fn, args in jobs])
    for future in [*futures, facts_task, merged]:
        future.release()
    return facts
