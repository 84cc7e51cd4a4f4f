"""Shared fixtures for the map tests: a small PlanResult in Chengdu (session-scoped)."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from planner.errors import DataQualityWarning
from planner.params import PlanParams
from planner.pipeline import PlanResult, run_plan
from planner.schema import PlanInputs, RawNetwork

#: South-west corner of the test grid (WGS-84 degrees, central Chengdu).
LON0, LAT0 = 104.05, 30.64
#: Grid spacing in degrees (about 96 m east-west and 111 m north-south at this latitude).
STEP_DEG = 0.001
#: Nodes per side of the square grid.
N_SIDE = 21


def _grid_network() -> RawNetwork:
    """A ``N_SIDE`` x ``N_SIDE`` street grid with residential streets.

    ::

        (0,20) - (1,20) - ... - (20,20)
          |        |               |
        (0,0)  - (1,0)  - ... - (20,0)
    """
    ii, jj = np.meshgrid(np.arange(N_SIDE), np.arange(N_SIDE), indexing="xy")
    idx = (jj * N_SIDE + ii).ravel()
    lon = LON0 + ii.ravel() * STEP_DEG
    lat = LAT0 + jj.ravel() * STEP_DEG
    horiz = [(k, k + 1) for k in idx if k % N_SIDE < N_SIDE - 1]
    vert = [(k, k + N_SIDE) for k in idx if k < N_SIDE * (N_SIDE - 1)]
    uv = np.array(horiz + vert, dtype=np.int64)
    m = len(uv)
    return RawNetwork(
        node_id=idx.astype(np.int64) + 1000,
        lon=lon.astype(np.float64),
        lat=lat.astype(np.float64),
        edge_u=uv[:, 0],
        edge_v=uv[:, 1],
        edge_highway=np.array(["residential"] * m),
        edge_way_id=np.arange(m, dtype=np.int64),
    )


def _facilities() -> gpd.GeoDataFrame:
    """Facilities of four types, all in the west half so the east half has gaps."""
    rows = [
        ("f1", "日间照料中心一", "day_care", 30, 3, 3),
        ("f2", "日间照料中心二", "day_care", 20, 4, 15),
        ("f3", "老年食堂", "meal_point", None, 5, 5),
        ("f4", "社区卫生服务中心", "health", 50, 8, 10),
        ("f5", "敬老院", "nursing_home", 120, 2, 18),
    ]
    frame = pd.DataFrame(rows, columns=["facility_id", "name", "type", "capacity", "i", "j"])
    geom = [Point(LON0 + i * STEP_DEG + 2e-5, LAT0 + j * STEP_DEG + 3e-5)
            for i, j in zip(frame["i"], frame["j"], strict=True)]
    return gpd.GeoDataFrame(frame.drop(columns=["i", "j"]), geometry=geom, crs="EPSG:4326")


def _units() -> gpd.GeoDataFrame:
    """Four square units (2 x 2) covering the grid; the north-east one is rural."""
    half = (N_SIDE - 1) * STEP_DEG / 2
    rows, geoms = [], []
    for k, (di, dj) in enumerate(((0, 0), (1, 0), (0, 1), (1, 1))):
        x0, y0 = LON0 + di * half, LAT0 + dj * half
        geoms.append(box(x0, y0, x0 + half, y0 + half))
        rows.append({"unit_id": f"u{k + 1}", "name": f"社区{k + 1}", "older_pop": 400.0 + 100 * k,
                     "settlement": "rural" if k == 3 else "urban"})
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs="EPSG:4326")


def build_test_inputs() -> PlanInputs:
    """The small grid study area, labelled synthetic."""
    return PlanInputs(network=_grid_network(), facilities=_facilities(), units=_units(),
                      label="test grid", is_synthetic=True)


def _run(inputs: PlanInputs) -> PlanResult:
    """Run the pipeline; the data-quality warnings are deliberate in the test data."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return run_plan(inputs, PlanParams())


@pytest.fixture(scope="session")
def grid_result() -> PlanResult:
    """The small hand-made grid (5 facilities, 4 units): fast and fully known."""
    return _run(build_test_inputs())


@pytest.fixture(scope="session")
def plan_result() -> PlanResult:
    """The synthetic demo district (``planner.synthetic.district``), or the grid where it is absent."""
    try:
        from planner.synthetic.district import build_demo_district  # noqa: PLC0415
    except ImportError:
        return _run(build_test_inputs())
    return _run(build_demo_district())
