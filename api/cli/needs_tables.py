"""The ``--older-adults`` tables of `careplan demo/analyze`: public, suppressed counts only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner.io.older_adults import read_older_adults
from planner.io.places import read_everyday_catalogue, read_places
from planner.needs.aggregate import needs_gaps, public_coverage
from planner.needs.people import needs_coverage, person_times
from planner.needs.publish import publish_count
from planner.pipeline import PlanResult


def places_of(osm: Path | None) -> gpd.GeoDataFrame | None:
    """Named places of the OSM file, for matching register addresses (None without a file)."""
    if osm is None or not Path(osm).is_file():
        return None
    return read_places(Path(osm), read_everyday_catalogue())


def needs_files(result: PlanResult, register: Path, osm: Path | None = None
                ) -> tuple[dict[str, Callable[[Path], None]], dict[str, object]]:
    """coverage_needs.csv and needs_gaps.csv writers (published counts) and a summary entry."""
    read = read_older_adults(register, units=result.units, places=places_of(osm))
    times = person_times(result, read.people)
    coverage = needs_coverage(result, read.people, times)

    def table(frame: pd.DataFrame) -> Callable[[Path], None]:
        return lambda target: frame.to_csv(target, index=False, encoding="utf-8-sig")

    files = {"coverage_needs.csv": table(public_coverage(coverage)),
             "needs_gaps.csv": table(needs_gaps(coverage))}
    info = {"people": publish_count(len(read.people)), "rows_with_problems": len(read.problems),
            "note": "counts published as '<5' or rounded to 5; personal records are not written"}
    return files, info
