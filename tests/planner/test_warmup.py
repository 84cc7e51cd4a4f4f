"""The what-if warm-up compiles every kernel with the argument types of a real what-if: after it,
an add and a removal on the Chengdu extract compile nothing more (numba keeps one signature per
set of argument types, so a new one means the first real what-if would compile again)."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import ModuleType

import geopandas as gpd
import numpy as np

from planner.coverage import patch_kernels
from planner.errors import DataQualityWarning
from planner.io.catalogue import read_catalogue
from planner.io.osm import read_osm_file
from planner.params import PlanParams
from planner.pipeline import run_plan
from planner.routing import heap_kernels
from planner.schema import WGS84, PlanInputs
from planner.warmup import warm_up
from planner.whatif import (
    FacilityChange,
    Scenario,
    apply_scenario,
    point_kernels,
    state_from_result,
)

#: The kernels a what-if calls from Python (the others are called from inside these).
ENTRY = {heap_kernels: ("grow", "refill"), patch_kernels: ("unit_rows", "points_near"),
         point_kernels: ("leg_times", "changed_points")}


def _signatures() -> dict[str, int]:
    mods: dict[ModuleType, tuple[str, ...]] = ENTRY
    return {f"{m.__name__}.{n}": len(getattr(m, n).signatures) for m, names in mods.items()
            for n in names}


def test_warm_up_compiles_what_a_real_what_if_needs(chengdu_osm: Path) -> None:
    assert warm_up() > 0
    after_warm = _signatures()
    assert all(n >= 1 for n in after_warm.values()), after_warm
    ext = read_osm_file(chengdu_osm, read_catalogue())
    rng = np.random.default_rng(3)
    lon = rng.uniform(104.06, 104.08, 20)
    lat = rng.uniform(30.65, 30.67, 20)
    fac = gpd.GeoDataFrame({"facility_id": [f"c{i}" for i in range(20)],
                            "name": [f"c{i}" for i in range(20)], "type": "day_care",
                            "capacity": np.nan}, geometry=gpd.points_from_xy(lon, lat), crs=WGS84)
    units = gpd.GeoDataFrame({"unit_id": ["u1"], "name": ["u1"], "older_pop": [500.0],
                              "settlement": ["urban"]},
                             geometry=gpd.points_from_xy([104.07], [30.66]), crs=WGS84)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        result = run_plan(PlanInputs(ext.network, fac, units, None, ext.study_area, "chengdu"),
                          PlanParams(), max_catchment_facilities=0)
    state = state_from_result(result)
    add = FacilityChange("new", 104.071, 30.661, "day_care")
    apply_scenario(state, Scenario("add", add=(add,)))
    apply_scenario(state, Scenario("rm", remove=("c3",)))
    assert _signatures() == after_warm  # nothing compiled for the real network
