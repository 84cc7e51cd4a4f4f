"""The files of a `careplan analyze` / `careplan demo` run: compliance, care map, tables, summary.

Written into one folder, all or nothing (:func:`planner.io.writers.write_run`). At city scale
the work overlaps on two cores: the GeoPackage is written by a forked child from the start, the
compliance evaluation runs meanwhile, then the care map is drawn by a second forked child
(after the evaluation, whose warnings become the map's banners) while this process writes
the CSV tables and the summary.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from planner.compliance.evaluate import ComplianceResult, evaluate_compliance
from planner.compliance.levels import provision_levels
from planner.compliance.rules import RuleProfile
from planner.coverage.hierarchy import build_hierarchy, roll_up
from planner.io.csv_text import write_csv
from planner.io.folder import hash_file
from planner.io.writers import GPKG_NAME, write_run
from planner.pipeline import PlanResult
from planner.schema import WGS84

if TYPE_CHECKING:
    import geopandas as gpd

    from maps.runtime import Lang

#: Files drawn by a forked child while this process writes the others.
FORKED: tuple[str, ...] = (GPKG_NAME, "care_map.html")
#: Names of the recorded ``analyze`` arguments (``careplan site/whatif`` rebuild the run).
RECORDED_ARGS = ("osm", "place", "bbox", "facilities", "coords", "units", "units_coords",
                 "rules", "residential", "older_share", "population_grid_m")


@dataclasses.dataclass
class Compliance:
    """The compliance evaluation, done once when first needed; its warnings join the run's."""

    result: PlanResult
    profile: RuleProfile
    lang: str
    hierarchy: pd.DataFrame | None
    residential: gpd.GeoDataFrame | None
    args: argparse.Namespace
    seconds: dict[str, float] | None = None
    _done: ComplianceResult | None = None

    def get(self) -> ComplianceResult:
        """Evaluate (first call) and return the compliance tables."""
        if self._done is None:
            clock = time.perf_counter()
            self._done = evaluate_compliance(
                self.profile, units=self.result.units.to_crs(WGS84),
                facilities=self.result.facilities.to_crs(WGS84), coverage=self.result.coverage,
                hierarchy=self.hierarchy, lang=self.lang, residential=self.residential,
                year=getattr(self.args, "year", None),
                include_assumptions=bool(getattr(self.args, "assumptions", False)))
            for line in self._done.warnings:
                self.result.warnings.add("indicators", 1, line)
            if self.seconds is not None:
                self.seconds["compliance (evaluated)"] = time.perf_counter() - clock
        return self._done


def _profile_for(args: argparse.Namespace, profile: RuleProfile) -> RuleProfile:
    if getattr(args, "target_share", None) is None:
        return profile
    return dataclasses.replace(
        profile, coverage=dataclasses.replace(profile.coverage, target_share=args.target_share),
        target_share_source="--target-share on the command line")


def _recorded(args: argparse.Namespace, result: PlanResult) -> dict[str, object]:
    """What `careplan site/whatif` need to rebuild this run exactly (cache dir not needed)."""
    recorded: dict[str, object] = {k: (None if getattr(args, k, None) is None
                                       else str(getattr(args, k))) for k in RECORDED_ARGS}
    recorded["dem"] = result.params.walk.dem or None  # --dem, else the profile's [walk] dem
    recorded["population"] = [str(p) for p in getattr(args, "population", None) or []]
    recorded["population_band"] = list(getattr(args, "population_band", None) or [])
    return recorded


def _table(frame: pd.DataFrame | Callable[[], pd.DataFrame]) -> Callable[[Path], None]:
    return lambda target: write_csv(frame() if callable(frame) else frame, target)


def _first_files(result: PlanResult, compliance: Compliance, args: argparse.Namespace,
                 background: gpd.GeoDataFrame | None) -> dict[str, Callable[[Path], None]]:
    """Compliance tables (evaluating it), then the care map (forked: it needs the warnings)."""
    from maps.assets import save_page
    from maps.compose import build_care_map

    def care_map(target: Path) -> None:
        compliance.get()  # its warnings are the map's banners (done before the fork)
        # --lang is zh/en; a profile's lang is any string, which build_care_map rejects
        save_page(build_care_map(result, lang=cast("Lang", compliance.lang),
                                 background=background,
                                 basemap=getattr(args, "basemap", "offline")), target)

    return {"compliance.csv": _table(lambda: compliance.get().per_unit),
            "indicators.csv": _table(lambda: compliance.get().indicators),
            "care_map.html": care_map}


def write_outputs(result: PlanResult, out: Path, args: argparse.Namespace, profile: RuleProfile,
                  started: float, loaded: Any = None, background: gpd.GeoDataFrame | None = None,
                  more_files: dict[str, Callable[[Path], None]] | None = None,
                  seconds: dict[str, float] | None = None) -> None:
    """Write every output of a run into ``out`` (all or nothing); ``seconds`` receives each
    file's writing time and the compliance evaluation's."""
    profile = _profile_for(args, profile)
    hierarchy = loaded.hierarchy if loaded is not None else None
    compliance = Compliance(result, profile, args.lang or profile.lang, hierarchy,
                            loaded.residential if loaded is not None else None, args, seconds)
    files = {**_first_files(result, compliance, args, background), **(more_files or {})}
    if len(result.residential_coverage):
        files["coverage_residential.csv"] = _table(result.residential_coverage)
    extra: dict[str, object] = {}
    if getattr(args, "older_adults", None) is not None:  # issue 14: public, suppressed counts
        from api.cli.needs_tables import needs_files

        needs, extra["older_adults"] = needs_files(result, args.older_adults,
                                                   getattr(args, "osm", None))
        files.update(needs)
    if loaded is not None:
        files["input_problems.csv"] = _table(loaded.problems)
        extra["input_files"] = loaded.files
        extra["analyze_args"] = _recorded(args, result)
    if hierarchy is None and "parent_id" in result.units.columns:
        hierarchy = build_hierarchy(pd.DataFrame(result.units.drop(columns="geometry")))
    if hierarchy is not None:
        files["coverage_rollup.csv"] = _table(roll_up(result.coverage, hierarchy))
        files["provision_levels.csv"] = _table(provision_levels(
            result.units.to_crs(WGS84), result.facilities.to_crs(WGS84), hierarchy,
            ("community_complex", "day_care", "meal_point", "service_station", "nursing_home")))
    write_run(result, out, extra={**extra, "run_time_s": round(time.perf_counter() - started, 2),
                                  "lang": compliance.lang, "rules_profile": profile.name,
                                  "rules_origin": profile.origin,
                                  "target_share_source": profile.target_share_source,
                                  "rules_sha256": _profile_digest(profile)},
              extra_files=files, seconds=seconds, forked=FORKED)


def _profile_digest(profile: RuleProfile) -> str:
    """sha256 of the profile file (its version for the manifest), or '' for a built-in mapping."""
    path = Path(profile.origin)
    return hash_file(path) if profile.origin and path.is_file() else ""
