"""Compile the what-if kernels ahead of the first real scenario.

The kernels (:mod:`planner.routing.jit`) are compiled on their first call; on a machine whose
on-disk cache is empty that takes several seconds, and loading them from the cache a few
tenths of a second. :func:`warm_up` runs one add and one removal on the smallest synthetic
demo district, through the same code as a real what-if, so the kernels are compiled for the
argument types a real analysis passes (and the cache is written). The service's job
forkserver calls it at start-up, the Dockerfile at image build.
"""

from __future__ import annotations

import time
import warnings

import geopandas as gpd

from planner.errors import DataQualityWarning
from planner.params import PlanParams
from planner.pipeline import run_plan
from planner.schema import FACILITY_ID, FACILITY_TYPE, WGS84
from planner.synthetic.district import MIN_TARGET_NODES, build_demo_district
from planner.whatif import FacilityChange, Scenario, apply_scenario, state_from_result


def warm_up() -> float:
    """Run an add and a removal on a tiny synthetic district; the seconds it took."""
    start = time.perf_counter()
    inputs = build_demo_district(seed=1, target_nodes=MIN_TARGET_NODES, n_facilities=120)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        result = run_plan(inputs, PlanParams(), max_catchment_facilities=0)
        state = state_from_result(result)
        fac = result.facilities
        ftype = str(fac[FACILITY_TYPE].iat[0])
        site = gpd.GeoSeries(fac.geometry.iloc[[1]], crs=fac.crs).to_crs(WGS84).iloc[0]
        add = FacilityChange("warm_up_site", float(site.x), float(site.y), ftype)
        apply_scenario(state, Scenario("warm_up_add", add=(add,)))
        apply_scenario(state, Scenario("warm_up_remove", remove=(str(fac[FACILITY_ID].iat[0]),)))
    return time.perf_counter() - start


if __name__ == "__main__":  # python -m planner.warmup (the Dockerfile runs it at build)
    print(f"what-if kernels compiled and cached in {warm_up():.1f} s")  # noqa: T201
