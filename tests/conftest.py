"""Shared fixtures: hand-computable graphs, random graphs, the Chengdu extract, default params."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from planner.network.crs import unproject_xy
from planner.network.graph import WalkNetwork, build_walk_network
from planner.params import PlanParams, WalkProfile
from planner.schema import RawNetwork

UTM = "EPSG:32648"
X0, Y0 = 404000.0, 3392000.0  # central Chengdu in UTM 48N
SHARED_OSM = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"


def raw_from_xy(x_m: np.ndarray, y_m: np.ndarray, u: np.ndarray, v: np.ndarray,
                highway: np.ndarray | None = None) -> RawNetwork:
    """RawNetwork from metric coordinates (offset into central Chengdu, UTM 48N)."""
    lon, lat = unproject_xy(np.asarray(x_m, float) + X0, np.asarray(y_m, float) + Y0, UTM)
    m = len(u)
    return RawNetwork(
        node_id=np.arange(len(x_m), dtype=np.int64) + 1000,
        lon=lon, lat=lat,
        edge_u=np.asarray(u, dtype=np.int64), edge_v=np.asarray(v, dtype=np.int64),
        edge_highway=np.asarray(highway if highway is not None else ["residential"] * m, dtype=str),
        edge_way_id=np.arange(m, dtype=np.int64),
    )


def random_raw(rng: np.random.Generator, max_nodes: int) -> RawNetwork:
    """A random planar-ish network of 2..max_nodes nodes over 2 x 1.5 km, coordinates sometimes
    rounded to whole metres (exact ties), two segments per node on average."""
    k = int(rng.integers(2, max_nodes))
    x, y = rng.uniform(0, 2000, k).round(int(rng.integers(0, 3))), rng.uniform(0, 1500, k)
    u = rng.integers(0, k, 2 * k)
    v = (u + 1 + rng.integers(0, k - 1, 2 * k)) % k
    return raw_from_xy(x, y, u, v)


def grid_raw(nx: int, ny: int, spacing_m: float) -> RawNetwork:
    """A rectangular street grid of ``nx`` by ``ny`` nodes."""
    ii, jj = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    idx = ii * ny + jj
    u = np.concatenate([idx[:-1, :].ravel(), idx[:, :-1].ravel()])
    v = np.concatenate([idx[1:, :].ravel(), idx[:, 1:].ravel()])
    return raw_from_xy(ii.ravel() * spacing_m, jj.ravel() * spacing_m, u, v)


def lonlat_points(x_m: np.ndarray, y_m: np.ndarray) -> gpd.GeoSeries:
    """WGS-84 points from the same local metric frame as :func:`raw_from_xy`."""
    lon, lat = unproject_xy(np.asarray(x_m, float) + X0, np.asarray(y_m, float) + Y0, UTM)
    return gpd.GeoSeries(shapely.points(lon, lat), crs="EPSG:4326")


def square_lonlat(x0: float, y0: float, x1: float, y1: float) -> shapely.Geometry:
    """A WGS-84 polygon of a local metric rectangle."""
    xs = np.array([x0, x1, x1, x0])
    ys = np.array([y0, y0, y1, y1])
    lon, lat = unproject_xy(xs + X0, ys + Y0, UTM)
    return shapely.Polygon(np.column_stack([lon, lat]))


@pytest.fixture
def grid3() -> WalkNetwork:
    """3 x 3 grid, 60 m edges at 1 m/s: every node-to-node time is a whole minute.

    ::

        2 -- 5 -- 8
        |    |    |
        1 -- 4 -- 7
        |    |    |
        0 -- 3 -- 6
    """
    return build_walk_network(grid_raw(3, 3, 60.0), WalkProfile(speed_m_s=1.0), crs=UTM)


@pytest.fixture
def default_params() -> PlanParams:
    """Default analysis parameters."""
    return PlanParams()


@pytest.fixture
def rng() -> np.random.Generator:
    """Seeded generator."""
    return np.random.default_rng(20261123)


@pytest.fixture(scope="session")
def chengdu_osm() -> Path:
    """The real central-Chengdu OSM XML extract (skips when ../shared is absent)."""
    path = SHARED_OSM / "chengdu_center_2018.osm"
    if not path.is_file():
        pytest.skip(f"real OSM data not found at {path} (needs ../shared beside the checkout)")
    return path
