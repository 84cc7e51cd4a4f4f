"""Merged batch files: the regions' tables merged and written as tasks on the cluster.

Each merged file (threshold coverage; compliance and indicators; the roll-up; the geodata;
coverage, gaps and per-region totals) is one task that reads the region tables it needs from
the regions' folders (parquet copies written by the region tasks) and merges them itself
(:func:`merge_job`), so the tasks run side by side, the largest first, and nothing large goes
through the scheduler or the starting process, which reads only the row counts and population
decimals and gets back the per-region totals (:class:`MergedFacts`).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from api.batch.cluster import results_or_local
from api.batch.config import BatchConfig
from planner.batch.merge import (
    TABLES,
    Merged,
    RegionTables,
    merge_regions,
    merged_compliance,
    merged_rollup,
)
from planner.compliance.rules import RuleProfile
from planner.io.rounding import EXTRA_DECIMALS, input_decimals, round_populations
from planner.params import PlanParams
from planner.schema import OLDER_POP, WGS84

_IDS = {"unit_id": str, "nearest_facility_id": str, "facility_id": str}
Folders = list[tuple[Path, str]]
Job = tuple[Callable[..., Any], frozenset[str], tuple[Any, ...]]


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


def _table_file(out: Path, merged: Merged, attr: str, name: str, dec: int | None) -> None:
    write_csv(out, name, getattr(merged, attr), dec)


def _coverage_files(out: Path, merged: Merged, dec: int | None) -> pd.DataFrame:
    """Coverage, gaps and per-region totals; returns the totals (for the run summary)."""
    for name, attr in (("coverage", "coverage"), ("gaps", "gaps"),
                       ("coverage_by_region", "by_region")):
        write_csv(out, f"{name}.csv", getattr(merged, attr), dec)
    return merged.by_region


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


def _region_tables(folder: Path, region_id: str, tables: frozenset[str]) -> RegionTables:
    def table(name: str) -> pd.DataFrame:
        if name.removeprefix("coverage_") not in tables:
            return pd.DataFrame()
        if not (folder / f"{name}.parquet").is_file():  # region folders of earlier versions
            return pd.read_csv(folder / f"{name}.csv", dtype=_IDS, encoding="utf-8-sig")
        frame = pd.read_parquet(folder / f"{name}.parquet")
        for column in set(_IDS).intersection(frame.columns):  # ids as text, as from the CSV
            frame[column] = frame[column].where(frame[column].isna(), frame[column].astype(str))
        return frame

    def geo(name: str) -> gpd.GeoDataFrame:
        if name not in tables:
            return gpd.GeoDataFrame(geometry=[], crs=WGS84)
        # the region task wrote it in WGS-84: decoding the WKB here is 3x faster than
        # geopandas' reader, which parses the file's CRS every time
        frame = pd.read_parquet(folder / f"{name}.parquet")
        geometry = shapely.from_wkb(frame.pop("geometry").to_numpy())
        return gpd.GeoDataFrame(frame, geometry=geometry, crs=WGS84)

    return RegionTables(region_id, table("coverage"), table("coverage_thresholds"), geo("units"),
                        geo("facilities"))


def read_merged(folders: Folders, params: PlanParams, tables: frozenset[str] = TABLES) -> Merged:
    """Read the finished regions' ``tables`` (4 threads) and merge them."""
    with ThreadPoolExecutor(4) as pool:  # parquet and CSV readers release the GIL
        parts = list(pool.map(lambda item: _region_tables(item[0], item[1], tables), folders))
    return merge_regions(parts, params, tables)


@dataclass(frozen=True, slots=True)
class MergedFacts:
    """What the run summary needs of the merged tables (small)."""

    units: int
    facilities: int
    by_region: pd.DataFrame


def _counts_and_decimals(folders: Folders) -> tuple[int, int, int | None]:
    """Units and facilities of the regions (parquet metadata) and the population decimals."""
    import pyarrow.parquet as pq

    rows = {f: pq.read_metadata(f / "units.parquet").num_rows for f, _ in folders}
    fac = sum(pq.read_metadata(f / "facilities.parquet").num_rows for f, _ in folders)
    if not sum(rows.values()):
        return 0, fac, None
    pops = pd.concat([pd.read_parquet(f / "units.parquet", columns=[OLDER_POP])
                      for f, n in rows.items() if n])  # a region without units has no columns
    # populations at the inputs' precision, as in the files of one `careplan analyze`
    return sum(rows.values()), fac, input_decimals(pops[OLDER_POP]) + EXTRA_DECIMALS


def _jobs(cfg: BatchConfig, hierarchy: pd.DataFrame | None, has_units: bool,
          dec: int | None) -> list[Job]:
    """The merged files' jobs (function, tables it reads, arguments), the largest first."""
    jobs: list[Job] = [(_table_file, frozenset({"thresholds"}),
                        ("threshold_coverage", "coverage_thresholds.csv", dec))]
    if has_units:
        lang = cfg.lang or cfg.profile.lang
        jobs += [(_compliance_files, TABLES - {"thresholds"}, (cfg.profile, hierarchy, lang)),
                 # the units only for their parent ids when there is no units-file hierarchy
                 (_rollup_file, frozenset({"coverage"} | ({"units"} if hierarchy is None
                                                          else set())), (hierarchy,)),
                 (_geo_file, frozenset({"units", "facilities"}), (cfg.fmt,))]
    return [*jobs, (_coverage_files, frozenset({"coverage", "facilities"}), (dec,))]


def merge_job(out: Path, folders: Folders, params: PlanParams, fn: Callable[..., Any],
              tables: frozenset[str], args: tuple[Any, ...]) -> Any:
    """Read and merge the ``tables`` the job needs, then write its files (one task)."""
    return fn(out, read_merged(folders, params, tables), *args)


def merge_here(out: Path, folders: Folders, cfg: BatchConfig,
               hierarchy: pd.DataFrame | None) -> MergedFacts:
    """Merge and write every merged file in this process (the tables read once)."""
    n_units, n_fac, dec = _counts_and_decimals(folders)
    merged = read_merged(folders, cfg.params)
    results = [fn(out, merged, *args) for fn, _, args in _jobs(cfg, hierarchy, n_units > 0, dec)]
    return MergedFacts(n_units, n_fac, results[-1])


def merge_on(client: Any, out: Path, folders: Folders, cfg: BatchConfig,
             hierarchy: pd.DataFrame | None) -> MergedFacts:
    """Merge and write every merged file as tasks, each reading the region tables it needs
    from disk (nothing large goes through the scheduler); a lost task runs here."""
    stamp = f"{os.getpid()}-{time.time_ns()}"
    n_units, n_fac, dec = _counts_and_decimals(folders)
    jobs = _jobs(cfg, hierarchy, n_units > 0, dec)
    futures = [client.submit(merge_job, out, folders, cfg.params, fn, tables, args, pure=False,
                             key=f"careplan-merge-{fn.__name__}-{i}-{stamp}")
               for i, (fn, tables, args) in enumerate(jobs)]
    results = results_or_local(futures, [partial(merge_job, out, folders, cfg.params, *job)
                                         for job in jobs])
    for future in futures:
        future.release()
    return MergedFacts(n_units, n_fac, results[-1])
